"""Why FreeDave++ subset acceptance keeps certificates: margins only grow on a subset.

FreeDave++ (``FreeDave(accept="subset")``, :func:`theory.freedave.rounds.follow_path`)
moves from a state y by committing a subset T of the set S that the rule R commits at y,
to y's argmax tokens. For the Fréchet and tight certificates the margin of a set,

    G(X) = max(0, 1 - sum_{i in X} r_i) - max_{i in X} u_i,   u = r (Fréchet) or s (tight),

can only grow when positions are removed, so T is certified at y whenever S is
(docs/theory/subset_margin_monotone.md). :func:`subset_margin_monotone` checks one
subset exactly; :func:`subset_margins_reference` is its brute-force twin (every
non-empty subset, by the definition).
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from itertools import combinations
from typing import Any

import numpy as np

from theory import domains

__all__ = ["subset_margin_monotone", "subset_margins_reference"]

CONFIDENCE = domains.Real("c", 0.0, 1.0, meaning="confidence of a position's argmax token")
RUNNER_UP = domains.Real("s", 0.0, 1.0, meaning="runner-up probability of a position")


def _exact(values: Any, domain: domains.Real) -> list[Fraction]:
    arr = np.asarray(values, dtype=np.float64).ravel()
    if arr.size == 0:
        raise ValueError(f"{domain.name} needs at least one position")
    return [Fraction(domain.check(v)) for v in arr]


def _inputs(c: Any, s: Any) -> tuple[list[Fraction], list[Fraction]]:
    """(r, u) in rationals: r = 1 - c, u = r (Fréchet, s None) or s (tight)."""
    r = [1 - x for x in _exact(c, CONFIDENCE)]
    if s is None:
        return r, r
    u = _exact(s, RUNNER_UP)
    if len(u) != len(r):
        raise ValueError(f"s has {len(u)} entries, c has {len(r)}")
    return r, u


def _margin(r: Sequence[Fraction], u: Sequence[Fraction], X: Sequence[int]) -> Fraction:
    return max(Fraction(0), 1 - sum((r[i] for i in X), Fraction(0))) - max(u[i] for i in X)


def subset_margin_monotone(c: Any, keep: Any, s: Any = None) -> bool:
    """Exactly (rationals): keeping only some positions of a set never lowers its Fréchet
    margin, nor its tight margin when the runner-up probabilities ``s`` are given.

    .. math:: \\emptyset \\ne T \\subseteq S \\implies G(T) \\ge G(S), \\qquad
              G(X) = \\max\\Big(0, 1 - \\sum_{i \\in X} r_i\\Big) - \\max_{i \\in X} u_i

    with r_i = 1 - c_i and u = r (Fréchet, [FastdLLM++] Thm 4.1) or u = s (the tight
    certificate). Hence a FreeDave++ move, which commits a subset T of the rule's set S
    at its state, is certified there whenever S is.

    Hypotheses: c_i and s_i in [0, 1] (s_i <= r_i is not needed); ``keep`` a bool
    vector over the n positions of S selecting T, at least one True.

    Reference: this project, docs/theory/subset_margin_monotone.md; the move it
    certifies is the subset verification of the FreeDave authors' later code
    ([FreeDave] Wu and Zhang, arXiv 2510.00294, ``cychomatica/FreeDave``).

    >>> subset_margin_monotone([0.99, 0.95, 0.82, 0.78, 0.74], [True, True, False, False, False])
    True
    """
    r, u = _inputs(c, s)
    mask = np.asarray(keep)
    if mask.dtype != bool or mask.shape != (len(r),) or not mask.any():
        raise ValueError(f"keep must be a bool vector of {len(r)} entries with at least one "
                         f"True, got {keep!r}")
    T = np.flatnonzero(mask).tolist()
    return _margin(r, u, T) >= _margin(r, u, range(len(r)))


def subset_margins_reference(c: Any, s: Any = None) -> dict[tuple[int, ...], Fraction]:
    """Brute-force twin: the margin G(T) of every non-empty subset T of the n positions,
    by the definition, in rationals (keys: sorted position tuples; 2^n - 1 of them).

    >>> m = subset_margins_reference([0.75, 0.875])
    >>> m[(0,)], m[(1,)], m[(0, 1)]
    (Fraction(1, 2), Fraction(3, 4), Fraction(3, 8))
    """
    r, u = _inputs(c, s)
    n = len(r)
    return {T: _margin(r, u, T) for k in range(1, n + 1) for T in combinations(range(n), k)}
