"""Joining trace pieces: the batch parts of one run, or the rank files of a multi-process run.

Pieces are put together by :func:`realmodel.trace.io.join`, the one place that does it
(the batch parts of one run as well). The coverage check (no missing or duplicate
sequences) is :func:`realmodel.trace.check.check_table`'s, run on the joined table before
anything is marked complete.

:func:`merge_traces` (``paradec merge``; rank 0 of ``torchrun ... paradec decode``) joins
the complete rank files of one multi-process run (and nothing else: a single-process or
an already merged trace has no rank) into one complete trace.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from realmodel.trace.check import check_table
from realmodel.trace.io import (
    fsync_dir,
    join,
    remove_stale_temporaries,
    write_atomic,
)
from realmodel.trace.parquet import read_trace
from realmodel.trace.schema import SCHEMA, SCHEMA_VERSION, TraceError

__all__ = ["check_merge_paths", "merge_traces"]


def check_merge_paths(out: str | Path, parts: Sequence[str | Path]) -> Path:
    """``out`` as a Path if it may receive the merge of ``parts``: it ends in .parquet,
    there is at least one part and ``out`` is none of them; ValueError otherwise."""
    out = Path(out)
    if out.suffix != ".parquet":
        raise ValueError(f"merged trace path {out} must end in .parquet")
    if not parts:
        raise ValueError("no trace parts to merge")
    for p in map(Path, parts):
        if p.absolute() == out.absolute() or (p.exists() and out.exists()
                                              and p.samefile(out)):
            raise ValueError(f"part {p} would be overwritten by the merged trace {out}: "
                             "write the output elsewhere")
    return out


def merge_traces(out: str | Path, parts: Sequence[str | Path], *,
                 remove_parts: bool = False) -> Path:
    """Join the rank traces ``parts`` of one multi-process run into one complete trace
    ``out`` (atomic write).

    Every part must be a complete rank trace (its provenance records ``rank`` and
    ``world_size`` > 1, as ``torchrun ... paradec decode`` writes them) of the same run
    apart from its rank; the ranks must be exactly 0 .. world_size - 1, each once; no
    batch may repeat, the result must hold every prompt of the run once (no gaps), and
    ``out`` may not be one of the parts. Raises :class:`realmodel.trace.TraceError`
    naming the file and the problem. ``remove_parts`` deletes the parts once ``out`` is
    durable.
    """
    out = check_merge_paths(out, parts)
    remove_stale_temporaries(out.parent, out.name)     # a merge that was killed
    traces = [read_trace(Path(p)) for p in parts]
    for t in traces:
        if not t.complete:
            raise TraceError(f"{t.path}: incomplete trace (its run was interrupted); finish "
                             "it with --resume before merging")
        _check_rank_part(t, TraceError)
    ranks = [t.provenance["rank"] for t in traces]
    world = traces[0].provenance["world_size"]
    if len(set(ranks)) != len(ranks):
        dup = next(r for r in ranks if ranks.count(r) > 1)
        paths = [str(t.path) for t, r in zip(traces, ranks, strict=True) if r == dup]
        raise TraceError(f"rank {dup} appears in more than one part: {paths}")
    missing = sorted(set(range(world)) - set(ranks))
    if missing:
        raise TraceError(f"ranks {missing} of world size {world} are missing from the parts")
    tables = join([(t.path, t.table, t.provenance) for t in traces],
                  ignore=("rank",))
    meta = {k: v for k, v in traces[0].provenance.items() if k != "rank"}
    meta.update(complete=True, schema_version=SCHEMA_VERSION,
                merged_from=[Path(p).name for p in parts])
    whole = pa.concat_tables(tables) if tables else SCHEMA.empty_table()
    check_table(whole, meta, str(out))
    write_atomic(out, SCHEMA, tables, meta)
    if remove_parts:
        for p in parts:
            Path(p).unlink(missing_ok=True)
        fsync_dir(out.parent)
    return out


def _check_rank_part(trace: Any, error: type[Exception]) -> None:
    """A rank part records an integer ``world_size`` > 1 and a ``rank`` inside it."""
    rank, world = trace.provenance.get("rank"), trace.provenance.get("world_size")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (rank, world)) or \
            not 0 <= rank < world or world < 2:
        raise error(f"{trace.path}: not a rank part of a multi-process run (rank {rank!r}, "
                    f"world_size {world!r} in its provenance; a single-process or merged "
                    "trace has no rank); merge joins the OUT.rankRofN.parquet files of one "
                    "torchrun decode")
