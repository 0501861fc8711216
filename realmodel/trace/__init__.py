"""Confidence traces on disk (Parquet): schema, atomic files, validation, joining parts.

- :mod:`.parquet`: the schema, :class:`TraceWriter` and the validating reader.
- :mod:`.io`: provenance, atomic checksummed writes, :class:`TraceError`, joining pieces.
- :mod:`.check`: the table checks; :mod:`.merge`: the rank files of a multi-process run.
"""

from realmodel.trace.io import METADATA_KEY, SCHEMA_VERSION, TraceError, provenance
from realmodel.trace.parquet import SCHEMA, Trace, TraceStep, TraceWriter, read_trace

__all__ = ["SCHEMA_VERSION", "SCHEMA", "METADATA_KEY", "TraceError", "TraceWriter",
           "TraceStep", "Trace", "read_trace", "provenance"]
