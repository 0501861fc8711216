"""Compute-aware K on the shipped model: static decoding vs FreeDave K = 2, 4, 8 vs
``--freedave auto``, fp32 and bf16, batch 1 and batch 200, per cache mode, in one run.

Every configuration decodes the same held-out problems; a FreeDave run's output must equal
the rule's own decoding token for token (the script fails otherwise). Wall time is the
best of ``--repeats`` runs (device synchronised; the fixed widths run ``--fixed-repeats``
times at the large batch, where each takes several times the rule's time); ratios are the
rule alone's wall time over the configuration's, measured in this run. The rule alone and
auto run back to back in each repeat, and ``paired`` is the median over repeats of their
ratio (drift between repeats cancels). Auto starts from scratch in every run: it times the
rule's first block, probes one other call size and learns the draft gains within the run.

Run alone on the machine:  PYTHONPATH=. python benchmarks/freedave_auto.py [--quick]
Markdown table on stdout (the CPU named in its first line), ``--json OUT`` for the rows
(``--overwrite`` to replace an existing file).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

import torch

from paradec.commands.outputs import check_output
from realmodel.engine import DecodeConfig, Engine
from realmodel.freedave import FreeDaveBlocks, FreeDaveConfig
from realmodel.machine import describe_cpu
from realmodel.models import load_denoiser
from realmodel.shipped import generation_defaults, heldout_problems, problem_prompts
from theory import make_rule

MODEL = "tiny-arith"


def _timed(engine: Engine, prompts: list[Any], batch: int, strategy: Any) -> tuple[Any, float]:
    tic = time.perf_counter()
    result = engine.decode(prompts, batch_size=batch, strategy=strategy)
    return result, time.perf_counter() - tic


def _cell(dtype: str, cache: str, batch: int, n: int, rule: Any, repeats: int,
          fixed_repeats: int) -> list[dict[str, Any]]:
    den = load_denoiser(MODEL, dtype=dtype)
    g = generation_defaults(MODEL)
    prompts = problem_prompts(heldout_problems(MODEL)[:n], den)
    engine = Engine(den, DecodeConfig(rule=rule, gen_length=g["gen_length"],
                                      block_length=g["block_length"], cache=cache))
    configs: list[tuple[str, Any]] = [("rule alone", None)]
    configs += [("FreeDave auto", lambda: FreeDaveBlocks(FreeDaveConfig(8, auto=True)))]
    configs += [(f"FreeDave K={K}", lambda K=K: FreeDaveBlocks(FreeDaveConfig(K)))
                for K in (2, 4, 8)]
    best: dict[str, float] = {}
    results: dict[str, Any] = {}
    widths: dict[str, Any] = {}
    pairs: list[float] = []
    for r in range(repeats):  # interleaved, so drift hits every configuration alike
        walls = {}
        for name, make in configs:
            if name.startswith("FreeDave K=") and r >= fixed_repeats:
                continue
            strategy = None if make is None else make()
            result, wall = _timed(engine, prompts, batch, strategy)
            best[name] = min(best.get(name, float("inf")), wall)
            walls[name] = wall
            results[name] = result
            if strategy is not None and strategy.auto is not None:
                widths[name] = strategy.auto.describe()
        pairs.append(walls["rule alone"] / walls["FreeDave auto"])
    ref = [s.generated for s in results["rule alone"].sequences]
    rows = []
    for name, _ in configs:
        same = [s.generated for s in results[name].sequences] == ref
        if not same:
            raise SystemExit(f"{name} ({dtype}, {cache}, batch {batch}) changed the output")
        rows.append({"dtype": dtype, "cache": cache, "batch": batch, "prompts": n,
                     "config": name, "calls": results[name].calls, "wall_s": best[name],
                     "speedup": best["rule alone"] / best[name], "identical": same,
                     **({"auto": widths[name], "paired": statistics.median(pairs)}
                        if name in widths else {})})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="8 prompts, batch 1 and 8, fp32")
    ap.add_argument("--rule", default="quota:1", help="RULE:VALUE decoded (default quota:1)")
    ap.add_argument("--caches", default="none,dual")
    ap.add_argument("--dtypes", default="float32,bfloat16")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--fixed-repeats", type=int, default=1,
                    help="runs of each fixed width at batch >= 100 (default 1)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json")
    ap.add_argument("--overwrite", action="store_true", help="replace an existing --json file")
    args = ap.parse_args()
    if args.json:
        check_output(args.json, "--json", overwrite=args.overwrite)  # before any work
    torch.set_num_threads(args.threads)
    name, value = args.rule.split(":")
    rule = make_rule(name, int(value) if name == "quota" else float(value))
    shapes = [(1, 8), (8, 8)] if args.quick else [(1, 16), (200, 200)]
    dtypes = ["float32"] if args.quick else args.dtypes.split(",")
    print(f"# freedave_auto: {MODEL}, rule {rule.label()}, {args.threads} threads, "
          f"best of {args.repeats}; CPU: {describe_cpu()}; torch {torch.__version__}")
    print("| dtype | cache | batch (prompts) | config | calls | wall s | speed vs rule alone "
          "| widths chosen (auto) |")
    print("|---|---|---|---|---:|---:|---:|---|")
    rows = []
    for dtype in dtypes:
        for cache in args.caches.split(","):
            for batch, n in shapes:
                fixed = args.fixed_repeats if batch >= 100 else args.repeats
                for row in _cell(dtype, cache, batch, n, rule, args.repeats, fixed):
                    rows.append(row)
                    auto = ""
                    if "auto" in row:
                        chosen = row["auto"]["widths_chosen"]
                        auto = ", ".join(f"{k}: {v}" for k, v in chosen.items()) + \
                            f" (paired {row['paired']:.2f}x)"
                    print(f"| {dtype} | {cache} | {batch} ({n}) | {row['config']} | "
                          f"{row['calls']} | {row['wall_s']:.2f} | {row['speedup']:.2f}x | "
                          f"{auto} |", flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"cpu": describe_cpu(), "torch": torch.__version__, "rows": rows}, fh,
                      indent=1)


if __name__ == "__main__":
    main()
