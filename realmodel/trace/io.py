"""Durable trace files: atomic writes, page checksums, content digests, run identity.

Every trace file paradec writes goes through :func:`write_atomic` (other files through
:func:`write_bytes_atomic`): the table is written to a hidden temporary file beside the
target (Parquet page CRC checksums on), fsync'ed, renamed over the target and the folder
fsync'ed, so a process killed at any moment leaves either the old state or the complete
new file, never a torn one (POSIX rename is atomic).

Two checks catch corruption after the fact: Parquet page checksums (verified by
:func:`read_file`) catch flipped bytes in data pages, and a SHA-256 digest over the
provenance JSON and the decoded column values (:func:`content_digest`, stored under
:data:`DIGEST_KEY`) catches everything else that changes what a reader would see.

:data:`RUN_FIELDS` are the provenance fields that define a run: two files belong to the
same run (a resumed one, or the rank files of a multi-process one) only if they agree on
all of them; :func:`run_mismatch` names the first field that differs.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from realmodel.trace.schema import SCHEMA_VERSION, TraceError

if TYPE_CHECKING:
    from realmodel.engine.config import DecodeConfig
    from realmodel.model.denoiser import Denoiser

__all__ = ["SCHEMA_VERSION", "provenance", "METADATA_KEY", "DIGEST_KEY", "RUN_FIELDS",
           "write_atomic", "read_file",
           "content_digest", "run_mismatch", "fsync_dir", "remove_stale_temporaries",
           "write_bytes_atomic", "write_json_atomic",
           "prompts_digest", "Piece", "join", "TraceError"]

METADATA_KEY = b"paradec.trace"
DIGEST_KEY = b"paradec.trace.digest"
RUN_FIELDS = ("schema_version", "model", "vocab_size", "specials", "dtype", "batch_size",
              "decode", "seed", "prompts_sha256", "n_prompts", "freedave",
              "deterministic", "world_size", "rank")
_TMP_PREFIX = ".tmp-"


def fsync_dir(folder: Path) -> None:
    """Make a rename or unlink inside ``folder`` durable (no-op where unsupported)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _temporary(path: Path) -> Path:
    return path.with_name(f"{_TMP_PREFIX}{os.getpid()}-{path.name}")


@contextmanager
def _atomic(path: Path) -> Iterator[Path]:
    """Yield a temporary beside ``path`` to write; then fsync it, rename it onto ``path``
    and fsync the folder. On any error the temporary is removed and ``path`` is untouched."""
    tmp = _temporary(path)
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    fsync_dir(path.parent)


def remove_stale_temporaries(folder: Path, name: str = "") -> list[Path]:
    """Delete temporaries that a killed writer left in ``folder`` (for target ``name``, or
    all); returns what was removed."""
    removed = []
    if folder.is_dir():
        for tmp in folder.glob(f"{_TMP_PREFIX}*"):
            target = tmp.name[len(_TMP_PREFIX):].partition("-")[2]
            if tmp.is_file() and (not name or target == name):
                tmp.unlink()
                removed.append(tmp)
    return removed


def content_digest(table: pa.Table, meta_json: bytes) -> str:
    """SHA-256 (hex) over ``meta_json`` and every column's name, type, nulls and values.

    Independent of how the table is chunked into row groups, so a file's digest can be
    checked after reading it back.
    """
    h = hashlib.sha256(meta_json)
    for name in table.column_names:
        col = table.column(name)
        kind = f"list<{col.type.value_type}>" if pa.types.is_list(col.type) else col.type
        h.update(f"|{name}:{kind}:{len(col)}|".encode())
        _feed(h, col.combine_chunks() if col.num_chunks != 1 else col.chunk(0))
    return h.hexdigest()


def _feed(h: Any, arr: pa.Array) -> None:
    h.update(np.asarray(arr.is_null().to_numpy(zero_copy_only=False), dtype=bool).tobytes())
    if pa.types.is_list(arr.type):
        lengths = pc.list_value_length(arr).fill_null(0).to_numpy(zero_copy_only=False)
        h.update(np.asarray(lengths, dtype=np.int64).tobytes())
        _feed(h, pc.list_flatten(arr))
    elif pa.types.is_string(arr.type):
        for value in arr.to_pylist():
            data = b"" if value is None else value.encode()
            h.update(len(data).to_bytes(8, "little") + data)
    else:
        fill = False if pa.types.is_boolean(arr.type) else 0
        h.update(np.ascontiguousarray(arr.fill_null(fill).to_numpy(zero_copy_only=False))
                 .tobytes())


def write_atomic(path: Path, schema: pa.Schema, tables: Iterable[pa.Table],
                 meta: dict[str, Any]) -> Path:
    """Write ``tables`` (one row group each) to ``path`` atomically, with page checksums,
    ``meta`` as JSON under :data:`METADATA_KEY` and the digest under :data:`DIGEST_KEY`."""
    parts = [t.replace_schema_metadata(None).cast(schema) for t in tables]
    whole = pa.concat_tables(parts) if parts else schema.empty_table()
    raw = json.dumps(meta, sort_keys=True, default=str).encode()
    digest = content_digest(whole, raw).encode()
    with _atomic(path) as tmp:
        with pq.ParquetWriter(tmp, schema.with_metadata({METADATA_KEY: raw, DIGEST_KEY: digest}),
                              write_page_checksum=True) as out:
            for t in parts:
                if t.num_rows:
                    out.write_table(t)
    return path


def read_file(path: Path, error: type[Exception]) -> tuple[pa.Table, dict[str, Any]]:
    """Read one trace file, verifying page checksums and the content digest; returns the
    table (no metadata) and its provenance. Raises ``error`` naming the file and problem."""
    try:
        table = pq.read_table(path, page_checksum_verification=True)
    except (pa.ArrowException, OSError) as err:
        raise error(f"{path}: not a readable Parquet file (truncated or corrupted? {err})"
                    ) from None
    metadata = table.schema.metadata or {}
    raw = metadata.get(METADATA_KEY)
    if raw is None:
        raise error(f"{path}: no '{METADATA_KEY.decode()}' provenance in the metadata "
                    "(not a paradec trace)")
    try:
        meta = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise error(f"{path}: provenance is not valid JSON, the file is corrupted ({err})"
                    ) from None
    if not isinstance(meta, dict):
        raise error(f"{path}: provenance is not a JSON object")
    table = table.replace_schema_metadata(None)
    stored = metadata.get(DIGEST_KEY)
    if stored is not None:
        try:
            actual = content_digest(table, raw)
        except (pa.ArrowException, ValueError) as err:
            raise error(f"{path}: unreadable column values ({err})") from None
        if stored.decode(errors="replace") != actual:
            raise error(f"{path}: content digest mismatch: the file is corrupted (its data "
                        "or provenance changed after it was written)")
    return table, meta


def run_mismatch(a: dict[str, Any], b: dict[str, Any],
                 ignore: Sequence[str] = ()) -> str | None:
    """The first run-defining field (:data:`RUN_FIELDS`, minus ``ignore``) on which the
    provenance records ``a`` and ``b`` differ, as ``"field.sub: A != B"``; None if equal."""
    for name in RUN_FIELDS:
        if name in ignore:
            continue
        diff = _diff(name, a.get(name), b.get(name))
        if diff is not None:
            return diff
    return None


def _diff(where: str, a: Any, b: Any) -> str | None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            diff = _diff(f"{where}.{key}", a.get(key), b.get(key))
            if diff is not None:
                return diff
        return None
    if a != b:
        return f"{where}: {_short(a)} != {_short(b)}"
    return None


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def prompts_digest(prompts: Sequence[Any]) -> str:
    """SHA-256 (hex) of a prompt set: ids, suffix, answer, answer ids and name of each."""
    h = hashlib.sha256()
    for p in prompts:
        record = [list(p.ids), list(p.suffix), p.answer,
                  None if p.answer_ids is None else list(p.answer_ids), p.name]
        h.update(json.dumps(record).encode() + b"\n")
    return h.hexdigest()


def write_bytes_atomic(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temporary, fsync, rename): a failed write
    leaves the old file as it was."""
    with _atomic(path) as tmp:
        tmp.write_bytes(data)
    return path


def write_json_atomic(path: Path, record: dict[str, Any]) -> Path:
    """Write ``record`` as JSON to ``path`` atomically (temporary, fsync, rename)."""
    return write_bytes_atomic(path, json.dumps(record, sort_keys=True, default=str).encode())


def provenance(denoiser: Denoiser, config: DecodeConfig, *, batch_size: int,
               **extra: Any) -> dict[str, Any]:
    """The provenance record of a run (JSON-ready); ``extra`` adds fields (e.g. prompts)."""
    libs: dict[str, str | None] = {}
    for name in ("paradec", "torch", "transformers", "pyarrow", "numpy", "safetensors"):
        try:
            libs[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            libs[name] = None
    return {"schema_version": SCHEMA_VERSION, "paradec_version": libs["paradec"],
            "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "model": denoiser.identity(), "vocab_size": denoiser.vocab_size,
            "specials": asdict(denoiser.specials), "dtype": str(denoiser.dtype),
            "device": _device_name(denoiser.device), "batch_size": batch_size,
            "decode": config.describe(), "seed": config.seed,
            "libraries": libs, "python": sys.version.split()[0],
            "platform": platform.platform(), **extra}


def _device_name(device: Any) -> str:
    import torch

    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    return f"{device} ({platform.processor() or platform.machine()}, "\
        f"{torch.get_num_threads()} threads)"


Piece = tuple[Path, pa.Table, dict[str, Any]]


def join(pieces: Sequence[Piece], ignore: Sequence[str] = ()) -> list[pa.Table]:
    """Per-batch tables of ``pieces`` in batch order, the one place trace pieces are put
    together (the batch parts of one run, the rank files of a multi-process run). Every
    piece must belong to the same run (:func:`run_mismatch` over the run-defining
    provenance fields, except ``ignore``) and no batch may appear in two pieces; the rows
    come out grouped by batch in batch order, the row order of a single-process run.
    Raises :class:`TraceError` naming the file of the offending piece."""
    if not pieces:
        return []
    ref_path, _, ref = pieces[0]
    owner: dict[int, Path] = {}
    by_batch: dict[int, pa.Table] = {}
    for path, table, meta in pieces:
        diff = run_mismatch(ref, meta, ignore)
        if diff is not None:
            raise TraceError(f"{path}: from another run than {ref_path} ({diff}); refusing "
                             "to mix them")
        batches = table.column("batch")
        for b in np.unique(batches.to_numpy()).tolist():
            if b in owner:
                raise TraceError(f"{path}: batch {b} is also in {owner[b]} (duplicate rows)")
            owner[b] = path
            by_batch[b] = table.filter(pc.equal(batches, b))
    return [by_batch[b] for b in sorted(by_batch)]
