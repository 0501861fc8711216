"""``paradec simulate STUDY``: Monte Carlo studies of the commit rules on exact worlds.

Writes ``<out>/<STUDY>.csv`` and ``<out>/<STUDY>.json`` (seed, parameters, package version
and checks beside the table), prints the headline columns, and exits 1 if a check the
theory guarantees (e.g. zero violations for certified rules) failed. Existing tables are
refused before the study runs, unless ``--overwrite``.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

STUDY_NAMES = ("certificates", "frontier", "bonus", "conservatism", "freedave_subset")


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "simulate", help="Monte Carlo studies of the commit rules on worlds with known truth",
        description=__doc__.split("\n")[0].replace("``", ""))
    p.add_argument("study", choices=STUDY_NAMES, help="which study to run")
    p.add_argument("--n", type=int, default=None,
                   help="sequences per configuration (default: the study's own, < 1 min)")
    p.add_argument("--seed", type=int, default=0, help="seed; equal seeds give equal tables")
    p.add_argument("--out", default="runs/simulate", help="output folder (default: %(default)s)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the study's tables in --out if they exist")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from paradec.commands.outputs import check_output, replacing
    from simulate.studies import STUDIES, format_table, write_result

    if args.n is not None and args.n < 1:
        raise ValueError(f"--n must be >= 1, got {args.n}")
    if args.seed < 0:
        raise ValueError(f"--seed must be >= 0, got {args.seed}")
    tables = [Path(args.out) / f"{args.study}.{ext}" for ext in ("csv", "json")]
    for path in tables:
        check_output(path, "--out", overwrite=args.overwrite)
    kwargs: dict[str, Any] = {"seed": args.seed, "show_progress": not args.no_progress}
    if args.n is not None:
        kwargs["n"] = args.n
    result = STUDIES[args.study](**kwargs)
    with replacing(*tables):
        paths = write_result(result, args.out)
    print(format_table(result))
    print(f"\nseed {args.seed}, n {result.params['n']}; wrote " + ", ".join(map(str, paths)))
    for name, ok in result.checks.items():
        print(f"check {'PASS' if ok else 'FAIL'}: {name}")
    if not result.ok:
        print(f"paradec simulate: a check failed; see {paths[1]}", file=sys.stderr)
        return 1
    return 0
