"""Fréchet bounds on the probability that all events hold, and couplings attaining them.

docs/theory/frechet_bounds.md. For events with probabilities a_1..a_n,
``max(0, sum a - (n-1)) <= P(all) <= min a``, and both bounds are attained.

The couplings are built on the circle [0, 1) with a uniform U: position j takes
its non-designated tokens on an arc of length r_j starting at ``start_j`` (in
token order) and its designated token x*_j on the rest of the circle, so its
marginal is exactly p_j for any choice of starts. Consecutive arcs (wrapping
around the circle when sum r > 1) make the failure events {X_j != x*_j} disjoint
whenever they fit; arcs that all end at 1 make them nested. Laying every position's
tokens from 0 in a chosen order gives the quantile couplings X_j = F_j^{-1}(U)
(:func:`quantile_coupling`; random orders in :func:`random_coupling`). The construction
runs in exact rational arithmetic (``fractions.Fraction``) and rounds once at the end.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from theory import domains
from theory.joint import ExplicitJoint, check_marginals

__all__ = ["frechet_bounds", "disjoint_failure_coupling", "disjoint_binary_failures",
           "nested_coupling", "extremal_coupling", "nested_failure_coupling",
           "quantile_coupling", "random_coupling"]

MAX_BINARY_N = 16  # {0,1}^n tables are enumerated: keep n small


def _probabilities(a: Any) -> list[float]:
    values = np.asarray(a, dtype=np.float64).ravel()
    if values.size == 0:
        raise ValueError("need at least one event probability")
    return [domains.PROBABILITY.check(float(v)) for v in values]


def frechet_bounds(a: Any) -> tuple[float, float]:
    """Fréchet bounds on the probability that all n events hold.

    .. math:: \\max\\Big(0, \\sum_j a_j - (n-1)\\Big) \\le P\\Big(\\bigcap_j E_j\\Big)
              \\le \\min_j a_j

    Hypotheses: each a_j = P(E_j) lies in [0, 1]; nothing is assumed about the
    dependence between the events. Both bounds are attained (see
    :func:`disjoint_failure_coupling`, :func:`nested_coupling`).

    Reference: Fréchet (1935); used as [FastdLLM++] Kasa et al., arXiv 2606.02955,
    section 4; docs/theory/frechet_bounds.md.

    >>> frechet_bounds([0.75, 0.5])
    (0.25, 0.5)
    """
    p = _probabilities(a)
    lower = max(0.0, math.fsum(p) - (len(p) - 1))
    return lower, min(p)


def _last(top: Sequence[int], masses: Sequence[Sequence[Fraction]]) -> list[list[int]]:
    """Token orders with the tokens != top_j by id, then top_j."""
    return [[v for v in range(len(m)) if v != t] + [t] for t, m in zip(top, masses, strict=True)]


def _arc_coupling(masses: Sequence[Sequence[Fraction]], orders: Sequence[Sequence[int]],
                  starts: Sequence[Fraction]) -> ExplicitJoint:
    """Joint of X_j = token of position j at (U - start_j) mod 1, U uniform on [0, 1).

    Position j lays its tokens on [0, 1) in the order ``orders[j]`` (a permutation of
    its token ids), with lengths ``masses[j]`` (exact, summing to 1).
    """
    n = len(masses)
    layouts = []
    points = {Fraction(0)}
    for j in range(n):
        cum, edges = Fraction(0), []
        for v in orders[j]:
            cum += masses[j][v]
            edges.append((cum, v))
            points.add((starts[j] + cum) % 1)
        layouts.append(edges)
    cuts = sorted(points) + [Fraction(1)]
    cells: dict[tuple[int, ...], Fraction] = {}
    for lo, hi in zip(cuts[:-1], cuts[1:], strict=True):
        if hi == lo:
            continue
        mid = (lo + hi) / 2
        x = tuple(next(v for edge, v in layouts[j] if (mid - starts[j]) % 1 < edge)
                  for j in range(n))
        cells[x] = cells.get(x, Fraction(0)) + (hi - lo)
    table = np.zeros(tuple(len(m) for m in masses))
    for x, mass in cells.items():
        table[x] = float(mass)
    return ExplicitJoint(table)


def _binary_masses(a: Sequence[float]) -> list[list[Fraction]]:
    if len(a) > MAX_BINARY_N:
        raise ValueError(f"n = {len(a)} events give a table of 2^n cells; keep n <= "
                         f"{MAX_BINARY_N}")
    return [[1 - Fraction(v), Fraction(v)] for v in a]


def disjoint_failure_coupling(a: Any) -> ExplicitJoint:
    """A joint over {0,1}^n (1 = the event holds) with P(X_j = 1) = a_j exactly that
    attains the Fréchet lower bound max(0, sum a - (n-1)).

    The failure events occupy consecutive arcs of lengths 1 - a_j on the circle
    [0, 1), wrapping around when sum (1 - a) > 1 (then P(all) = 0).

    >>> joint = disjoint_failure_coupling([0.75, 0.5])
    >>> joint.prob((1, 1)), joint.prob((0, 0))
    (0.25, 0.0)
    """
    return disjoint_binary_failures([1 - Fraction(v) for v in _probabilities(a)])


def disjoint_binary_failures(failure: Sequence[Fraction]) -> ExplicitJoint:
    """:func:`disjoint_failure_coupling` from exact failure probabilities P(X_j = 0)."""
    if len(failure) > MAX_BINARY_N:
        raise ValueError(f"n = {len(failure)} events give a table of 2^n cells; keep n <= "
                         f"{MAX_BINARY_N}")
    if any(not 0 <= f <= 1 for f in failure):
        raise ValueError("failure probabilities must lie in [0, 1]")
    starts, total = [], Fraction(0)
    for f in failure:
        starts.append(total % 1)
        total += f
    masses = [[f, 1 - f] for f in failure]
    return _arc_coupling(masses, _last([1] * len(failure), masses), starts)


def nested_coupling(a: Any) -> ExplicitJoint:
    """A joint over {0,1}^n with P(X_j = 1) = a_j exactly and P(all) = min a
    (the Fréchet upper bound): event j holds iff U < a_j, so the events are nested.

    >>> nested_coupling([0.75, 0.5]).prob((1, 1))
    0.5
    """
    p = _probabilities(a)
    masses = _binary_masses(p)
    return _arc_coupling(masses, _last([1] * len(p), masses), [m[1] for m in masses])


def _exact_rows(marginals: Any) -> tuple[list[list[Fraction]], list[int], list[Fraction]]:
    """Exact masses (the mode's mass is 1 minus the others), x*, and exact r."""
    p = check_marginals(marginals)
    x_star = [int(v) for v in np.argmax(p, axis=1)]
    if p.size > 4096:
        raise ValueError(f"marginals of shape {p.shape} are too large for an explicit joint")
    masses, r = [], []
    for j, row in enumerate(p):
        exact = [Fraction(float(v)) for v in row]
        rest = sum(exact, Fraction(0)) - exact[x_star[j]]
        exact[x_star[j]] = 1 - rest
        masses.append(exact)
        r.append(rest)
    return masses, x_star, r


def extremal_coupling(marginals: Any) -> ExplicitJoint:
    """A joint with the given marginals ``(n, V)`` whose failure events
    {X_j != x*_j} are disjoint (consecutive arcs; wrapped when sum r > 1).

    It minimises p(x*): p(x*) = max(0, 1 - sum r), the Fréchet lower bound; when
    sum r <= 1 it also puts mass p_k(v) on "x* except token v at k", which makes it
    the extremal joint of the tight certificate (this project,
    docs/theory/tight_certificate.md). Tables have
    ``V ** n`` cells: keep them small.

    >>> joint = extremal_coupling([[0.75, 0.25], [0.125, 0.875]])
    >>> joint.prob((0, 1)), joint.prob((1, 1)), joint.prob((0, 0))
    (0.625, 0.25, 0.125)
    """
    masses, x_star, r = _exact_rows(marginals)
    starts, total = [], Fraction(0)
    for rj in r:
        starts.append(total % 1)
        total += rj
    return _arc_coupling(masses, _last(x_star, masses), starts)


def nested_failure_coupling(marginals: Any) -> ExplicitJoint:
    """A joint with the given marginals ``(n, V)`` whose failure events are nested
    (every arc ends at 1), so p(x*) = min_j c_j, the Fréchet upper bound.

    >>> nested_failure_coupling([[0.75, 0.25], [0.125, 0.875]]).prob((0, 1))
    0.75
    """
    masses, x_star, r = _exact_rows(marginals)
    return _arc_coupling(masses, _last(x_star, masses), [1 - rj for rj in r])


def quantile_coupling(marginals: Any, orders: Any) -> ExplicitJoint:
    """The joint of X_j = F_j^{-1}(U) for one uniform U, position j's tokens stacked on
    [0, 1) in the order ``orders[j]`` (shape ``(n, V)``, each row a permutation of
    0..V-1). Its marginals are exactly ``marginals`` ``(n, V)`` for any orders; orders
    by decreasing probability give the comonotone coupling, where p(x*) = min_j c_j.

    >>> joint = quantile_coupling([[0.75, 0.25], [0.5, 0.5]], [[0, 1], [1, 0]])
    >>> joint.prob((0, 1)), joint.prob((0, 0)), joint.prob((1, 0))
    (0.5, 0.25, 0.25)
    """
    masses, _, _ = _exact_rows(marginals)
    n, V = len(masses), len(masses[0])
    rows = np.asarray(orders)
    if rows.shape != (n, V) or not np.issubdtype(rows.dtype, np.integer) or any(
            sorted(row) != list(range(V)) for row in rows.tolist()):
        raise ValueError(f"orders must be {n} permutations of 0..{V - 1}, got {orders!r}")
    return _arc_coupling(masses, rows.tolist(), [Fraction(0)] * n)


def random_coupling(marginals: Any, rng: np.random.Generator,
                    components: int = 4) -> ExplicitJoint:
    """A random joint with the given marginals ``(n, V)`` (exact up to float rounding):
    a Dirichlet(1) mixture of the product of the marginals and ``components``
    quantile couplings with uniformly random token orders.

    >>> joint = random_coupling([[0.75, 0.25], [0.5, 0.5]], np.random.default_rng(0))
    >>> bool(np.abs(joint.marginals - [[0.75, 0.25], [0.5, 0.5]]).max() < 1e-15)
    True
    """
    P = check_marginals(marginals)
    components = domains.Integer("components", 0).check(components)
    n, V = P.shape
    w = rng.dirichlet(np.ones(components + 1))
    table = w[0] * ExplicitJoint.product_of_marginals(P).table
    for k in range(components):
        orders = np.stack([rng.permutation(V) for _ in range(n)])
        table = table + w[k + 1] * quantile_coupling(P, orders).table
    return ExplicitJoint(table / math.fsum(table.ravel()))
