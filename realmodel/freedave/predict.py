"""FreeDave's call count predicted from a decode trace (no model needed).

:func:`static_trace` turns one sequence of the trace of a deterministic decoding with a
rule R (static decoding is Quota(1); temperature 0) into theory's
:class:`~theory.freedave.trace.StaticTrace`: per step the active block, the masked
positions of the window in R's ranking (:func:`theory.rules.sort_order` on the stored
profile, the ranking the engine's commit used), the argmax tokens there and how many R
committed. :func:`predict_calls` applies :func:`theory.freedave.trace.predicted_calls` to
every sequence: the calls of FreeDave over R.

The trace records the runner-up token of every position, so tree drafts
(``draft="tree"``) are predicted too.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from realmodel.engine.config import deterministic_reason
from realmodel.trace import Trace
from theory.freedave.core import DraftTree
from theory.freedave.core import FreeDave as TheoryFreeDave
from theory.freedave.trace import StaticTrace, predicted_calls

__all__ = ["DRAFT_KINDS", "static_trace", "predict_calls"]

#: ``--draft`` names and the theory DraftTree kind each stands for
DRAFT_KINDS = {"nested": "chain", "tree": "runner_up", "stride": "stride"}


def _cache_mode(trace: Trace) -> str:
    """The trace's cache mode; ValueError unless its run was a deterministic decoding."""
    decode = trace.provenance.get("decode", {})
    reason = deterministic_reason(decode)
    if reason is not None:
        raise ValueError(f"trace {trace.path}: FreeDave predictions need the trace of a "
                         f"deterministic decoding: {reason}")
    return str(decode.get("cache", "none"))


def static_trace(trace: Trace, sequence: int) -> StaticTrace:
    """The trace of one sequence of ``trace`` in theory's form (with runner-up tokens, so
    tree drafts are predictable too); :meth:`realmodel.trace.Trace.static_trace` builds it.

    Raises ValueError when the run was not a deterministic decoding or lacks the sequence.
    """
    _cache_mode(trace)
    return trace.static_trace(sequence)


def predict_calls(trace: Trace, K: int, draft: str = "nested", *,
                  allow_incomplete: bool = False) -> dict[str, Any]:
    """FreeDave's exact per-sequence call counts from the trace of a deterministic
    decoding with rule R (FreeDave over R; static decoding is R = Quota(1)).

    Returns ``{"per_sequence": [calls...], "total": sum, "static_calls": the rule's own
    steps summed over sequences, "states": [states...], "acceptance_histogram":
    {length: rounds}}`` over the trace's sequences in order. ``total`` is the call count
    of decoding at batch size 1. The cache mode of the trace decides ``refresh`` (prefix /
    dual: True). An incomplete trace (an interrupted run) raises TraceError unless
    ``allow_incomplete``.
    """
    if not allow_incomplete:
        trace.require_complete("FreeDave call predictions (allow_incomplete=True to "
                               "predict the finished sequences only)")
    if draft not in DRAFT_KINDS:
        raise ValueError(f"unknown draft {draft!r}; choose from {', '.join(DRAFT_KINDS)}")
    cache = _cache_mode(trace)
    config = TheoryFreeDave(K, DraftTree(DRAFT_KINDS[draft]), refresh=cache != "none")
    sequences = sorted({int(s) for s in trace.table.column("sequence").to_pylist()})
    calls, states, static = [], [], 0
    hist: Counter[int] = Counter()
    for seq in sequences:
        st = static_trace(trace, seq)
        count = predicted_calls(st, config)
        calls.append(count.calls)
        states.append(count.states)
        static += st.T
        hist.update(count.accepted)
    return {"sequences": sequences, "per_sequence": calls, "total": sum(calls),
            "static_calls": static, "states": states,
            "acceptance_histogram": dict(sorted(hist.items()))}
