"""FreeDave benchmark: static decoding vs FreeDave K = 2, 4, 8 (both verify modes), one run.

A seeded random LLaDA-shaped model (or ``--model`` a LLaDA folder) decodes the same prompts
statically (quota 1) and with FreeDave, per cache mode. Reported per configuration: batched
calls, states evaluated, wall seconds (device synchronised), tokens per second, whether the
output equals static decoding token for token, the calls theory predicts from the static
trace, and the ratios static / FreeDave for calls and wall time.

``--bf16``: also decode in bfloat16 and report, per configuration, the share of generated
tokens that differ from fp32 static decoding and from bf16 static decoding, and at each
sequence's first departure from bf16 static decoding the reference step's margins: token
margin log(c / s) at the committed position and ranking margin log r(rank 2) - log r(rank 1).

Run:  PYTHONPATH=. python benchmarks/bench_freedave.py [--quick] [--bf16] [--json OUT [--overwrite]]
Random weights give rankings that do not predict the next steps, so acceptance is short:
the call ratios here are mechanics, not the paper's number on a trained model.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
from typing import Any

import torch

from paradec.commands.outputs import check_output
from realmodel.engine import DecodeConfig, Engine, decode
from realmodel.engine.prompts import Prompt
from realmodel.freedave import FreeDaveConfig, freedave_decode
from realmodel.model.denoiser import LLaDADenoiser
from realmodel.model.tiny import random_llada, tiny_config
from realmodel.models import load_denoiser
from realmodel.shipped import generation_defaults, heldout_problems, is_shipped, problem_prompts
from theory.freedave.core import FreeDave
from theory.freedave.trace import StaticStep, StaticTrace, predicted_calls


class Steps:
    """In-memory trace sink: per sequence, the committed (position, token) and margins."""

    def __init__(self) -> None:
        self.rows: dict[int, list[tuple[int, int, float, float]]] = {}
        self.ranked: dict[int, list[StaticStep]] = {}

    def begin_batch(self, batch: int) -> None:
        pass

    def record(self, state: Any, step: Any) -> None:
        p, com = step.profile, step.commit
        for b in range(p.c.shape[0]):
            m = int(p.valid[b].sum())
            if m == 0:
                continue
            order = com.order[b, :m].tolist()
            j = order[0]
            c, s = float(p.c[b, j]), float(p.s[b, j])
            token_margin = math.log(c / s) if s > 0 else math.inf
            rank_margin = float(p.log_r[b, order[1]] - p.log_r[b, j]) if m > 1 else math.inf
            seq = state.rows[b]
            self.rows.setdefault(seq, []).append(
                (j + step.window_start, int(p.tokens[b, j]), token_margin, rank_margin))
            steps = self.ranked.setdefault(seq, [])
            steps.append(StaticStep(len(steps), step.block,
                                    tuple(q + step.window_start for q in order),
                                    tuple(int(p.tokens[b, q]) for q in order)))

    def end_batch(self, state: Any, sequences: Any) -> None:
        pass


def departures(ours: Steps, ref: Steps) -> list[dict[str, float]]:
    """First step where each sequence leaves the reference path, with ref's margins."""
    out = []
    for seq, steps in ours.rows.items():
        for j, (a, b) in enumerate(zip(steps, ref.rows[seq], strict=False)):
            if a[:2] != b[:2]:
                out.append({"sequence": seq, "step": j, "token_margin": b[2],
                            "rank_margin": b[3], "kind": "token" if a[0] == b[0] else "rank"})
                break
    return out


def mismatch(a: list[list[int]], b: list[list[int]]) -> float:
    n = sum(len(x) for x in a)
    return sum(u != v for x, y in zip(a, b, strict=True) for u, v in zip(x, y, strict=True)) / n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", help="a LLaDA folder or a shipped model name such as "
                    "tiny-arith (default: a random tiny LLaDA)")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--bf16", action="store_true")
    ap.add_argument("--caches", default="none,prefix,dual")
    ap.add_argument("--prompts", type=int, default=4)
    ap.add_argument("--batch-size", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json")
    ap.add_argument("--overwrite", action="store_true", help="replace an existing --json file")
    args = ap.parse_args()
    if args.json:
        check_output(args.json, "--json", overwrite=args.overwrite)  # before any work
    torch.set_num_threads(args.threads)
    L, W = (16, 8) if args.quick else (64, 16)

    def model(dtype: torch.dtype) -> Any:
        if args.model:
            return load_denoiser(args.model, dtype="bfloat16" if dtype == torch.bfloat16
                                 else "float32")
        config = tiny_config(d_model=128, n_layers=4, n_heads=4, vocab_size=256)
        return LLaDADenoiser(random_llada(config, seed=0, logit_scale=6.0, dtype=dtype),
                             name="bench-random")

    fp32 = model(torch.float32)
    if args.model and is_shipped(args.model):  # held-out problems at the trained shape
        prompts = problem_prompts(heldout_problems(args.model)[:args.prompts], fp32)
        L, W = generation_defaults(args.model)["gen_length"], \
            generation_defaults(args.model)["block_length"]
    else:
        gen = torch.Generator().manual_seed(7)
        prompts = [Prompt(ids=torch.randint(4, 250, (n,), generator=gen).tolist(), name=f"r{n}")
                   for n in (8, 13, 5, 10, 7, 12, 9, 6)[:args.prompts]]
    dtypes = [("float32", fp32)] + ([("bfloat16", model(torch.bfloat16))] if args.bf16 else [])
    rows: list[dict[str, Any]] = []
    print(f"# bench_freedave: L={L} block={W} prompts={len(prompts)} batch={args.batch_size} "
          f"threads={args.threads} {platform.processor() or platform.machine()}")
    print(f"{'dtype':8} {'cache':6} {'config':27} {'calls':>5} {'pred':>5} {'states':>6} "
          f"{'wall_s':>7} {'tok/s':>7} {'calls_x':>7} {'wall_x':>6} same  mis_fp32")
    for cache in args.caches.split(","):
        config = DecodeConfig(gen_length=L, block_length=W, cache=cache)
        ref_steps = Steps()
        ref = decode(fp32, prompts, config, batch_size=args.batch_size, trace=ref_steps)
        ref_out = [s.generated for s in ref.sequences]
        for dname, den in dtypes:
            st_steps = Steps()
            static = decode(den, prompts, config, batch_size=args.batch_size, trace=st_steps)
            st_out = [s.generated for s in static.sequences]
            report = _row(dname, cache, "static", static.calls, static.calls, None,
                          static.wall_seconds, static, static, st_out == st_out,
                          mismatch(st_out, ref_out))
            report["departures_vs_fp32"] = departures(st_steps, ref_steps)
            rows.append(report)
            for verify in ("batch", "tree-attention"):
                for K in (2, 4, 8):
                    fd_steps = Steps()
                    run = freedave_decode(Engine(den, config), FreeDaveConfig(K, verify=verify),
                                          prompts, batch_size=args.batch_size, trace=fd_steps)
                    out = [s.generated for s in run.result.sequences]
                    pred = sum(predicted_calls(StaticTrace(tuple(st)),
                                               FreeDave(K, refresh=cache != "none")).calls
                               for st in st_steps.ranked.values())
                    report = _row(dname, cache, f"freedave K={K} {verify}", run.result.calls,
                                  pred, run.total_states, run.result.wall_seconds, run.result,
                                  static, out == st_out, mismatch(out, ref_out))
                    report["mismatch_vs_static_same_dtype"] = mismatch(out, st_out)
                    report["departures_vs_static_same_dtype"] = departures(fd_steps, st_steps)
                    rows.append(report)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)


def _row(dtype: str, cache: str, name: str, calls: int, pred: int, states: int | None,
         wall: float, result: Any, static: Any, same: bool, mis: float) -> dict[str, Any]:
    tps = result.tokens_per_second
    row = {"dtype": dtype, "cache": cache, "config": name, "calls": calls, "predicted": pred,
           "states": states, "wall_seconds": wall, "tokens_per_second": tps,
           "calls_ratio": static.calls / calls, "wall_ratio": static.wall_seconds / wall,
           "identical_to_static": same, "mismatch_vs_fp32_static": mis}
    print(f"{dtype:8} {cache:6} {name:27} {calls:5d} {pred:5d} {states or '':>6} {wall:7.2f} "
          f"{tps:7.1f} {row['calls_ratio']:7.2f} {row['wall_ratio']:6.2f} {str(same):5} "
          f"{mis:.3f}")
    return row


if __name__ == "__main__":
    main()
