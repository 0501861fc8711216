"""Compute-aware K for the engine's FreeDave (``--freedave auto``). [FreeDave]

The choice is :func:`theory.freedave.auto.best_draft_width`: per round, the width K that
maximises expected rule steps per second under a call cost t(N) = a + b N and the draft
gains g(k) seen so far. This module supplies the two inputs on a real model:

- the cost: given by the user (``CallCost``), or measured. Until a cost is known the
  engine decodes with the rule's own loop (the first block of the first batch), timing
  every call at N = rows states, and then probes one other call size: two timed forwards
  of row 0's state replicated to N = 1 state (or N = K_max when rows = 1), in the shape of
  a call inside a block (with a prefix or dual cache, against a filled cache; the probe's
  copies are discarded and not counted as decode calls). Every later call of the decode
  is timed too, round or step, from its forward to the decision applied (the engine's
  own work is part of the cost); the fit takes one point per call size (the probe's, and
  the mean of the decode's calls of that size).
- the gains: every round's visited drafts (:class:`theory.freedave.auto.DraftGains`).

One object lives as long as its :class:`~realmodel.freedave.FreeDaveBlocks` strategy, so
what batch 1 learned serves batch 2. A block whose first choice is K = 1 is decoded by
the engine's own step loop (the rule's speed: no drafting work at all), unless FreeDave
already holds the forward of the block's start (cache none, after a FreeDave block):
then width-1 rounds cost the calls the rule's loop would, and it never makes more.
"""

from __future__ import annotations

import time
from typing import Any

import torch

from realmodel.engine import DecodeState, Engine, synchronize
from theory.freedave.auto import CallCost, DraftGains, best_draft_width, fit_call_cost

__all__ = ["AutoWidth"]


class AutoWidth:
    """Chooses each round's draft width up to ``K_max`` (module docstring)."""

    def __init__(self, K_max: int, cost: CallCost | None = None) -> None:
        self.gains = DraftGains(K_max)
        self.K_max = self.gains.K_max
        self.given = cost
        self.probe_calls: list[tuple[int, float]] = []
        self.calls: list[tuple[int, float]] = []
        self.chosen: dict[int, int] = {}
        self._fit: CallCost | None = None  # refitted as the timed calls grow by a quarter
        self._refit_at = 0

    # -- the cost --------------------------------------------------------------------
    def cost(self) -> CallCost:
        """The given cost, else the fit over one point per call size: the probe's
        forwards and the mean time of the decode's calls of each size (so that many
        calls of a few sizes do not outweigh the range the probe spans)."""
        if self.given is not None:
            return self.given
        if self._fit is not None and len(self.calls) < self._refit_at:
            return self._fit
        self._refit_at = max(len(self.calls) + 1, len(self.calls) * 5 // 4)  # every +25%
        sizes: dict[int, list[float]] = {}
        for size, seconds in self.calls:
            sizes.setdefault(size, []).append(seconds)
        points = self.probe_calls + [(n, sum(t) / len(t)) for n, t in sizes.items()]
        if not points:
            raise RuntimeError("compute-aware K needs a cost: probe first (internal)")
        self._fit = fit_call_cost([n for n, _ in points], [t for _, t in points])
        return self._fit

    def ready(self) -> bool:
        """Whether a cost is known (given, or two call sizes timed)."""
        return self.given is not None or bool(self.probe_calls and self.calls)

    def probe(self, engine: Engine, state: DecodeState, rows: int) -> None:
        """Time forwards of row 0's state replicated to one call size other than ``rows``
        (1, or K_max when rows = 1); once."""
        if self.given is not None or self.probe_calls:
            return
        self._fit = None
        n = 1 if rows > 1 else self.K_max
        cached = engine.config.cache != "none"
        sub = state.replicate(torch.zeros(n, dtype=torch.long))
        if cached:
            engine.forward(sub, refresh=True)  # fills the copy's cache
        best = float("inf")
        for _ in range(2):  # the first forward of a shape warms up
            synchronize(sub.x.device)
            tic = time.perf_counter()
            engine.forward(sub, refresh=not cached)
            synchronize(sub.x.device)
            best = min(best, time.perf_counter() - tic)
        self.probe_calls.append((n, best))

    # -- choices and observations ---------------------------------------------------
    def width(self, rows: int) -> int:
        """The draft width for a call over ``rows`` rows."""
        K = best_draft_width(self.gains.gains(), self.cost(), rows)
        self.chosen[K] = self.chosen.get(K, 0) + 1
        return K

    def observe_call(self, states: int, seconds: float) -> None:
        self.calls.append((states, seconds))

    def describe(self) -> dict[str, Any]:
        """JSON-ready: the cost model in use, the gain estimates, the widths chosen."""
        cost = self.cost() if self.ready() else None
        return {"K_max": self.K_max,
                "cost": None if cost is None else {"fixed_s": cost.fixed,
                                                   "per_state_s": cost.per_state,
                                                   "source": "given" if self.given
                                                   else "measured"},
                "gains": [round(float(g), 4) for g in self.gains.gains()],
                "widths_chosen": dict(sorted(self.chosen.items()))}
