"""The trace table's schema, its version, and the one error type for a bad trace.

The columns are documented in :mod:`realmodel.trace.parquet`; a change to them is a new
:data:`SCHEMA_VERSION`, and readers refuse versions they do not know.
"""

from __future__ import annotations

import pyarrow as pa

__all__ = ["SCHEMA_VERSION", "SCHEMA", "TraceError"]

SCHEMA_VERSION = 1

_I32, _I64, _F64 = pa.int32(), pa.int64(), pa.float64()
SCHEMA = pa.schema([
    ("sequence", _I64), ("batch", _I32), ("row", _I32), ("block", _I32), ("step", _I32),
    ("block_step", _I32), ("calls", _I64), ("refresh", pa.bool_()), ("k", _I32),
    ("positions", pa.list_(_I32)), ("tokens", pa.list_(_I64)),
    ("runner_up", pa.list_(_I64)), ("c", pa.list_(_F64)),
    ("log_r", pa.list_(_F64)), ("s", pa.list_(_F64)), ("H", pa.list_(_F64)),
    ("committed", pa.list_(_I32)), ("final", pa.bool_()), ("prompt_ids", pa.list_(_I64)),
    ("generated", pa.list_(_I64)), ("answer", pa.string()),
])


class TraceError(ValueError):
    """A trace file that is unreadable or breaks the schema; the message names both."""
