"""``paradec lm-eval``: any lm-eval generation task, decoded by paradec.

    paradec lm-eval --model_args model=PATH,rule=frechet,delta=0.1,cache=dual,freedave=4 \\
        --tasks gsm8k --batch_size 8 --output_path results.json --log_samples

lm-eval's own evaluator runs (``lm_eval.simple_evaluate``) with the ``paradec`` model; the
shipped offline tasks ``paradec_arith`` and ``paradec_words`` are always on the task path.
The results JSON is lm-eval's, with per-request statistics in each sample's ``paradec``
entry and a ``paradec`` summary (docs/lm_eval.md).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from paradec.commands.outputs import check_output, replacing


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "lm-eval", help="evaluate with lm-evaluation-harness (generation tasks)",
        description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--model_args", default="", metavar="K=V,...",
                   help="paradec.lmeval.args.LMArgs: model, rule, k|tau|f|delta|gamma, steps, "
                        "cache, block, gen_length, freedave, freedave_accept, draft, verify, "
                        "dtype, device, seed, temperature, eos, chat, trace")
    p.add_argument("--tasks", required=True, help="comma-separated lm-eval task names")
    p.add_argument("--batch_size", type=int, default=1)
    p.add_argument("--limit", type=float, help="first N documents per task (or a fraction)")
    p.add_argument("--num_fewshot", type=int)
    p.add_argument("--include_path", action="append", default=[],
                   help="a folder of task YAMLs (paradec's own tasks are always included)")
    p.add_argument("--apply_chat_template", action="store_true",
                   help="lm-eval formats each prompt with the model's chat template")
    p.add_argument("--log_samples", action="store_true",
                   help="keep every sample (with paradec's per-request statistics)")
    p.add_argument("--output_path", help="write the results JSON here")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print the results JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.batch_size < 1:
        raise ValueError(f"--batch_size must be >= 1, got {args.batch_size}")
    if args.output_path:
        check_output(args.output_path, "--output_path", overwrite=args.overwrite)
    from paradec.lmeval.run import evaluate

    limit = None if args.limit is None else (int(args.limit) if args.limit >= 1 else args.limit)
    results = evaluate(args.model_args, [t for t in args.tasks.split(",") if t],
                       batch_size=args.batch_size, limit=limit, num_fewshot=args.num_fewshot,
                       log_samples=args.log_samples, include_path=args.include_path,
                       apply_chat_template=args.apply_chat_template, seed=args.seed)
    text = json.dumps(results, indent=1, default=str)
    if args.output_path:
        with replacing(args.output_path):
            Path(args.output_path).write_text(text + "\n")
    if args.json:
        print(text)
        return 0
    from lm_eval.utils import make_table

    print(make_table(results))
    totals = results["paradec"]["totals"]
    print(f"paradec: {totals['requests']} requests, {totals['calls']} forward calls "
          f"({totals['sequence_calls']} per-request), {totals.get('tokens_per_call', 0):.2f} "
          f"tokens per call, {totals['wall_seconds']:.1f} s", file=sys.stdout)
    return 0
