"""Compute-aware draft width: how many drafts a FreeDave round should evaluate. [FreeDave]

A round on ``rows`` rows with K drafts each is one call on N = rows * K states. Its cost
is modelled as

.. math::

    t(N) = a + b\\,N \\quad\\text{seconds}

(a: the fixed cost of a call, b: the cost of one more evaluated state), and each row moves
through

.. math::

    M(K) = \\sum_{k=1}^{K} g(k), \\qquad g(k) = P(\\text{draft } k \\text{ is on the rule's path})

steps of the rule R in expectation (g(1) = 1: the first draft is R's own step). The draft
width that maximises steps per second is

.. math::

    K^* = \\arg\\max_{1 \\le K \\le K_{\\max}} \\frac{M(K)}{t(\\mathrm{rows}\\cdot K)}

(smallest K on ties). K = 1 is R alone, so K* is never worse than R under the model; and
when a call costs nothing fixed (a = 0: compute-bound) K* = 1, because M(K) <= K
(:func:`compute_bound_draft_width`). g is estimated online from the rounds seen so far
(:class:`DraftGains`), a and b from timed calls (:func:`fit_call_cost`).

Reference: the cost argument (a call on K drafts costs about K forwards when compute-bound)
is the FreeDave paper's own caveat [FreeDave] (Wu and Zhang, arXiv 2510.00294); the rule
here is paradec's (docs/freedave.md, "Compute-aware K").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from theory import domains
from theory.freedave.core import K_DRAFTS

__all__ = ["CallCost", "DraftGains", "best_draft_width", "best_draft_width_reference",
           "compute_bound_draft_width", "fit_call_cost"]

_SECONDS = domains.Real("seconds", 0.0, math.inf, high_open=True,
                        meaning="a cost in seconds, finite and >= 0")


@dataclass(frozen=True)
class CallCost:
    """The cost model t(N) = fixed + per_state * N of one call on N states (seconds)."""

    fixed: float
    per_state: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "fixed", _SECONDS.check(self.fixed))
        object.__setattr__(self, "per_state", _SECONDS.check(self.per_state))
        if self.fixed == 0 and self.per_state == 0:
            raise ValueError("a call cannot cost nothing: fixed and per_state are both 0")

    def seconds(self, states: int) -> float:
        return self.fixed + self.per_state * states

    @classmethod
    def parse(cls, text: str) -> CallCost:
        """``"FIXED,PER_STATE"`` in seconds, e.g. ``"0.002,0.0007"``."""
        parts = text.split(",")
        if len(parts) != 2:
            raise ValueError(f"a call cost is 'FIXED,PER_STATE' in seconds, got {text!r}")
        try:
            fixed, per_state = (float(p) for p in parts)
        except ValueError:
            raise ValueError(f"a call cost is two numbers 'FIXED,PER_STATE', got {text!r}") \
                from None
        return cls(fixed, per_state)


def fit_call_cost(states: Sequence[int], seconds: Sequence[float]) -> CallCost:
    """Least-squares fit of t(N) = a + b N to timed calls, with a, b >= 0.

    The unconstrained fit is used when both coefficients come out >= 0; otherwise the
    better of the two one-parameter fits (b = 0: a = mean t; a = 0: b = sum N t / sum N^2).
    Needs at least one call. With a single distinct N nothing separates a from b; the
    time is then charged as fixed cost (a = mean t, b = 0).
    """
    n = np.asarray(states, dtype=np.float64)
    t = np.asarray(seconds, dtype=np.float64)
    if n.shape != t.shape or n.ndim != 1 or n.size == 0:
        raise ValueError(f"need equal, non-empty lists of states and seconds, got "
                         f"{n.shape} and {t.shape}")
    if not (np.isfinite(t).all() and (t >= 0).all() and (n >= 1).all()):
        raise ValueError("timed calls need N >= 1 states and finite seconds >= 0")
    if np.ptp(n) == 0:
        return CallCost(max(float(t.mean()), 1e-12), 0.0)
    b, a = np.polyfit(n, t, 1)
    if a >= 0 and b >= 0:
        return CallCost(float(a), float(b))
    flat = float(t.mean())
    slope = float((n * t).sum() / (n * n).sum())
    err_flat, err_slope = ((t - flat) ** 2).sum(), ((t - slope * n) ** 2).sum()
    return CallCost(flat, 0.0) if err_flat <= err_slope else CallCost(0.0, slope)


class DraftGains:
    """Online estimates of g(k) = P(draft k of a round is on the rule's path), k <= K_max.

    ``observe(reached, width)`` takes one round of the given width (drafts asked for):
    ``reached[k-1]`` whether its k-th draft (node order) was visited, for the drafts the
    round had. A round with fewer drafts than its width ran out of block positions, so
    the missing drafts up to its width would not have moved it: g = 0 is observed for
    them. Drafts beyond the width are not observed; the width is chosen before the round
    is seen, so leaving them out does not bias the estimate (observing the 0s of
    short rounds beyond their width would).

    The estimate shrinks the observed rate towards a prior with the weight of ``w``
    rounds: ``g(k) = (hits_k + w * pi_k) / (seen_k + w)``, g(1) = 1. The prior continues
    the decay seen so far, ``pi_k = g(k-1) * g(k-1) / g(k-2)`` (a geometric survival),
    and before draft k-1 has been seen it is half of g(k-1): with no data g = 1, 1/2,
    1/4, ..., so the width grows one draft at a time while the evidence supports it.
    """

    def __init__(self, K_max: int, weight: float = 4.0) -> None:
        self.K_max = K_DRAFTS.check(K_max)
        self.weight = domains.Real("weight", 0.0, math.inf, low_open=True,
                                   high_open=True).check(weight)
        self.hits = np.zeros(self.K_max, dtype=np.int64)
        self.seen = np.zeros(self.K_max, dtype=np.int64)

    def observe(self, reached: Sequence[bool], width: int | None = None) -> None:
        r = np.asarray(reached, dtype=bool)
        width = r.size if width is None else domains.Integer("width", 1).check(width)
        if r.ndim != 1 or not 1 <= r.size <= width <= self.K_max:
            raise ValueError(f"a round has 1..width drafts and width <= {self.K_max}, got "
                             f"{r.size} drafts of width {width}")
        if not r[0]:
            raise ValueError("the first draft is the rule's own step: it is always reached")
        self.hits[:r.size] += r
        self.seen[:width] += 1

    def gains(self) -> np.ndarray:
        """(K_max,) float64 estimates of g(1), ..., g(K_max); g(1) = 1."""
        g = np.ones(self.K_max)
        for k in range(1, self.K_max):
            decay = g[k - 1] / g[k - 2] if k >= 2 and self.seen[k - 1] and g[k - 2] > 0 \
                else 0.5
            prior = g[k - 1] * min(decay, 1.0)
            g[k] = (self.hits[k] + self.weight * prior) / (self.seen[k] + self.weight)
        return g


def _check_gains(gains: np.ndarray) -> np.ndarray:
    g = np.asarray(gains, dtype=np.float64)
    if g.ndim != 1 or g.size == 0 or np.isnan(g).any() or (g < 0).any() or (g > 1).any():
        raise ValueError("gains must be a non-empty 1-d array of probabilities in [0, 1]")
    return g


def best_draft_width(gains: np.ndarray, cost: CallCost, rows: int) -> int:
    """K* = argmax_K M(K) / t(rows K), smallest K on ties (module docstring).

    Args:
        gains: (K_max,) g(1..K_max) in [0, 1].
        cost: the call cost model.
        rows: rows taking part in the call (>= 1).

    >>> best_draft_width(np.array([1.0, 0.9, 0.8]), CallCost(0.01, 0.001), rows=1)
    3
    >>> best_draft_width(np.array([1.0, 0.9, 0.8]), CallCost(0.0, 0.001), rows=1)
    1
    """
    g = _check_gains(gains)
    rows = domains.Integer("rows", 1).check(rows)
    K = np.arange(1, g.size + 1)
    rate = np.cumsum(g) / (cost.fixed + cost.per_state * rows * K)
    best = rate.max()
    return int(K[np.flatnonzero(rate >= best * (1 - 1e-12))[0]])


def best_draft_width_reference(gains: Sequence[float], cost: CallCost, rows: int) -> int:
    """The twin of :func:`best_draft_width`: every K tried in exact rational arithmetic."""
    from fractions import Fraction

    g = [Fraction(x) for x in _check_gains(np.asarray(gains))]
    a, b = Fraction(cost.fixed), Fraction(cost.per_state)
    best_K, best = 1, None
    for K in range(1, len(g) + 1):
        rate = sum(g[:K]) / (a + b * rows * K)
        if best is None or rate > best:
            best_K, best = K, rate
    return best_K


def compute_bound_draft_width(gains: np.ndarray, per_state: float, rows: int) -> int:
    """Compute-bound calls never pay for drafts: with t(N) = b N (no fixed cost),
    K* = 1 for every gain estimate.

    .. math::

        \\frac{M(K)}{b\\,\\mathrm{rows}\\,K} = \\frac{1}{b\\,\\mathrm{rows}}
        \\cdot \\frac{1}{K}\\sum_{k \\le K} g(k) \\le \\frac{1}{b\\,\\mathrm{rows}}
        = \\frac{M(1)}{t(\\mathrm{rows})}

    because every g(k) <= 1 = g(1); the smallest maximiser is K = 1.

    Hypotheses: b > 0, gains in [0, 1] with g(1) = 1.
    Reference: [FreeDave] (Wu and Zhang, arXiv 2510.00294), the remark that a verification
    of K drafts costs about K forwards when compute-bound; docs/freedave.md.

    >>> compute_bound_draft_width(np.array([1.0, 1.0, 1.0]), 0.001, rows=200)
    1
    """
    g = _check_gains(gains)
    if g[0] != 1:
        raise ValueError(f"g(1) must be 1 (the rule's own step), got {g[0]}")
    return best_draft_width(g, CallCost(0.0, per_state), rows)
