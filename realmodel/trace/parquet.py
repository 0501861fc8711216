"""Confidence traces: what every decoding step saw and did, on disk (Parquet).

One row per (sequence, step) at which the sequence had masked positions in its active
window. Columns (schema version :data:`SCHEMA_VERSION`):

=============  ===============  ======================================================
sequence       int64            index of the prompt in the run
batch, row     int32            batch number and row inside it
block          int32            active block
step           int32            the sequence's own step (0, 1, ...)
block_step     int32            step t inside the block (LLaDA's quota index)
calls          int64            batched forward calls so far, this one included
refresh        bool             this step's forward ran on the whole canvas
k              int32            quota k_t of LLaDA's schedule, -1 for other rules
positions      list<int32>      masked positions of the active window (0 = first generated)
tokens         list<int64>      the token each would be committed to (argmax or drawn)
runner_up      list<int64>      the most likely other token (FreeDave's runner-up drafts)
c, log_r, s,   list<double>     confidence, log residual mass, runner-up, entropy (nats)
H
committed      list<int32>      positions committed, in the rule's order
final          bool             last row of the sequence: the columns below are set
prompt_ids,    list<int64>      prompt and generated tokens (null unless final)
generated
answer         string           reference answer, if any (null unless final)
=============  ===============  ======================================================

Run provenance (paradec version, model id / revision / file hash / config, dtype, device,
seed, rule and parameters, cache mode, block size, library versions) is JSON in the
file's key-value metadata under ``paradec.trace``. From a row, ``theory.commit`` of any
rule on :meth:`TraceStep.profile` replays that rule's decision at that state exactly.

:class:`TraceWriter` writes every finished batch at once as its own small Parquet file
``<out>.partial/part-BBBBBB.parquet`` (B = batch index) and on close merges them into
``<out>`` (one row group per batch); every file write is atomic and checksummed
(:mod:`realmodel.trace.io`), so a process killed at any moment loses at most the batch in
flight, and ``TraceWriter(..., resume=True)`` continues where it stopped (docs/reliability.md).
:func:`read_trace` reads either the file or the folder.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from realmodel.engine import DecodeState, StepRecord
from realmodel.engine.config import deterministic_reason
from realmodel.engine.prompts import SequenceResult
from realmodel.trace.check import check_table
from realmodel.trace.io import (
    METADATA_KEY,
    fsync_dir,
    join,
    provenance,
    read_file,
    remove_stale_temporaries,
    run_mismatch,
    write_atomic,
    write_json_atomic,
)
from realmodel.trace.schema import SCHEMA, SCHEMA_VERSION, TraceError
from theory import Profile
from theory.rules import sort_order

__all__ = ["SCHEMA_VERSION", "SCHEMA", "METADATA_KEY", "TraceError", "TraceWriter",
           "TraceStep", "Trace", "read_trace", "provenance"]

_MANIFEST = "run.json"

class TraceWriter:
    """Streams step records to ``path`` (context manager; see the module docstring).

    ``resume=True`` continues the run that a killed process left in ``<path>.partial/``
    (or finds ``path`` already complete): the provenance must match on every run-defining
    field (:data:`realmodel.trace.io.RUN_FIELDS`), else ValueError naming the field.
    ``done`` holds the batch indices already on disk and ``finished`` says that ``path``
    is complete; set ``batch`` to the index of the next batch before decoding it (it
    advances by one after each batch, so sequential callers need not).
    """

    def __init__(self, path: str | Path, provenance: dict[str, Any], *,
                 resume: bool = False) -> None:
        self.path = Path(path)
        if self.path.suffix != ".parquet":
            raise ValueError(f"trace path {self.path} must end in .parquet")
        self.parts = self.path.with_name(self.path.name + ".partial")
        self.provenance = {**provenance, "schema_version": SCHEMA_VERSION}
        self.done: set[int] = set()
        self.finished = False
        self.batch = 0
        self._rows: list[dict[str, Any]] = []
        self._closed = False
        if resume:
            self._resume()
        elif self.parts.exists():
            raise ValueError(f"{self.parts} exists: an interrupted run left it (read_trace "
                             f"reads it); continue that run with --resume (same arguments), "
                             f"or move or delete it before writing {self.path}")
        if not self.finished:
            self.parts.mkdir(parents=True, exist_ok=True)
            manifest = self.parts / _MANIFEST
            if not manifest.exists():
                write_json_atomic(manifest, self.provenance)

    @property
    def batches(self) -> int:
        """Finished batches on disk."""
        return len(self.done)

    def _same_run(self, meta: dict[str, Any], where: Path) -> None:
        diff = run_mismatch(meta, self.provenance)
        if diff is not None:
            raise ValueError(f"cannot resume: {where} is from a different run ({diff}; "
                             f"stored != now); use the original arguments, or write to "
                             f"another --trace")

    def _resume(self) -> None:
        remove_stale_temporaries(self.path.parent, self.path.name)
        if self.parts.is_dir():
            remove_stale_temporaries(self.parts)
            manifest = self.parts / _MANIFEST
            if manifest.exists():
                try:
                    meta = json.loads(manifest.read_bytes())
                except (json.JSONDecodeError, UnicodeDecodeError) as err:
                    raise TraceError(f"{manifest}: corrupted run record ({err})") from None
                self._same_run(meta, manifest)
            for f in sorted(self.parts.glob("part-*.parquet")):
                table, meta = read_file(f, TraceError)
                self._same_run(meta, f)
                check_table(table, meta, str(f))
                if meta.get("batch") != int(f.stem.split("-")[1]):
                    raise TraceError(f"{f}: holds batch {meta.get('batch')}, not the batch "
                                     "its name says")
                self.done.add(int(meta["batch"]))
            if self.path.is_file():
                # killed after the final rename, before the .partial folder was removed
                try:
                    trace = read_trace(self.path)
                except TraceError:
                    return          # a stale or torn older file: rewritten on close
                if trace.complete and run_mismatch(trace.provenance, self.provenance) is None:
                    self._finish_cleanup(trace)
        elif self.path.is_file():
            trace = read_trace(self.path)
            self._same_run(trace.provenance, self.path)
            if not trace.complete:
                raise TraceError(f"{self.path}: an incomplete trace without its .partial "
                                 "folder; it cannot be resumed (delete it and decode again)")
            self._finish_cleanup(trace)

    def _finish_cleanup(self, trace: Trace) -> None:
        self.done = set(np.unique(trace.table.column("batch").to_numpy()).tolist())
        self.finished = self._closed = True
        if self.parts.exists():
            shutil.rmtree(self.parts)
            fsync_dir(self.path.parent)

    def begin_batch(self, batch: int) -> None:
        """The records that follow belong to batch ``batch``."""
        self.batch = batch

    def record(self, state: DecodeState, step: StepRecord) -> None:
        if step.runner_up is None or not state.record:
            raise ValueError("this step was not recorded (DecodeState.record is False): its "
                             "runner-up tokens and entropies were not computed")
        valid = step.valid.cpu().numpy()
        p = step.profile
        arrays = {name: getattr(p, name).detach().cpu().numpy()
                  for name in ("tokens", "c", "log_r", "s", "H")}
        arrays["runner_up"] = step.runner_up.cpu().numpy()
        order = step.commit.order.cpu().numpy()
        mask = step.commit.mask.cpu().numpy()
        k, row_steps = step.k.cpu().numpy(), step.row_steps.cpu().numpy()
        for b in np.flatnonzero(valid.any(-1)):
            idx = np.flatnonzero(valid[b])
            picked = [int(j) for j in order[b] if mask[b, j]]
            self._rows.append({
                "sequence": state.rows[b], "batch": self.batch, "row": int(b),
                "block": step.block, "step": int(row_steps[b]), "block_step": step.t,
                "calls": step.calls, "refresh": step.refresh, "k": int(k[b]),
                "positions": (idx + step.window_start).tolist(),
                **{name: arrays[name][b, idx].tolist() for name in arrays},
                "committed": [j + step.window_start for j in picked], "final": False,
                "prompt_ids": None, "generated": None, "answer": None})

    def end_batch(self, state: DecodeState, sequences: Sequence[SequenceResult]) -> None:
        if self.finished or self.batch in self.done:
            raise RuntimeError(f"batch {self.batch} of {self.path} is already on disk")
        last: dict[int, int] = {}
        for i, row in enumerate(self._rows):
            last[row["sequence"]] = i
        for seq in sequences:
            if seq.row not in last:
                raise RuntimeError(f"sequence {seq.row} finished without a recorded step")
            row = self._rows[last[seq.row]]
            row.update(final=True, prompt_ids=seq.prompt_ids, generated=seq.generated,
                       answer=seq.answer)
        table = pa.Table.from_pylist(self._rows, schema=SCHEMA)
        write_atomic(self.parts / f"part-{self.batch:06d}.parquet", SCHEMA, [table],
                     {**self.provenance, "batch": self.batch, "complete": False})
        self._rows = []
        self.done.add(self.batch)
        self.batch += 1

    def close(self, complete: bool = True) -> Path:
        """Merge the finished batches into ``path`` (atomically; the joined table is
        validated first, so a gap or a duplicate is never marked complete). With
        ``complete=False`` (a run that stopped early) the ``.partial`` folder stays for
        ``--resume`` and read_trace; its path is returned."""
        if self._closed:
            return self.path
        self._closed = True
        self._rows = []
        if not complete:
            return self.parts
        pieces = [(f, *read_file(f, TraceError))
                  for f in sorted(self.parts.glob("part-*.parquet"))]
        tables = join(pieces)
        meta = {**self.provenance, "complete": True}
        whole = pa.concat_tables(tables) if tables else SCHEMA.empty_table()
        check_table(whole, meta, str(self.path))
        write_atomic(self.path, SCHEMA, tables, meta)
        shutil.rmtree(self.parts)
        fsync_dir(self.path.parent)
        return self.path

    def __enter__(self) -> TraceWriter:
        return self

    def __exit__(self, kind: Any, value: Any, tb: Any) -> None:
        self.close(complete=kind is None)


@dataclass(frozen=True)
class TraceStep:
    """One row: arrays of shape (m,) over the masked positions of the active window."""

    sequence: int
    block: int
    step: int
    block_step: int
    calls: int
    refresh: bool
    k: int
    positions: np.ndarray
    tokens: np.ndarray
    runner_up: np.ndarray
    c: np.ndarray
    log_r: np.ndarray
    s: np.ndarray
    H: np.ndarray
    committed: np.ndarray

    @property
    def n(self) -> int:
        return len(self.committed)

    def profile(self) -> Profile:
        """A one-row ``theory.Profile`` (float64) of this step, for replaying rules."""
        return Profile(tokens=self.tokens[None], c=self.c[None], log_r=self.log_r[None],
                       s=self.s[None], H=self.H[None],
                       valid=np.ones((1, len(self.c)), dtype=bool))

    def commit_mask(self) -> np.ndarray:
        """(m,) bool: which of ``positions`` were committed."""
        return np.isin(self.positions, self.committed)


class Trace:
    """A validated trace: ``provenance`` (dict) and ``table`` (pyarrow.Table)."""

    def __init__(self, table: pa.Table, provenance: dict[str, Any], path: Path) -> None:
        self.table, self.provenance, self.path = table, provenance, path

    def __len__(self) -> int:
        return self.table.num_rows

    @property
    def complete(self) -> bool:
        """Whether the run finished: every prompt is in the trace. A ``.partial`` folder
        (or a run that stopped early) holds only its finished batches."""
        return bool(self.provenance.get("complete", False))

    def require_complete(self, purpose: str) -> None:
        """Raise :class:`TraceError` when the trace is incomplete, naming ``purpose``."""
        if not self.complete:
            n = len(np.unique(self.table.column("sequence").to_numpy()))
            total = self.provenance.get("n_prompts")
            raise TraceError(f"{self.path}: incomplete trace ({n}"
                             + ("" if total is None else f" of {total}")
                             + f" sequences; the run was interrupted): {purpose} needs a "
                             "complete trace; finish the run with paradec decode ... --resume")

    def steps(self, sequence: int | None = None) -> Iterator[TraceStep]:
        """Rows in file order (one sequence's rows are in step order)."""
        table = self.table
        if sequence is not None:
            seq = table.column("sequence").to_numpy()
            table = table.take(np.flatnonzero(seq == sequence))
        cols = {name: table.column(name).to_pylist() for name in
                ("sequence", "block", "step", "block_step", "calls", "refresh", "k",
                 "positions", "tokens", "runner_up", "c", "log_r", "s", "H", "committed")}
        for i in range(table.num_rows):
            yield TraceStep(
                sequence=cols["sequence"][i], block=cols["block"][i], step=cols["step"][i],
                block_step=cols["block_step"][i], calls=cols["calls"][i],
                refresh=cols["refresh"][i], k=cols["k"][i],
                positions=np.asarray(cols["positions"][i], dtype=np.int64),
                tokens=np.asarray(cols["tokens"][i], dtype=np.int64),
                runner_up=np.asarray(cols["runner_up"][i], dtype=np.int64),
                c=np.asarray(cols["c"][i], dtype=np.float64),
                log_r=np.asarray(cols["log_r"][i], dtype=np.float64),
                s=np.asarray(cols["s"][i], dtype=np.float64),
                H=np.asarray(cols["H"][i], dtype=np.float64),
                committed=np.asarray(cols["committed"][i], dtype=np.int64))

    def static_trace(self, sequence: int) -> Any:
        """``theory.freedave.trace.StaticTrace`` of one sequence: per step the window in
        the rule's ranking under F_j, its argmax and runner-up tokens, and how many
        positions the rule committed (1 for static decoding). The run must be a
        deterministic decoding (:func:`realmodel.engine.config.deterministic_reason`).
        FreeDave's call count over the run's rule, for any K, follows from it without
        the model."""
        from theory.freedave.trace import StaticStep, StaticTrace
        from theory.rules import RULES

        decode = self.provenance["decode"]
        reason = deterministic_reason(decode)
        if reason is not None:
            raise ValueError(f"{self.path}: not a deterministic run: {reason}")
        by_entropy = bool(RULES[decode["rule"]["name"]].by_entropy)  # the rule's ranking
        steps = []
        for st in self.steps(sequence):
            order = sort_order(st.profile(), by_entropy)[0]
            n = len(st.committed)
            if sorted(st.positions[order[:n]].tolist()) != sorted(st.committed.tolist()):
                raise TraceError(f"{self.path}: sequence {sequence} step {st.step} committed "
                                 f"{st.committed.tolist()}, not its {n} top-ranked positions")
            steps.append(StaticStep(step=st.step, block=st.block,
                                    positions=st.positions[order], tokens=st.tokens[order],
                                    runner_up=st.runner_up[order], n=n))
        if not steps:
            raise ValueError(f"{self.path}: no steps for sequence {sequence}")
        return StaticTrace(tuple(steps))

    def sequences(self) -> list[dict[str, Any]]:
        """Final rows, by sequence: sequence, steps, prompt_ids, generated, answer."""
        final = self.table.filter(self.table.column("final"))
        rows = final.select(["sequence", "step", "prompt_ids", "generated", "answer"])
        out = rows.to_pylist()
        for r in out:
            r["steps"] = r.pop("step") + 1
        return sorted(out, key=lambda r: r["sequence"])


def read_trace(path: str | Path) -> Trace:
    """Read and validate a trace (a ``.parquet`` file, or the ``.partial`` folder a crashed
    run left: its finished batches, ``complete`` False). Page checksums and the content
    digest are verified. Raises FileNotFoundError or :class:`TraceError` naming the file
    and the problem; never returns partial data marked complete."""
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    if not path.exists() and partial.is_dir():
        path = partial
    if path.is_dir():
        files = sorted(path.glob("part-*.parquet"))
        if not files:
            raise TraceError(f"{path}: no finished batches (part-*.parquet) in this folder")
        pieces = [(f, *read_file(f, TraceError)) for f in files]
        tables = join(pieces)
        table = pa.concat_tables(tables)
        meta = {**pieces[-1][2], "complete": False}
        meta.pop("batch", None)
    elif path.is_file():
        table, meta = read_file(path, TraceError)
    else:
        raise FileNotFoundError(f"no trace at {path}")
    check_table(table, meta, str(path))
    return Trace(table, meta, path)
