"""Explicit joint distributions over a few tokens, for checking theorems by enumeration.

An :class:`ExplicitJoint` is a full probability table over ``n`` positions with
vocabularies ``V_1, ..., V_n`` (shape ``(V_1, ..., V_n)``, float64). Everything a
theorem talks about (marginals, their modes, the joint mode, margins, entropies,
distances to the product of marginals) is computed by brute force over the table,
so keep ``prod V_j`` small (a few thousand cells at most). Sub-joints
(:meth:`ExplicitJoint.marginal_joint`, :meth:`ExplicitJoint.condition`) and draws
(:meth:`ExplicitJoint.sample`) serve the simulator's brute-force twins.

Marginal matrices (``(n, V)``, one row per position, zero-padded) are validated
by :func:`check_marginals`; :func:`marginal_modes` gives the quantities of one
decoding step (x*, c, r, s; docs/theory.md, section 1) for them.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["ExplicitJoint", "Modes", "check_marginals", "marginal_modes", "total_variation",
           "kl_divergence", "kl_to_product", "entropy"]

SUM_TOL = 1e-12  # a joint table must sum to 1 within this
MARGINAL_TOL = 1e-9  # a marginal row must sum to 1 within this


def entropy(p: Any) -> float:
    """Shannon entropy in nats of a probability vector (0 log 0 = 0)."""
    p = np.asarray(p, dtype=np.float64).ravel()
    p = p[p > 0]
    return max(0.0, float(-np.sum(p * np.log(p))))  # a mass of 1 + 1e-16 gives -1e-16


@dataclass(frozen=True, eq=False)
class ExplicitJoint:
    """A probability table of shape ``(V_1, ..., V_n)`` (float64, read-only).

    Raises ValueError unless every entry is finite and >= 0 and the entries sum
    to 1 within 1e-12.

    >>> joint = ExplicitJoint.from_dict({(0, 0): 0.5, (1, 1): 0.25, (1, 0): 0.25})
    >>> joint.mode_tokens, joint.prob((0, 0)), joint.mode_margin((0, 0))
    ((0, 0), 0.5, 0.25)
    """

    table: np.ndarray

    def __post_init__(self) -> None:
        t = np.array(self.table, dtype=np.float64)
        if t.ndim < 1 or t.size == 0:
            raise ValueError(f"a joint table needs at least one position and one token, "
                             f"got shape {t.shape}")
        if not np.isfinite(t).all():
            raise ValueError("joint table contains NaN or inf")
        if (t < 0).any():
            raise ValueError(f"joint probabilities must be >= 0, got min {t.min():.3g}")
        total = math.fsum(t.ravel())
        if abs(total - 1.0) > SUM_TOL:
            raise ValueError(f"joint table must sum to 1 (within {SUM_TOL}), sums to {total!r}")
        t.setflags(write=False)
        object.__setattr__(self, "table", t)

    # --- constructors -------------------------------------------------------------------
    @classmethod
    def from_dict(cls, probs: Mapping[tuple[int, ...], float],
                  shape: Sequence[int] | None = None) -> ExplicitJoint:
        """A joint from ``{tuple: probability}``; ``shape`` defaults to the smallest fitting."""
        if not probs:
            raise ValueError("from_dict needs at least one tuple")
        keys = [tuple(int(v) for v in k) for k in probs]
        n = len(keys[0])
        if any(len(k) != n for k in keys) or n == 0:
            raise ValueError("all tuples must have the same non-zero length")
        if shape is None:
            shape = tuple(max(k[j] for k in keys) + 1 for j in range(n))
        table = np.zeros(tuple(shape), dtype=np.float64)
        for k, p in zip(keys, probs.values(), strict=True):
            if any(v < 0 or v >= s for v, s in zip(k, table.shape, strict=True)):
                raise ValueError(f"tuple {k} lies outside the table shape {table.shape}")
            table[k] += float(p)
        return cls(table)

    @classmethod
    def product_of_marginals(cls, marginals: Any) -> ExplicitJoint:
        """The independent coupling prod_j p_j of marginals ``(n, V)`` (or a list of vectors)."""
        rows = ([np.asarray(m, dtype=np.float64) for m in marginals]
                if not isinstance(marginals, np.ndarray) else list(check_marginals(marginals)))
        if not rows:
            raise ValueError("product_of_marginals needs at least one marginal")
        table = np.ones(())
        for row in rows:
            if row.ndim != 1 or abs(math.fsum(row) - 1.0) > MARGINAL_TOL or (row < 0).any():
                raise ValueError("each marginal must be a non-negative vector summing to 1")
            table = np.multiply.outer(table, row / math.fsum(row))
        return cls(table / math.fsum(table.ravel()))

    # --- marginal quantities ------------------------------------------------------------
    @property
    def n(self) -> int:
        return int(self.table.ndim)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(v) for v in self.table.shape)

    def marginal(self, j: int) -> np.ndarray:
        """Marginal of position ``j``: shape ``(V_j,)``."""
        axes = tuple(i for i in range(self.n) if i != j)
        return np.asarray(self.table.sum(axis=axes), dtype=np.float64)

    @property
    def marginals(self) -> np.ndarray:
        """All marginals, shape ``(n, max V_j)``, zero-padded."""
        out = np.zeros((self.n, max(self.shape)))
        for j in range(self.n):
            out[j, :self.shape[j]] = self.marginal(j)
        return out

    @property
    def mode_tokens(self) -> tuple[int, ...]:
        """x*: the argmax of each marginal (ties to the lowest token id)."""
        return tuple(int(np.argmax(self.marginal(j))) for j in range(self.n))

    # --- joint quantities ---------------------------------------------------------------
    def _index(self, x: Sequence[int]) -> tuple[int, ...]:
        x = tuple(int(v) for v in x)
        if len(x) != self.n or any(not 0 <= v < s for v, s in zip(x, self.shape, strict=True)):
            raise ValueError(f"tuple {x} does not index a table of shape {self.shape}")
        return x

    def prob(self, x: Sequence[int]) -> float:
        """p(x) for a tuple ``x`` of token ids."""
        return float(self.table[self._index(x)])

    def mode_margin(self, x: Sequence[int]) -> float:
        """p(x) - max_{z != x} p(z) (the max over an empty set is 0)."""
        idx = self._index(x)
        others = self.table.copy()
        others[idx] = -np.inf
        best = float(others.max()) if others.size > 1 else 0.0
        return float(self.table[idx]) - best

    def unique_mode(self) -> tuple[int, ...] | None:
        """The tuple of largest probability, or None when the largest is tied."""
        flat = self.table.ravel()
        top = flat.max()
        if int(np.count_nonzero(flat == top)) > 1:
            return None
        return tuple(int(v) for v in np.unravel_index(int(flat.argmax()), self.shape))

    def top(self, k: int) -> list[tuple[tuple[int, ...], float]]:
        """The ``k`` most probable tuples with their probabilities (ties: lexicographic)."""
        flat = self.table.ravel()
        order = np.argsort(-flat, kind="stable")[:max(int(k), 0)]
        return [(tuple(int(v) for v in np.unravel_index(int(i), self.shape)), float(flat[i]))
                for i in order]

    def support(self) -> list[tuple[int, ...]]:
        """Tuples with positive probability, lexicographic."""
        return [tuple(int(v) for v in x) for x in zip(*np.nonzero(self.table), strict=True)]

    def entropy(self) -> float:
        """Joint entropy H(X) in nats."""
        return entropy(self.table)

    def marginal_entropies(self) -> np.ndarray:
        """H(X_j) in nats, shape ``(n,)``."""
        return np.array([entropy(self.marginal(j)) for j in range(self.n)])

    def total_correlation(self) -> float:
        """sum_j H(X_j) - H(X) in nats (= KL(p || product of marginals))."""
        return float(math.fsum(self.marginal_entropies()) - self.entropy())

    def tuples(self) -> itertools.product:
        """All tuples of the table, lexicographic."""
        return itertools.product(*(range(v) for v in self.shape))

    # --- sub-joints and draws -----------------------------------------------------------
    def marginal_joint(self, axes: Sequence[int]) -> ExplicitJoint:
        """The joint of the positions ``axes`` (distinct, in that order), the others summed out.

        >>> j = ExplicitJoint(np.array([[0.125, 0.375], [0.25, 0.25]]))
        >>> j.marginal_joint((1,)).table.tolist(), j.marginal_joint((1, 0)).prob((1, 0))
        ([0.375, 0.625], 0.375)
        """
        axes = tuple(int(a) for a in axes)
        if not axes or len(set(axes)) != len(axes) or any(not 0 <= a < self.n for a in axes):
            raise ValueError(f"axes must be distinct positions in 0..{self.n - 1}, got {axes}")
        others = tuple(a for a in range(self.n) if a not in axes)
        q = self.table.sum(axis=others) if others else self.table
        kept = sorted(axes)
        return ExplicitJoint(np.transpose(q, [kept.index(a) for a in axes]))

    def condition(self, known: Mapping[int, int]) -> ExplicitJoint:
        """The joint of the other positions (in order) given X_j = v for each (j, v) in
        ``known``; ValueError when that event has probability 0 or leaves no position.

        >>> ExplicitJoint(np.array([[0.125, 0.375], [0.25, 0.25]])).condition({0: 0}).table
        array([0.25, 0.75])
        """
        fixed = {int(j): int(v) for j, v in known.items()}
        if any(not 0 <= j < self.n or not 0 <= v < self.shape[j] for j, v in fixed.items()):
            raise ValueError(f"{fixed} does not name positions and tokens of shape {self.shape}")
        if len(fixed) >= self.n:
            raise ValueError("conditioning on every position leaves nothing")
        q = self.table[tuple(fixed.get(a, slice(None)) for a in range(self.n))]
        total = math.fsum(q.ravel())
        if total <= 0:
            raise ValueError(f"the event {fixed} has probability 0")
        return ExplicitJoint(q / total)

    def sample(self, size: int, rng: np.random.Generator) -> np.ndarray:
        """``size`` independent draws from the table, shape ``(size, n)`` int64."""
        flat = rng.choice(self.table.size, size=int(size), p=self.table.ravel())
        return np.stack(np.unravel_index(flat, self.shape), axis=1).astype(np.int64)


def total_variation(p: ExplicitJoint, q: ExplicitJoint) -> float:
    """TV(p, q) = 1/2 sum_x |p(x) - q(x)| for two joints of the same shape."""
    _same_shape(p, q)
    return 0.5 * math.fsum(np.abs(p.table - q.table).ravel())


def kl_divergence(p: ExplicitJoint, q: ExplicitJoint) -> float:
    """KL(p || q) = sum_x p(x) log(p(x)/q(x)) in nats (inf when q misses p's support)."""
    _same_shape(p, q)
    a, b = p.table.ravel(), q.table.ravel()
    on = a > 0
    if (b[on] == 0).any():
        return math.inf
    return math.fsum(a[on] * np.log(a[on] / b[on]))


def kl_to_product(p: ExplicitJoint) -> float:
    """KL(p || prod_j p_j) = sum_x p(x) [log p(x) - sum_j log p_j(x_j)] in nats, in log
    space (the product table itself can underflow where p does not)."""
    logs = [np.log(p.marginal(j), where=p.marginal(j) > 0, out=np.zeros(p.shape[j]))
            for j in range(p.n)]
    cells = np.nonzero(p.table)
    log_q = np.sum([logs[j][cells[j]] for j in range(p.n)], axis=0)
    mass = p.table[cells]
    return math.fsum(mass * (np.log(mass) - log_q))


def _same_shape(p: ExplicitJoint, q: ExplicitJoint) -> None:
    if p.shape != q.shape:
        raise ValueError(f"joints have different shapes {p.shape} and {q.shape}")


def check_marginals(marginals: Any, atol: float = MARGINAL_TOL) -> np.ndarray:
    """Validate marginals of shape ``(n, V)``; return a float64 copy with rows renormalised.

    Raises ValueError for a wrong shape, NaN or inf, negative entries, or a row
    whose sum differs from 1 by more than ``atol``.
    """
    p = np.array(marginals, dtype=np.float64)
    if p.ndim != 2 or p.shape[0] < 1 or p.shape[1] < 1:
        raise ValueError(f"marginals must have shape (n, V) with n, V >= 1, got {p.shape}")
    if not np.isfinite(p).all():
        raise ValueError("marginals contain NaN or inf")
    if (p < 0).any():
        raise ValueError("marginal probabilities must be >= 0")
    total = p.sum(axis=1)
    bad = np.abs(total - 1.0) > atol
    if bad.any():
        j = int(np.argmax(bad))
        raise ValueError(f"marginal row {j} sums to {total[j]!r}, not 1 (tolerance {atol})")
    return p / total[:, None]


@dataclass(frozen=True, eq=False)
class Modes:
    """Mode quantities of marginals ``(n, V)``: x* (argmax, ties to the lowest id),
    confidence c, residual mass r (summed over the other tokens, not 1 - c) and
    runner-up probability s, each shape ``(n,)`` float64."""

    x_star: tuple[int, ...]
    c: np.ndarray
    r: np.ndarray
    s: np.ndarray


def marginal_modes(marginals: Any) -> Modes:
    """x*, c, r, s of validated marginals ``(n, V)`` (docs/theory.md, section 1)."""
    p = check_marginals(marginals)
    x_star = tuple(int(v) for v in np.argmax(p, axis=1))
    rows = np.arange(p.shape[0])
    rest = p.copy()
    rest[rows, x_star] = 0.0
    r = np.array([math.fsum(row) for row in rest])
    s = rest.max(axis=1) if p.shape[1] > 1 else np.zeros(p.shape[0])
    return Modes(x_star=x_star, c=p[rows, x_star], r=r, s=s)
