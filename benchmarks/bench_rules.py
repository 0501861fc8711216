"""Every commit rule on 4096 rows x 256 positions: batched numpy and torch-CPU against
per-row loops over the same rule, all measured in one run on one thread.

Baselines (measured on a subsample of rows; rates are positions per second):
  loop-ref   theory.bruteforce.commit_counts_reference: the definition-literal pure-Python
             loop (each prefix's condition evaluated from scratch, as the rule table of
             docs/theory.md, section 2, defines n)
  loop-np    theory.commit called on one row at a time (numpy inside, Python loop outside)

Usage: python benchmarks/bench_rules.py [--rows 4096] [--m 256] [--loop-rows 64] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from theory import (  # noqa: E402
    EntropyBound,
    Factor,
    Frechet,
    Profile,
    Quota,
    Threshold,
    TightCertificate,
    commit,
    profile_from_logits,
)
from theory.bruteforce import commit_counts_reference  # noqa: E402

RULES = [Quota(4), Threshold(0.9), Factor(1.0), Frechet(0.1), TightCertificate(0.1),
         EntropyBound(0.5)]


def best_time(fn: Callable[[], object], repeat: int = 5) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def make_profile(rows: int, m: int, V: int, seed: int) -> Profile:
    """Heterogeneous profiles: per-position temperature spreads confidences over (0, 1)."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(rows, m, V)) * rng.uniform(0.5, 8.0, size=(rows, m, 1))
    return profile_from_logits(logits)


def row(profile: Profile, i: int) -> Profile:
    return Profile(*(getattr(profile, f)[i:i + 1] for f in
                     ("tokens", "c", "log_r", "s", "H", "valid")))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=4096)
    ap.add_argument("--m", type=int, default=256)
    ap.add_argument("--loop-rows", type=int, default=64)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)
    profile = make_profile(args.rows, args.m, 16, seed=0)
    tprofile = Profile(*(torch.from_numpy(np.asarray(getattr(profile, f))) for f in
                         ("tokens", "c", "log_r", "s", "H", "valid")))
    sub = Profile(*(getattr(profile, f)[:args.loop_rows] for f in
                    ("tokens", "c", "log_r", "s", "H", "valid")))
    positions, sub_positions = args.rows * args.m, args.loop_rows * args.m
    results = []
    for rule in RULES:
        batched = commit(rule, profile).n
        assert np.array_equal(np.asarray(commit(rule, tprofile).n), batched)
        assert np.array_equal(commit_counts_reference(rule, sub), batched[:args.loop_rows])
        t_np = best_time(lambda rule=rule: commit(rule, profile))
        t_torch = best_time(lambda rule=rule: commit(rule, tprofile))
        t_ref = best_time(lambda rule=rule: commit_counts_reference(rule, sub), repeat=1)
        t_row = best_time(lambda rule=rule: [commit(rule, row(sub, i))
                                             for i in range(args.loop_rows)], repeat=2)
        rate = {"numpy": positions / t_np, "torch_cpu": positions / t_torch,
                "loop_ref": sub_positions / t_ref, "loop_np": sub_positions / t_row}
        results.append({"rule": rule.label(), "positions_per_second": rate,
                        "speedup_numpy_vs_loop_ref": rate["numpy"] / rate["loop_ref"],
                        "speedup_numpy_vs_loop_np": rate["numpy"] / rate["loop_np"],
                        "speedup_torch_vs_loop_ref": rate["torch_cpu"] / rate["loop_ref"]})
    if args.json:
        print(json.dumps({"rows": args.rows, "m": args.m, "threads": 1, "results": results},
                         indent=2))
        return
    print(f"{args.rows} rows x {args.m} positions, 1 thread; rates in million positions/s")
    print(f"{'rule':<22}{'numpy':>8}{'torch':>8}{'loop-ref':>10}{'loop-np':>9}"
          f"{'np/ref':>9}{'np/np-row':>10}{'torch/ref':>10}")
    for res in results:
        r = res["positions_per_second"]
        print(f"{res['rule']:<22}{r['numpy'] / 1e6:>8.1f}{r['torch_cpu'] / 1e6:>8.1f}"
              f"{r['loop_ref'] / 1e6:>10.3f}{r['loop_np'] / 1e6:>9.3f}"
              f"{res['speedup_numpy_vs_loop_ref']:>8.0f}x"
              f"{res['speedup_numpy_vs_loop_np']:>9.0f}x{res['speedup_torch_vs_loop_ref']:>9.0f}x")


if __name__ == "__main__":
    main()
