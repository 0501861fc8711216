"""A 2-process torchrun decode simulated inside one test process (shared by the merge tests)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import realmodel.trace.merge


def decode_as_two_ranks(mp: pytest.MonkeyPatch, decode: Callable[[str], None],
                        out: Path) -> list[Path]:
    """Run ``decode(trace_path)`` as rank 1, then rank 0, of a 2-process run: no process
    group, and rank 0's merge into ``out`` keeps the rank parts. Returns the parts."""
    merge = realmodel.trace.merge.merge_traces
    mp.setattr(realmodel.trace.merge, "merge_traces",
               lambda target, parts, remove_parts: merge(target, parts))
    mp.setattr("realmodel.distributed.World.init", lambda self, device: None)
    mp.setattr("realmodel.distributed.World.barrier", lambda self: None)
    for r in (1, 0):
        mp.setenv("RANK", str(r))
        mp.setenv("WORLD_SIZE", "2")
        decode(str(out))
    mp.delenv("RANK")
    mp.delenv("WORLD_SIZE")
    return [out.with_name(f"{out.stem}.rank{r}of2.parquet") for r in (0, 1)]
