"""Explicit joints over small vocabularies, and couplings with given marginals.

An :class:`ExplicitJoint` is a probability table of shape (V,)*n: the whole truth about
n positions. The couplings below all have prescribed marginals ``p`` of shape (n, V):

* :func:`independent_coupling`: the product of the marginals.
* :func:`disjoint_failure_coupling`: the failure events {x_j != x*_j} are disjoint. It
  attains the Fréchet lower bound P(x*) = 1 - sum r (ALGORITHMS.md 3.1) and the tight
  certificate's worst case P(x*) - max_{z != x*} P(z) = 1 - sum r - max s (3.4).
* :func:`nested_coupling`: one uniform U drives every position through its quantile
  function, argmax first, so the success events are nested and P(x*) = min c (3.1).
* :func:`random_coupling`: a random mixture of quantile couplings with random token
  orders (and the product), so its marginals are exact.
* :func:`worst_case_coupling`: a linear program over the joint table (HiGHS) that
  minimises P(x*) or the mode gap P(x*) - max_{z != x*} P(z); the brute-force twin of
  the closed forms.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog

from simulate.profiles import marginals_profile
from theory import Profile

__all__ = ["ExplicitJoint", "independent_coupling", "disjoint_failure_coupling",
           "nested_coupling", "random_coupling", "worst_case_coupling", "check_marginals"]

_TOL = 1e-9


def check_marginals(p: np.ndarray) -> np.ndarray:
    """Validate marginals of shape (n, V): finite, non-negative, rows summing to 1."""
    p = np.asarray(p, dtype=np.float64)
    if p.ndim != 2 or p.shape[0] < 1 or p.shape[1] < 2:
        raise ValueError(f"marginals must have shape (n, V) with n >= 1, V >= 2, got {p.shape}")
    if not np.all(np.isfinite(p)) or (p < 0).any():
        raise ValueError("marginals must be finite and non-negative")
    worst = np.max(np.abs(p.sum(axis=1) - 1.0))
    if worst > _TOL:
        raise ValueError(f"each marginal must sum to 1 (worst deviation {worst:.3g})")
    return p


@dataclass(frozen=True, eq=False)
class ExplicitJoint:
    """A joint law of n positions over tokens 0..V-1, as a table ``p`` of shape (V,)*n."""

    p: np.ndarray

    def __post_init__(self) -> None:
        p = np.array(self.p, dtype=np.float64)
        if p.ndim < 1 or len(set(p.shape)) != 1 or p.shape[0] < 2:
            raise ValueError(f"joint table must have shape (V,)*n with V >= 2, got {p.shape}")
        if not np.all(np.isfinite(p)) or (p < -_TOL).any():
            raise ValueError("joint table must be finite and non-negative")
        if abs(p.sum() - 1.0) > _TOL:
            raise ValueError(f"joint table must sum to 1, sums to {p.sum()!r}")
        p = np.clip(p, 0.0, None)
        p.flags.writeable = False
        object.__setattr__(self, "p", p)

    @property
    def n(self) -> int:
        return int(self.p.ndim)

    @property
    def V(self) -> int:
        return int(self.p.shape[0])

    def marginals(self) -> np.ndarray:
        """Per-position marginals, shape (n, V)."""
        axes = range(self.n)
        return np.stack([self.p.sum(axis=tuple(a for a in axes if a != j)) for j in axes])

    def argmax_tuple(self) -> tuple[int, ...]:
        """x*: each position's marginal argmax (ties to the lowest token)."""
        return tuple(int(v) for v in np.argmax(self.marginals(), axis=1))

    def prob(self, z: tuple[int, ...]) -> float:
        return float(self.p[tuple(z)])

    def mode(self) -> tuple[tuple[int, ...], float]:
        """The joint mode (ties to the lexicographically first tuple) and its probability."""
        flat = int(np.argmax(self.p))
        z = tuple(int(v) for v in np.unravel_index(flat, self.p.shape))
        return z, float(self.p[z])

    def mode_gap(self) -> float:
        """P(x*) - max_{z != x*} P(z): positive iff x* is the unique joint mode."""
        star = self.argmax_tuple()
        rest = self.p.copy()
        rest[star] = -np.inf
        return float(self.p[star] - rest.max()) if rest.size > 1 else float(self.p[star])

    def marginal_joint(self, axes: tuple[int, ...]) -> ExplicitJoint:
        """The joint of the positions ``axes`` (in that order), the others summed out."""
        others = tuple(a for a in range(self.n) if a not in axes)
        q = self.p.sum(axis=others) if others else self.p
        kept = [a for a in range(self.n) if a in axes]
        return ExplicitJoint(np.transpose(q, [kept.index(a) for a in axes]))

    def condition(self, known: dict[int, int]) -> ExplicitJoint:
        """The joint of the other positions given x_j = v for each (j, v) in ``known``."""
        if len(known) >= self.n:
            raise ValueError("conditioning on every position leaves nothing")
        index = tuple(known.get(a, slice(None)) for a in range(self.n))
        q = self.p[index]
        total = q.sum()
        if total <= 0:
            raise ValueError(f"the event {known} has probability 0")
        return ExplicitJoint(q / total)

    def entropy(self) -> float:
        """H(X) in nats."""
        q = self.p[self.p > 0]
        return float(-(q * np.log(q)).sum())

    def total_correlation(self) -> float:
        """sum_j H(X_j) - H(X) >= 0, in nats."""
        m = self.marginals()
        Hj = -np.where(m > 0, m * np.log(np.where(m > 0, m, 1.0)), 0.0).sum(axis=1)
        return float(Hj.sum() - self.entropy())

    def profile(self) -> Profile:
        """The confidence profile of the marginals: one row, n positions."""
        return marginals_profile(self.marginals()[None])

    def sample(self, size: int, rng: np.random.Generator) -> np.ndarray:
        """``size`` draws, shape (size, n) int64."""
        flat = rng.choice(self.p.size, size=size, p=self.p.ravel())
        return np.stack(np.unravel_index(flat, self.p.shape), axis=1).astype(np.int64)


def independent_coupling(p: np.ndarray) -> ExplicitJoint:
    """The product law prod_j p_j."""
    p = check_marginals(p)
    table = p[0]
    for j in range(1, p.shape[0]):
        table = table[..., None] * p[j]
    return ExplicitJoint(table)


def disjoint_failure_coupling(p: np.ndarray) -> ExplicitJoint:
    """The coupling whose failure events {x_j != x*_j} are disjoint (needs sum r <= 1).

    .. math:: P(x^*) = 1 - \\sum_j r_j, \\quad P(x^* \\text{ with } x_j := v) = p_j(v)

    It attains the Fréchet lower bound and min over couplings of
    P(x*) - max_{z != x*} P(z) = 1 - sum r - max s.
    Reference: ALGORITHMS.md 3.1 and 3.4; [FastdLLM++] section 4.

    >>> j = disjoint_failure_coupling(np.array([[0.9, 0.1], [0.8, 0.2]]))
    >>> round(j.prob((0, 0)), 12), round(j.mode_gap(), 12)
    (0.7, 0.5)
    """
    p = check_marginals(p)
    n, V = p.shape
    star = np.argmax(p, axis=1)
    r = 1.0 - p[np.arange(n), star]
    if r.sum() > 1.0 + _TOL:
        raise ValueError(f"disjoint failures need sum r <= 1, got sum r = {r.sum():.6g}")
    table = np.zeros((V,) * n)
    table[tuple(star)] = max(0.0, 1.0 - r.sum())
    for j in range(n):
        for v in range(V):
            if v != star[j]:
                z = star.copy()
                z[j] = v
                table[tuple(z)] += p[j, v]
    return ExplicitJoint(table)


def _quantile_coupling(p: np.ndarray, orders: np.ndarray) -> np.ndarray:
    """Table of x_j = Q_j(U), U uniform, with position j's tokens stacked in ``orders[j]``."""
    n, V = p.shape
    cum = [np.cumsum(p[j, orders[j]]) for j in range(n)]
    cuts = np.unique(np.concatenate([[0.0, 1.0]] + [np.clip(c, 0, 1) for c in cum]))
    table = np.zeros((V,) * n)
    for a, b in itertools.pairwise(cuts):
        if b - a <= 0:
            continue
        u = 0.5 * (a + b)
        z = tuple(int(orders[j][min(np.searchsorted(cum[j], u, side="right"), V - 1)])
                  for j in range(n))
        table[z] += b - a
    return table


def nested_coupling(p: np.ndarray) -> ExplicitJoint:
    """The comonotone coupling (argmax first): success events nested, P(x*) = min_j c_j.

    Reference: ALGORITHMS.md 3.1 (the upper Fréchet bound is attained).

    >>> round(nested_coupling(np.array([[0.9, 0.1], [0.8, 0.2]])).prob((0, 0)), 12)
    0.8
    """
    p = check_marginals(p)
    orders = np.argsort(-p, axis=1, kind="stable")
    return ExplicitJoint(_quantile_coupling(p, orders))


def random_coupling(p: np.ndarray, rng: np.random.Generator, components: int = 4) -> ExplicitJoint:
    """A random coupling with marginals ``p``: a Dirichlet(1) mixture of the product law
    and ``components`` quantile couplings with uniformly random token orders."""
    p = check_marginals(p)
    if components < 0:
        raise ValueError(f"components must be >= 0, got {components}")
    n, V = p.shape
    w = rng.dirichlet(np.ones(components + 1))
    table = w[0] * independent_coupling(p).p
    for k in range(components):
        orders = np.stack([rng.permutation(V) for _ in range(n)])
        table = table + w[k + 1] * _quantile_coupling(p, orders)
    return ExplicitJoint(table / table.sum())


def worst_case_coupling(p: np.ndarray, objective: str = "mode_gap",
                        max_cells: int = 729) -> tuple[ExplicitJoint, float]:
    """The coupling minimising ``objective`` over all joints with marginals ``p``, by LP.

    ``objective="joint"`` minimises P(x*) (Fréchet: max(0, 1 - sum r));
    ``"mode_gap"`` minimises P(x*) - max_{z != x*} P(z) (one LP per z; with sum r <= 1
    the tight certificate says 1 - sum r - max s). Returns the table and the value.
    Refuses tables with more than ``max_cells`` cells.
    """
    p = check_marginals(p)
    n, V = p.shape
    cells = V ** n
    if cells > max_cells:
        raise ValueError(f"V^n = {cells} cells exceeds max_cells = {max_cells}")
    grid = np.array(list(itertools.product(range(V), repeat=n)))
    A = np.zeros((n * V, cells))
    for j in range(n):
        A[j * V + grid[:, j], np.arange(cells)] = 1.0
    b = p.ravel()
    star = np.ravel_multi_index(tuple(np.argmax(p, axis=1)), (V,) * n)
    if objective == "joint":
        rivals = [-1]
    elif objective == "mode_gap":
        rivals = [z for z in range(cells) if z != star]
    else:
        raise ValueError(f"unknown objective {objective!r}; use 'joint' or 'mode_gap'")
    solutions = []
    for z in rivals:
        cost = np.zeros(cells)
        cost[star] = 1.0
        if z >= 0:
            cost[z] = -1.0
        res = linprog(cost, A_eq=A, b_eq=b, bounds=(0, None), method="highs")
        if res.status != 0:
            raise ValueError(f"the LP failed: {res.message}")
        solutions.append((float(res.fun), res.x))
    value, x = min(solutions, key=lambda sol: sol[0])
    table = np.clip(x, 0.0, None).reshape((V,) * n)
    return ExplicitJoint(table / table.sum()), value
