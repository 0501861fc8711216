"""Validation of a trace table against its schema and the math (used by read_trace).

Every check names the file, the column and the first offending row. Values are checked
against what a profile must satisfy: c in [0, 1], c + r = 1 with r = exp(log r), 0 <= s <=
r, H >= 0, tokens inside the vocabulary, positions inside the generated region and the
row's block, committed positions a subset of the masked ones.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from realmodel.trace.schema import SCHEMA, SCHEMA_VERSION, TraceError

__all__ = ["check_table", "expected_sequences"]

_LISTS = ("positions", "tokens", "runner_up", "c", "log_r", "s", "H")
_REQUIRED_META = ("model", "decode", "dtype", "device", "libraries")
_TOL = 1e-6


def check_table(table: pa.Table, meta: dict[str, Any], name: str) -> None:
    """Raise :class:`TraceError` naming the first problem of ``table`` / ``meta``."""
    schema, version, error = SCHEMA, SCHEMA_VERSION, TraceError

    def fail(problem: str, row: int | None = None, column: str | None = None) -> None:
        where = "" if row is None else f" (row {row}" + ("" if column is None else
                                                           f", column {column}") + ")"
        raise error(f"trace {name}: {problem}{where}")

    got = meta.get("schema_version")
    if got is None:
        fail("no schema version in the provenance (not written by paradec, or damaged)")
    if got != version:
        fail(f"schema version {got!r}; this paradec reads version {version}"
             + (" (written by a newer paradec)" if isinstance(got, int) and got > version
                else ""))
    missing = [k for k in _REQUIRED_META if k not in meta]
    if missing:
        fail(f"provenance lacks {', '.join(missing)}")
    _check_columns(table, schema, fail)
    if table.num_rows == 0:
        _check_coverage(np.zeros(0, dtype=np.int64), meta, fail)
        return
    _check_lists(table, meta, fail)
    _check_sequences(table, meta, fail)


def _check_columns(table: pa.Table, schema: pa.Schema, fail: Any) -> None:
    names = set(table.column_names)
    missing = [f.name for f in schema if f.name not in names]
    if missing:
        fail(f"missing columns {missing}")
    extra = sorted(names - set(schema.names))
    if extra:
        fail(f"unknown columns {extra}")
    for field in schema:
        got = table.schema.field(field.name).type
        if got != field.type:
            fail(f"column {field.name} has type {got}, expected {field.type}")
    for col in ("sequence", "block", "step", "calls", "final", *_LISTS, "committed"):
        nulls = table.column(col).null_count
        if nulls:
            first = int(np.flatnonzero(table.column(col).is_null().to_numpy(
                zero_copy_only=False))[0])
            fail("null value", first, col)


def _flat(table: pa.Table, col: str) -> np.ndarray:
    return pc.list_flatten(table.column(col)).to_numpy(zero_copy_only=False)


def _first(bad: np.ndarray, owner: np.ndarray) -> int:
    return int(owner[np.flatnonzero(bad)[0]])


def _check_lists(table: pa.Table, meta: dict[str, Any], fail: Any) -> None:
    lengths = {c: pc.list_value_length(table.column(c)).to_numpy(zero_copy_only=False)
               for c in (*_LISTS, "committed")}
    for col in _LISTS[1:]:
        bad = lengths[col] != lengths["positions"]
        if bad.any():
            fail(f"list length of {col} differs from positions", int(np.flatnonzero(bad)[0]),
                 col)
    owner = np.repeat(np.arange(table.num_rows), lengths["positions"])
    c, log_r, s, H = (_flat(table, k) for k in ("c", "log_r", "s", "H"))
    r = np.exp(np.minimum(log_r, 0.0))
    checks = [
        ("c", ~((c >= 0) & (c <= 1)), "confidence c outside [0, 1]"),
        ("log_r", ~(log_r <= 1e-9), "log r > 0 (residual mass above 1)"),
        ("log_r", ~(np.abs(c + r - 1) <= 1e-5), "c + exp(log r) != 1"),
        ("s", ~((s >= 0) & (s <= r * (1 + _TOL) + 1e-12)), "runner-up s outside [0, r]"),
        ("H", ~(H >= -1e-9), "negative or NaN entropy H"),
    ]
    for col, bad, problem in checks:
        if bad.any():
            fail(problem, _first(bad, owner), col)
    vocab = meta.get("vocab_size")
    for col in ("tokens", "runner_up"):
        tokens = _flat(table, col)
        bad = (tokens < 0) | ((tokens >= vocab) if isinstance(vocab, int) else False)
        if bad.any():
            fail(f"token id outside the vocabulary 0..{vocab}", _first(bad, owner), col)
    bad = _flat(table, "tokens") == _flat(table, "runner_up")
    if bad.any():
        fail("runner-up token equals the token", _first(bad, owner), "runner_up")
    decode = meta["decode"]
    L, B = decode.get("gen_length"), decode.get("block_length")
    pos = _flat(table, "positions")
    block = np.repeat(table.column("block").to_numpy(), lengths["positions"])
    bad = (pos < block * B) | (pos >= (block + 1) * B) | (pos >= L)
    if bad.any():
        fail(f"position outside its block (block length {B}, gen length {L})",
             _first(bad, owner), "positions")
    same_row = owner[1:] == owner[:-1]
    bad = same_row & (np.diff(pos) <= 0)
    if bad.any():
        fail("positions not strictly increasing", _first(bad, owner[1:]), "positions")
    committed = _flat(table, "committed")
    c_owner = np.repeat(np.arange(table.num_rows), lengths["committed"])
    key = owner * (L + 1) + pos
    c_key = c_owner * (L + 1) + committed
    bad = ~np.isin(c_key, key)
    if bad.any():
        fail("committed position is not a masked position of the step", _first(bad, c_owner),
             "committed")
    if len(np.unique(c_key)) != len(c_key):
        fail("a position is committed twice in one step")
    k = table.column("k").to_numpy()
    bad = (lengths["positions"] > 0) & (lengths["committed"] == 0) & (k != 0)
    if bad.any():
        fail("a step with masked positions committed nothing", int(np.flatnonzero(bad)[0]),
             "committed")


def _check_sequences(table: pa.Table, meta: dict[str, Any], fail: Any) -> None:
    seq = table.column("sequence").to_numpy()
    step = table.column("step").to_numpy()
    final = table.column("final").to_numpy(zero_copy_only=False)
    L = meta["decode"].get("gen_length")
    generated = table.column("generated")
    lengths = pc.list_value_length(generated).to_numpy(zero_copy_only=False)
    is_null = generated.is_null().to_numpy(zero_copy_only=False)
    batch = table.column("batch").to_numpy()
    uniq, first = np.unique(seq, return_index=True)
    home = batch[first][np.searchsorted(uniq, seq)]      # batch of each sequence's 1st row
    other = batch != home
    if other.any():
        i = int(np.flatnonzero(other)[0])
        fail(f"sequence {seq[i]} appears in batches {home[i]} and {batch[i]} (duplicate "
             "sequence)", i, "batch")
    for s in np.unique(seq):
        rows = np.flatnonzero(seq == s)
        if not np.array_equal(step[rows], np.arange(len(rows))):
            fail(f"sequence {s}: steps are not 0, 1, 2, ... in file order", int(rows[0]),
                 "step")
        ends = rows[final[rows]]
        if len(ends) and (len(ends) > 1 or ends[0] != rows[-1]):
            fail(f"sequence {s}: the final row must be its last row", int(ends[0]), "final")
    unfinished = sorted(set(np.unique(seq).tolist()) - set(seq[final].tolist()))
    if unfinished:
        fail(f"sequences {unfinished[:10]} have no final row (a batch was cut short)")
    _check_coverage(seq[final], meta, fail)
    bad = final & (is_null | (lengths != L))
    if bad.any():
        fail(f"final row without {L} generated tokens", int(np.flatnonzero(bad)[0]),
             "generated")
    bad = ~final & ~is_null
    if bad.any():
        fail("generated tokens on a row that is not final", int(np.flatnonzero(bad)[0]),
             "generated")


def expected_sequences(meta: dict[str, Any]) -> list[int] | None:
    """The prompt indices a complete trace with provenance ``meta`` must hold: batches
    of ``batch_size`` over ``n_prompts`` prompts, those with index = rank mod world_size
    when ``rank`` is set (a rank file). None when the provenance does not say."""
    n, size = meta.get("n_prompts"), meta.get("batch_size")
    if not isinstance(n, int) or not isinstance(size, int) or size < 1:
        return None
    rank, world = meta.get("rank"), meta.get("world_size") or 1
    out: list[int] = []
    for b, lo in enumerate(range(0, n, size)):
        if rank is None or b % int(world) == int(rank):
            out.extend(range(lo, min(n, lo + size)))
    return out


def _check_coverage(finished: np.ndarray, meta: dict[str, Any], fail: Any) -> None:
    """A complete trace holds every expected sequence once; no trace holds others."""
    got = set(finished.tolist())
    expected = expected_sequences(meta)
    if expected is None:
        if meta.get("complete") and got and got != set(range(max(got) + 1)):
            fail(f"marked complete but sequences {sorted(set(range(max(got))) - got)[:10]} "
                 "are missing (a gap)")
        return
    extra = sorted(got - set(expected))
    if extra:
        fail(f"sequences {extra[:10]} do not belong to this run (n_prompts "
             f"{meta.get('n_prompts')}, batch size {meta.get('batch_size')})")
    missing = sorted(set(expected) - got)
    if meta.get("complete") and missing:
        fail(f"marked complete but {len(missing)} sequences are missing, first "
             f"{missing[:10]} (a gap)")
