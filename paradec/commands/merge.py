"""``paradec merge``: join the rank traces of a multi-process run into one trace.

Example::

    paradec merge runs/t.parquet runs/t.rank0of2.parquet runs/t.rank1of2.parquet

Each part must be a complete rank trace of one multi-process run (its provenance records
its rank and the world size; the same model, rule, config, prompt set, batch size, seed);
every rank must be there once, no batch may repeat and the result must hold every prompt
once. The output may not be one of the parts, and an existing output is refused unless
``--overwrite`` (then replaced atomically). Otherwise nothing is written and the error
names the file and the problem. ``torchrun ... paradec decode`` runs this itself on
rank 0; the command is for merging by hand (e.g. parts from separate jobs).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "merge", help="join the rank traces of a multi-process decode into one trace",
        description=__doc__.split("\n")[0].replace("``", "") if __doc__ else None)
    p.add_argument("out", help="merged trace, OUT.parquet")
    p.add_argument("parts", nargs="+", help="rank traces (OUT.rankRofN.parquet)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing OUT (atomically, once the merge is validated)")
    p.add_argument("--remove-parts", action="store_true",
                   help="delete the parts once the merged trace is written")
    p.add_argument("--json", action="store_true", help="print one JSON summary object")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from paradec.commands.outputs import check_output
    from realmodel.trace import read_trace
    from realmodel.trace.merge import check_merge_paths, merge_traces

    check_output(check_merge_paths(args.out, args.parts), "output", overwrite=args.overwrite)
    out = merge_traces(args.out, args.parts, remove_parts=args.remove_parts)
    trace = read_trace(out)
    summary = {"trace": str(out), "rows": len(trace), "sequences": len(trace.sequences()),
               "parts": len(args.parts), "complete": trace.complete}
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"merged {summary['parts']} parts into {out}: {summary['rows']} rows, "
              f"{summary['sequences']} sequences")
    return 0
