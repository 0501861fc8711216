"""``paradec report``: the main job; writes results.md and the documentation figures.

Runs, under one progress bar: the theory certificates, small simulate studies, then the
model (default: the shipped tiny-arith on its held-out problems) under static decoding
and every commit rule over a parameter sweep, real FreeDave decoding for K = 1, 2, 4, 8
next to the calls predicted from the static trace, and replay of that trace (exact for
the logged rule, counterfactual for the others; calibration; profile fits). Writes
``<out>/summary.json``, ``<out>/results.md`` and ``<out>/figures/``; on the embedded
defaults also ``docs/results.md`` and ``docs/figures/*.png`` (another shipped model by name,
fp32 on the CPU: ``docs/<name>/``). Exits 1 if any check failed
(e.g. FreeDave's output differs from static decoding's). See docs/report.md.

The default folders (``runs/report``, ``docs``) are the report's own and every run
regenerates them; any other ``--out`` that holds files, or ``--docs`` that holds
results.md or a figure, is refused unless ``--overwrite``. The run folder is replaced
whole: the old one is kept aside while the report runs and put back if it fails.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("report", help="run the main job; write results.md and figures",
                              description=__doc__.split("\n")[0].replace("``", ""))
    p.add_argument("--model", default="tiny-arith",
                   help="shipped model name or folder, or a LLaDA checkpoint folder "
                        "(default: %(default)s)")
    p.add_argument("--device", default="cpu", help="cpu or cuda[:i] (default: %(default)s)")
    p.add_argument("--dtype", default="float32", choices=("float32", "bfloat16", "float16"))
    p.add_argument("--prompts", default=None, metavar="FILE",
                   help="JSONL prompts (needed for a non-shipped model); without reference "
                        "answers, agreement with static decoding replaces accuracy")
    p.add_argument("--out", default="runs/report", help="run folder (default: %(default)s, "
                   "replaced by every run; another folder that holds files needs --overwrite)")
    p.add_argument("--docs", default="docs", help="where results.md and figures/ go on the "
                   "embedded defaults (default: %(default)s; another folder that holds them "
                   "needs --overwrite)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing --out folder and --docs files")
    p.add_argument("--problems", type=int, default=200,
                   help="prompts decoded (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="seed of every random part")
    p.add_argument("--rows", type=int, default=100_000,
                   help="random profiles in the ordering check (default: %(default)s)")
    p.add_argument("--lp-instances", type=int, default=200,
                   help="random marginal matrices solved by LP (default: %(default)s)")
    p.add_argument("--n", type=int, default=None, help="sequences per configuration in "
                   "the simulate studies (default: each study's own)")
    p.add_argument("--sweep", default="full", choices=("full", "tiny"),
                   help="rule parameter sweep (default: %(default)s)")
    p.add_argument("--batch-size", type=int, default=200, help="decode batch size")
    p.add_argument("--gen-length", type=int, default=None,
                   help="generated tokens (default: the shipped model's, else 256)")
    p.add_argument("--block-length", type=int, default=None,
                   help="LLaDA block length (default: the shipped model's, else 32)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch CPU threads (default: %(default)s)")
    p.add_argument("--cache", default="none", choices=("none", "prefix", "dual"),
                   help="KV cache of every decode run (default: %(default)s)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from paradec.commands.outputs import replacing
    from paradec.report import ReportOptions, run_report

    opts = ReportOptions(model=args.model, device=args.device, dtype=args.dtype,
                         prompts=args.prompts, out=args.out, docs=args.docs,
                         problems=args.problems, seed=args.seed, rows=args.rows,
                         lp_instances=args.lp_instances, n=args.n, sweep=args.sweep,
                         batch_size=args.batch_size, gen_length=args.gen_length,
                         block_length=args.block_length, threads=args.threads,
                         cache=args.cache)
    _check_outputs(opts, args.overwrite)
    with replacing(opts.out_dir):
        summary = run_report(opts, progress=not args.no_progress)
    for r in summary["sections"].values():
        print(f"[{'ok' if r['ok'] else 'FAILED'}] {r['title']} ({r['seconds']:.1f} s): "
              f"{r['line']}")
    where = opts.out_dir / "results.md"
    print(f"wrote {where}" + (f" and {opts.docs_dir / 'results.md'}" if opts.docs_dir else "")
          + f" in {summary['seconds']:.0f} s")
    failed = [r["title"] for r in summary["sections"].values() if not r["ok"]]
    if failed:
        print(f"paradec report: failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def _check_outputs(opts: Any, overwrite: bool) -> None:
    """The run folder and the published docs files: the defaults are regenerated, other
    folders that hold them need --overwrite; the inputs may not lie in the run folder."""
    from pathlib import Path

    from paradec.commands.outputs import check_output
    from paradec.figures import FIGURES
    from paradec.report import ReportOptions

    default = ReportOptions()
    own = Path(opts.out).resolve() == Path(default.out).resolve()
    check_output(opts.out_dir, "--out", overwrite=overwrite or own, folder=True,
                 inputs=[("--model", opts.model if Path(opts.model).exists() else None),
                         ("--prompts", opts.prompts)])
    if opts.docs_dir is not None:
        own = Path(opts.docs).resolve() == Path(default.docs).resolve()
        for name in ("results.md", *(f"figures/{f}.png" for f in FIGURES)):
            check_output(opts.docs_dir / name, "--docs", overwrite=overwrite or own)
