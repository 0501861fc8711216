"""``paradec eval``: accuracy vs tokens per call of commit rules on the held-out problems.

    paradec eval [--model NAME|DIR] --rule RULE [RULE ...] [--values V ...] [--limit N]
                 [--json] [--cache none|prefix|dual] [--batch-size B]

RULE is ``static`` (one token per step), a rule name (quota, threshold, factor, frechet,
tight, entropy: its default parameter sweep, or ``--values``) or ``all``. The default model
is the shipped one. Prints a table, or with ``--json`` one object per row with keys
accuracy, calls, tokens_per_call, tokens_per_second (and rule, value, n, ...).
"""

from __future__ import annotations

import argparse
import json
from typing import Any


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("eval", help="evaluate commit rules on the shipped task",
                              description=__doc__.split("\n")[0].replace("``", ""))
    p.add_argument("--model", default=None, help="shipped model name or folder "
                   "(default: the shipped model)")
    p.add_argument("--rule", nargs="+", default=["static"],
                   help="static, all, or rule names (quota threshold factor frechet tight "
                   "entropy)")
    p.add_argument("--values", nargs="+", type=float, default=None,
                   help="parameter values (with a single rule name)")
    p.add_argument("--limit", type=int, default=None, help="first N held-out problems")
    p.add_argument("--cache", default="none", choices=("none", "prefix", "dual"))
    p.add_argument("--block-length", type=int, default=None)
    p.add_argument("--batch-size", type=int, default=500)
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    p.add_argument("--forbid-mask", action="store_true",
                   help="never predict the mask token (its logit is -inf), for a model "
                        "that predicts it at masked positions")
    p.add_argument("--json", action="store_true", help="JSON lines instead of a table")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from realmodel.engine import DecodeConfig
    from realmodel.shipped import (
        DEFAULT_MODEL,
        EvalRow,
        generation_defaults,
        heldout_problems,
        load_shipped,
        problem_prompts,
        run_sweep,
        sweep_rules,
    )

    if args.values is not None and (len(args.rule) != 1 or args.rule[0] in ("static", "all")):
        raise ValueError("--values needs exactly one rule name (not static or all)")
    for flag, value in (("--limit", args.limit), ("--threads", args.threads),
                        ("--batch-size", args.batch_size),
                        ("--block-length", args.block_length)):
        if value is not None and value < 1:
            raise ValueError(f"{flag} must be positive, got {value}")
    if args.device == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda but no CUDA device is available")
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    name = args.model or DEFAULT_MODEL
    rules = sweep_rules(args.rule, args.values)
    denoiser = load_shipped(name, device=args.device)
    problems = heldout_problems(name)[:args.limit]
    shape = generation_defaults(name)
    if args.block_length is not None:
        shape["block_length"] = args.block_length
    if not args.json:
        print(f"model {name}  problems {len(problems)}  gen_length {shape['gen_length']}  "
              f"block_length {shape['block_length']}  cache {args.cache}")
        print(f"{'rule':<24}{'accuracy':>10}{'± se':>8}{'calls':>8}{'tok/call':>10}"
              f"{'tok/s':>10}")
    for scored, _ in run_sweep(denoiser, problem_prompts(problems, denoiser), rules,
                               DecodeConfig(cache=args.cache, forbid_mask=args.forbid_mask,
                                            **shape), problems=problems,
                               batch_size=args.batch_size):
        row = EvalRow.of(scored)
        if args.json:
            print(json.dumps({"model": name, "cache": args.cache, **row.to_dict()}))
        else:
            print(f"{row.label:<24}{row.accuracy:>10.3f}{row.accuracy_se:>8.3f}"
                  f"{row.calls:>8.2f}{row.tokens_per_call:>10.2f}"
                  f"{row.tokens_per_second:>10.1f}", flush=True)
    return 0
