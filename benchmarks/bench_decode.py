"""Decode-engine benchmark: rules x KV-cache modes x dtypes, ratios measured in one run.

A seeded random LLaDA-shaped model (realmodel.model.tiny.bench_config: d 512, 8 layers, vocab
8192, ~36M parameters) decodes the same prompts with static decoding (quota 1), threshold
0.9 and Fréchet 0.25, each with cache none / prefix / dual, in float32 and bfloat16.
Reported per configuration: forward calls, tokens per call, wall seconds (device
synchronised), the share of wall time spent inside forward calls (the rest is the
engine's own work between forwards; the shipped-model table also gives both per call
in milliseconds), and ratios against static decoding without cache in
the same dtype (calls and wall time) and against the same rule without cache (wall time,
and the share of tokens that equal the uncached run's: caches change the function being
decoded).

Every configuration runs at each batch size of ``--batch`` (default 1 and 8: that many
random prompts of the same length, decoded together).

A second table (``--shipped``) decodes the shipped model ``tiny-arith`` (498k parameters:
its forward is a few milliseconds, so the engine's own work shows) on its first 16
held-out prompts at batch 1: static decoding, threshold 0.9 and exact FreeDave K = 4 over
static decoding, caches none and dual, with the same columns.

A third table measures batch invariance: prompts decoded alone vs together in one
left-padded batch, share of generated tokens that differ, per dtype and cache mode.

Run:  PYTHONPATH=. python benchmarks/bench_decode.py [--quick] [--shipped]
                                               [--json OUT [--overwrite]]
The random model's confidences are shaped by its logit scale, not by language: calls per
rule are mechanics, not a quality claim.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from paradec.commands.outputs import check_output
from realmodel.engine import DecodeConfig, Engine, decode
from realmodel.engine.prompts import Prompt
from realmodel.machine import describe_cpu
from realmodel.model.denoiser import LLaDADenoiser
from realmodel.model.tiny import bench_config, random_llada, tiny_config
from theory import make_rule

RULES = {"static": ("quota", 1), "threshold 0.9": ("threshold", 0.9),
         "frechet 0.25": ("frechet", 0.25)}
CACHES = ("none", "prefix", "dual")
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}


@dataclass(frozen=True)
class Setup:
    gen_length: int = 256
    block_length: int = 32
    prompt_length: int = 64
    batches: tuple[int, ...] = (1, 8)
    logit_scale: float = 10.0
    seed: int = 0
    quick: bool = False
    dtypes: tuple[str, ...] = ("float32", "bfloat16")
    invariance_prompts: int = 4


def make_model(setup: Setup, dtype: torch.dtype) -> LLaDADenoiser:
    config = tiny_config(d_model=64, vocab_size=256) if setup.quick else bench_config()
    model = random_llada(config, seed=setup.seed, logit_scale=setup.logit_scale, dtype=dtype)
    return LLaDADenoiser(model, name="bench-random")


def make_prompts(setup: Setup, vocab: int, lengths: list[int] | None = None) -> list[Prompt]:
    gen = torch.Generator().manual_seed(setup.seed + 1)
    lengths = lengths or [setup.prompt_length]
    return [Prompt(ids=tuple(torch.randint(4, vocab, (n,), generator=gen).tolist()),
                   name=f"random-{i}") for i, n in enumerate(lengths)]


def compute_matrix(setup: Setup) -> list[dict[str, Any]]:
    """One row per (dtype, batch, rule, cache); ratios against this run's own baselines."""
    rows = []
    for dtype_name in setup.dtypes:
        denoiser = make_model(setup, DTYPES[dtype_name])
        decode(denoiser, make_prompts(setup, denoiser.vocab_size),
               DecodeConfig(gen_length=setup.block_length,
                            block_length=setup.block_length))  # warm-up
        for batch in setup.batches:
            prompts = make_prompts(setup, denoiser.vocab_size, [setup.prompt_length] * batch)
            outputs: dict[tuple[str, str], list[list[int]]] = {}
            for label, (rule, value) in RULES.items():
                for cache in CACHES:
                    config = DecodeConfig(rule=make_rule(rule, value),
                                          gen_length=setup.gen_length,
                                          block_length=setup.block_length, cache=cache)
                    result = decode(denoiser, prompts, config, batch_size=batch)
                    outputs[label, cache] = [s.generated for s in result.sequences]
                    rows.append({"dtype": dtype_name, "batch": batch, "rule": label,
                                 "cache": cache, **_timings(result),
                                 "agree_with_none": _agreement(outputs[label, cache],
                                                               outputs[label, "none"])})
    for row in rows:
        base = _find(rows, row["dtype"], row["batch"], "static", "none")
        same = _find(rows, row["dtype"], row["batch"], row["rule"], "none")
        row["calls_vs_static_none"] = base["calls"] / row["calls"]
        row["speed_vs_static_none"] = base["wall_s"] / row["wall_s"]
        row["speed_vs_rule_none"] = same["wall_s"] / row["wall_s"]
    return rows


def _timings(result: Any) -> dict[str, Any]:
    return {"calls": result.calls, "tokens": result.generated_tokens,
            "tokens_per_call": result.tokens_per_call, "wall_s": result.wall_seconds,
            "forward_share": result.forward_seconds / result.wall_seconds,
            "forward_ms_per_call": 1e3 * result.forward_seconds / result.calls,
            "engine_ms_per_call": 1e3 * (result.wall_seconds - result.forward_seconds)
            / result.calls,
            "tokens_per_s": result.tokens_per_second}


def compute_shipped(name: str = "tiny-arith", n_prompts: int = 16, K: int = 4
                    ) -> list[dict[str, Any]]:
    """The shipped model at batch 1: static, threshold 0.9 and FreeDave K over static
    decoding, caches none and dual (float32); ratios against static without cache."""
    from realmodel.freedave import FreeDaveConfig, freedave_decode
    from realmodel.models import load_denoiser
    from realmodel.shipped import generation_defaults, heldout_problems, problem_prompts

    denoiser = load_denoiser(name)
    prompts = problem_prompts(heldout_problems(name)[:n_prompts], denoiser)
    lengths = generation_defaults(name)
    rows = []
    for cache in ("none", "dual"):
        for label in ("static", "threshold 0.9", f"freedave K={K}"):
            rule = make_rule(*RULES["static" if label.startswith("freedave") else label])
            engine = Engine(denoiser, DecodeConfig(rule=rule, cache=cache, **lengths))
            run: Callable[[], Any] = (lambda e=engine: e.decode(prompts)) \
                if not label.startswith("freedave") else \
                (lambda e=engine: freedave_decode(e, FreeDaveConfig(K=K), prompts).result)
            run()  # warm-up
            result = run()
            rows.append({"model": name, "rule": label, "cache": cache, **_timings(result),
                         "generated": [s.generated for s in result.sequences]})
    base = next(r for r in rows if (r["rule"], r["cache"]) == ("static", "none"))
    for row in rows:
        row["calls_vs_static_none"] = base["calls"] / row["calls"]
        row["speed_vs_static_none"] = base["wall_s"] / row["wall_s"]
        same = next(r for r in rows if r["cache"] == row["cache"] and r["rule"] == "static")
        row["same_as_static"] = row["generated"] == same["generated"]
    for row in rows:
        del row["generated"]
    return rows


def compute_invariance(setup: Setup, rule: str = "threshold 0.9") -> list[dict[str, Any]]:
    """Share of generated tokens that differ between decoding alone and in one batch."""
    rows = []
    n = setup.invariance_prompts
    lengths = [max(1, setup.prompt_length * (n - i) // n) for i in range(n)]
    name, value = RULES[rule]
    for dtype_name in setup.dtypes:
        denoiser = make_model(setup, DTYPES[dtype_name])
        prompts = make_prompts(setup, denoiser.vocab_size, lengths)
        for cache in CACHES:
            blocks = max(1, setup.gen_length // 4 // setup.block_length)
            config = DecodeConfig(rule=make_rule(name, value),
                                  gen_length=blocks * setup.block_length,
                                  block_length=setup.block_length, cache=cache)
            alone = decode(denoiser, prompts, config, batch_size=1)
            batch = decode(denoiser, prompts, config, batch_size=len(prompts))
            a = [s.generated for s in alone.sequences]
            b = [s.generated for s in batch.sequences]
            rows.append({"dtype": dtype_name, "cache": cache, "rule": rule,
                         "mismatch_rate": 1 - _agreement(a, b),
                         "sequences_differing": sum(x != y for x, y in zip(a, b, strict=True)),
                         "sequences": len(a), "tokens": sum(map(len, a))})
    return rows


def _agreement(a: list[list[int]], b: list[list[int]]) -> float:
    pairs = [(x, y) for s, t in zip(a, b, strict=True) for x, y in zip(s, t, strict=True)]
    return sum(x == y for x, y in pairs) / len(pairs)


def _find(rows: list[dict[str, Any]], dtype: str, batch: int, rule: str, cache: str
          ) -> dict[str, Any]:
    return next(r for r in rows
                if (r["dtype"], r["batch"], r["rule"], r["cache"]) == (dtype, batch, rule, cache))


def format_tables(matrix: list[dict[str, Any]], invariance: list[dict[str, Any]],
                  shipped: list[dict[str, Any]] | None = None) -> str:
    lines = []
    if matrix:
        lines += ["| dtype | batch | rule | cache | calls | tokens/call | wall s | "
                  "forward share | tokens/s | calls ratio | speed vs static none | "
                  "speed vs rule none | tokens = uncached |",
                  "|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in matrix:
        lines.append(f"| {r['dtype']} | {r['batch']} | {r['rule']} | {r['cache']} | "
                     f"{r['calls']} | {r['tokens_per_call']:.2f} | {r['wall_s']:.1f} | "
                     f"{r['forward_share']:.3f} | {r['tokens_per_s']:.1f} "
                     f"| {r['calls_vs_static_none']:.2f}x | {r['speed_vs_static_none']:.2f}x | "
                     f"{r['speed_vs_rule_none']:.2f}x | {r['agree_with_none']:.1%} |")
    if shipped:
        lines += ["", "| model (batch 1) | rule | cache | calls | tokens/call | wall s | "
                  "forward share | ms per call: forward / engine | calls ratio | "
                  "speed vs static none | output = static |",
                  "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]
        for r in shipped:
            lines.append(f"| {r['model']} | {r['rule']} | {r['cache']} | {r['calls']} | "
                         f"{r['tokens_per_call']:.2f} | {r['wall_s']:.2f} | "
                         f"{r['forward_share']:.3f} | {r['forward_ms_per_call']:.2f} / "
                         f"{r['engine_ms_per_call']:.2f} | {r['calls_vs_static_none']:.2f}x | "
                         f"{r['speed_vs_static_none']:.2f}x | "
                         f"{'yes' if r['same_as_static'] else 'no'} |")
    if invariance:
        lines += ["", "| dtype | cache | rule | tokens differing alone vs batch | sequences "
                  "differing |", "|---|---|---|---:|---:|"]
    for r in invariance:
        lines.append(f"| {r['dtype']} | {r['cache']} | {r['rule']} | {r['mismatch_rate']:.2%} "
                     f"of {r['tokens']} | {r['sequences_differing']} of {r['sequences']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="tiny model (d 64, 2 layers, vocab 256); defaults 32 / 8 / 12")
    parser.add_argument("--gen-length", type=int, help="default 256")
    parser.add_argument("--block", type=int, help="default 32")
    parser.add_argument("--prompt-length", type=int, help="default 64")
    parser.add_argument("--invariance-prompts", type=int, default=4)
    parser.add_argument("--invariance-only", action="store_true")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--dtypes", nargs="+", choices=tuple(DTYPES), default=list(DTYPES))
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 8],
                        help="batch sizes of the matrix (default 1 8)")
    parser.add_argument("--skip-matrix", action="store_true")
    parser.add_argument("--shipped", action="store_true",
                        help="also the shipped-model table (tiny-arith, batch 1, FreeDave)")
    parser.add_argument("--skip-invariance", action="store_true")
    parser.add_argument("--json", help="also write all numbers here")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --json file")
    args = parser.parse_args(argv)
    if args.json:
        check_output(args.json, "--json", overwrite=args.overwrite)  # before any work
    torch.set_num_threads(args.threads)
    defaults = (32, 8, 12) if args.quick else (256, 32, 64)
    setup = Setup(gen_length=args.gen_length or defaults[0],
                  block_length=args.block or defaults[1],
                  prompt_length=args.prompt_length or defaults[2], quick=args.quick,
                  logit_scale=4.0 if args.quick else 10.0, dtypes=tuple(args.dtypes),
                  invariance_prompts=args.invariance_prompts, batches=tuple(args.batch))
    tic = time.perf_counter()
    matrix = [] if args.invariance_only or args.skip_matrix else compute_matrix(setup)
    shipped = compute_shipped() if args.shipped else []
    invariance = [] if args.skip_invariance else compute_invariance(setup)
    env = {"setup": vars(setup), "threads": torch.get_num_threads(), "torch": torch.__version__,
           "machine": platform.machine(), "cpu": describe_cpu(),
           "total_s": time.perf_counter() - tic}
    print(format_tables(matrix, invariance, shipped))
    print(f"\n{json.dumps(env)}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"env": env, "matrix": matrix, "shipped": shipped,
                       "invariance": invariance}, fh, indent=1)


if __name__ == "__main__":
    main()
