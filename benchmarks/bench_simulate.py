"""Benchmark: batched decoding simulation against a one-sequence-at-a-time loop.

Decodes ``--rows`` sequences of ``--gen-length`` tokens (V = ``--V``) with one rule on one
random chain, vectorised over sequences, then decodes the first ``--loop-rows`` of the same
prompts one at a time, in the same run, and reports seconds per sequence for both and
their ratio (wall clock and CPU time: on a shared machine the CPU time is the steadier
figure). Every decode includes the simulator's bookkeeping (per-step joint-mode check,
whole-sequence mode) unless ``--no-check``. The loop's tokens must equal the batch's.

    PYTHONPATH=. python benchmarks/bench_simulate.py                 # the issue's setting
    PYTHONPATH=. python benchmarks/bench_simulate.py --rows 1000 --loop-rows 20
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np

from paradec.commands.outputs import check_output
from simulate import ChainDenoiser, DecodeConfig, decode, random_chain
from theory import make_rule


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rows", type=int, default=10_000)
    p.add_argument("--loop-rows", type=int, default=100)
    p.add_argument("--gen-length", type=int, default=64)
    p.add_argument("--block-length", type=int, default=32)
    p.add_argument("--V", type=int, default=16)
    p.add_argument("--rho", type=float, default=0.5)
    p.add_argument("--rule", default="frechet")
    p.add_argument("--value", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-check", action="store_true", help="skip the joint-mode bookkeeping")
    p.add_argument("--json", default=None, help="also write the result here")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --json file")
    args = p.parse_args()
    if args.json:
        check_output(args.json, "--json", overwrite=args.overwrite)  # before any work

    rng = np.random.default_rng(args.seed)
    chain = random_chain(args.V, args.rho, rng)
    den = ChainDenoiser(chain)
    prompts = chain.sample(args.rows, 4, rng)
    rule = make_rule(args.rule, args.value)
    check = not args.no_check
    config = DecodeConfig(args.gen_length, args.block_length, check_modes=check, whole_mode=check)

    t0, c0 = time.perf_counter(), time.process_time()
    batch = decode(den, prompts, rule, config)
    t_batch, c_batch = time.perf_counter() - t0, time.process_time() - c0

    t0, c0 = time.perf_counter(), time.process_time()
    same = True
    for b in range(args.loop_rows):
        one = decode(den, prompts[b:b + 1], rule, config)
        same &= bool((one.tokens[0] == batch.tokens[b]).all())
    t_loop, c_loop = time.perf_counter() - t0, time.process_time() - c0

    per_batch, per_loop = t_batch / args.rows, t_loop / args.loop_rows
    result = {"rows": args.rows, "gen_length": args.gen_length,
              "block_length": args.block_length, "V": args.V, "rho": args.rho,
              "rule": rule.label(), "check": check, "seed": args.seed,
              "batch_seconds": t_batch, "batch_cpu_seconds": c_batch,
              "batch_ms_per_sequence": 1e3 * per_batch,
              "loop_rows": args.loop_rows, "loop_ms_per_sequence": 1e3 * per_loop,
              "loop_cpu_ms_per_sequence": 1e3 * c_loop / args.loop_rows,
              "speedup": per_loop / per_batch,
              "cpu_speedup": (c_loop / args.loop_rows) / (c_batch / args.rows),
              "loop_equals_batch": same,
              "tokens_per_call": float(batch.tokens_per_call.mean()),
              "cpu_count": os.cpu_count(), "platform": platform.platform(),
              "load_average": os.getloadavg()[0]}
    print(json.dumps(result, indent=1))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=1)


if __name__ == "__main__":
    main()
