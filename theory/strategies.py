"""Hypothesis strategies for property tests of parallel-decoding theory (exported).

Imports hypothesis; :mod:`theory` does not import this module. Sizes ``n``, ``V``,
``rows``, ``m`` accept an int or a strategy of ints. Edge cases are drawn on
purpose: one-hot rows (c = 1 exactly), tied top tokens, tied confidences across
positions, a single position, padding positions and rows with none valid.

>>> from hypothesis import given
>>> @given(marginal_matrices(3, 4))
... def test_rows_sum_to_one(p):
...     assert abs(p.sum(axis=1) - 1).max() < 1e-12
>>> test_rows_sum_to_one()
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st

from theory import domains
from theory.bruteforce import CouplingLP
from theory.frechet import extremal_coupling, nested_failure_coupling, quantile_coupling
from theory.joint import ExplicitJoint, check_marginals, entropy
from theory.profile import Profile, profile_from_confidences
from theory.rules import (
    EntropyBound,
    Factor,
    Frechet,
    Quota,
    Rule,
    Threshold,
    TightCertificate,
)

__all__ = ["marginal_rows", "marginal_matrices", "ConfidenceArrays", "confidence_arrays",
           "confidence_profiles", "explicit_joints", "couplings", "rules", "logit_arrays"]

_unit = st.floats(0.0, 1.0, allow_nan=False)
_ROWS, _M, _V = st.integers(1, 4), st.integers(1, 6), st.integers(1, 5)
_LOGIT_ROWS, _LOGIT_M, _LOGIT_V = st.integers(1, 3), st.integers(1, 5), st.integers(2, 6)


def _size(x: int | st.SearchStrategy[int]) -> st.SearchStrategy[int]:
    return x if isinstance(x, st.SearchStrategy) else st.just(int(x))


@st.composite
def marginal_rows(draw: Any, V: int) -> np.ndarray:
    """One probability vector of length V (float64, sums to 1): random with a boosted top
    token (confidences near 1 are common), one-hot, a tie at the top, or uniform."""
    kind = draw(st.sampled_from(["random", "random", "random", "one-hot", "tie", "uniform"]))
    top = draw(st.integers(0, V - 1))
    if kind == "one-hot" or V == 1:
        return np.eye(V)[top]
    if kind == "uniform":
        return np.full(V, 1.0 / V)
    w = np.array(draw(st.lists(_unit, min_size=V, max_size=V)))
    if kind == "tie":
        other = (top + 1 + draw(st.integers(0, V - 2))) % V
        w[top] = w[other] = w.max() + 1.0
    else:
        w[top] += draw(st.sampled_from([0.0, 1.0, 10.0, 1e3, 1e6]))
    return w / w.sum() if w.sum() > 0 else np.eye(V)[top]


@st.composite
def marginal_matrices(draw: Any, n: int | st.SearchStrategy[int],
                      V: int | st.SearchStrategy[int],
                      max_residual_sum: float | None = None) -> np.ndarray:
    """Marginals of shape ``(n, V)``. With ``max_residual_sum``, each row is mixed with
    the point mass at its argmax so that sum_j r_j <= max_residual_sum."""
    n_, V_ = draw(_size(n)), draw(_size(V))
    p = np.stack([draw(marginal_rows(V_)) for _ in range(n_)])
    if draw(st.booleans()) and n_ > 1:  # tied confidences across positions
        p[draw(st.integers(1, n_ - 1))] = p[0]
    if max_residual_sum is not None:
        top = p.argmax(axis=1)
        total = float((1.0 - p[np.arange(n_), top]).sum())
        if total > max_residual_sum:
            lam = max_residual_sum / total * (1.0 - 1e-12)
            p = lam * p + (1.0 - lam) * np.eye(V_)[top]
    return check_marginals(p)


@dataclass(frozen=True, eq=False)
class ConfidenceArrays:
    """c, s, H, valid of shape ``(rows, m)``, computed from ``marginals`` ``(rows, m, V)``."""

    c: np.ndarray
    s: np.ndarray
    H: np.ndarray
    valid: np.ndarray
    marginals: np.ndarray


@st.composite
def confidence_arrays(draw: Any, rows: int | st.SearchStrategy[int] = _ROWS,
                      m: int | st.SearchStrategy[int] = _M,
                      V: int | st.SearchStrategy[int] = _V,
                      padding: bool = True) -> ConfidenceArrays:
    """Arrays c, s, H consistent with explicit marginals; with ``padding``, some
    positions are invalid and some rows may have no valid position."""
    rows_, m_ = draw(_size(rows)), draw(_size(m))
    V_ = draw(_size(V))
    P = np.stack([draw(marginal_matrices(m_, V_)) for _ in range(rows_)])
    ordered = np.sort(P, axis=-1)
    c = ordered[..., -1]
    s = ordered[..., -2] if V_ > 1 else np.zeros_like(c)
    H = np.array([[entropy(p) for p in row] for row in P])
    valid = np.ones((rows_, m_), dtype=bool)
    if padding and draw(st.booleans()):
        valid = np.array(draw(st.lists(st.lists(st.booleans(), min_size=m_, max_size=m_),
                                       min_size=rows_, max_size=rows_)), dtype=bool)
    return ConfidenceArrays(c=c, s=np.minimum(s, 1.0 - c), H=H, valid=valid, marginals=P)


def confidence_profiles(rows: int | st.SearchStrategy[int] = _ROWS,
                        m: int | st.SearchStrategy[int] = _M,
                        V: int | st.SearchStrategy[int] = _V,
                        padding: bool = True) -> st.SearchStrategy[Profile]:
    """:class:`theory.Profile` objects (float64) built from :func:`confidence_arrays`."""
    return confidence_arrays(rows, m, V, padding).map(
        lambda a: profile_from_confidences(a.c, a.s, a.H, a.valid))


@st.composite
def explicit_joints(draw: Any, n: int | st.SearchStrategy[int],
                    V: int | st.SearchStrategy[int]) -> ExplicitJoint:
    """Joints over ``V ** n`` cells: random tables with zeros and a boosted cell,
    products of random marginals, and extremal couplings."""
    n_, V_ = draw(_size(n)), draw(_size(V))
    kind = draw(st.sampled_from(["table", "table", "product", "extremal"]))
    if kind != "table":
        p = draw(marginal_matrices(n_, V_))
        return (ExplicitJoint.product_of_marginals(p) if kind == "product"
                else extremal_coupling(p))
    w = np.array(draw(st.lists(_unit, min_size=V_ ** n_, max_size=V_ ** n_)))
    w[draw(st.integers(0, w.size - 1))] += draw(st.sampled_from([0.0, 1.0, 10.0]))
    if w.sum() == 0:
        w[0] = 1.0
    return ExplicitJoint((w / math.fsum(w)).reshape((V_,) * n_))


@st.composite
def couplings(draw: Any, marginals: Any) -> ExplicitJoint:
    """Random joints whose marginals are ``marginals`` ``(n, V)`` (within 1e-9): mixtures
    of the product coupling, the disjoint-failure and nested-failure couplings, a
    quantile coupling with drawn token orders and a vertex of the coupling polytope (an
    LP with a random objective)."""
    P = check_marginals(marginals)
    n, V = P.shape
    orders = [draw(st.permutations(range(V))) for _ in range(n)]
    parts = [ExplicitJoint.product_of_marginals(P), extremal_coupling(P),
             nested_failure_coupling(P), quantile_coupling(P, orders)]
    lp = CouplingLP(P)
    size = len(lp.cells)
    parts.append(lp.vertex(np.array(draw(st.lists(st.floats(-1.0, 1.0), min_size=size,
                                                   max_size=size)))))
    weights = np.array(draw(st.lists(_unit, min_size=len(parts), max_size=len(parts))))
    if weights.sum() == 0:
        weights[draw(st.integers(0, len(parts) - 1))] = 1.0
    table = sum(w * j.table for w, j in zip(weights / weights.sum(), parts, strict=True))
    return ExplicitJoint(table / math.fsum(np.ravel(table)))


def rules() -> st.SearchStrategy[Rule]:
    """Every commit rule with parameters from :mod:`theory.domains` (plus moderate values
    where the domain is unbounded), the Fast-dLLM quirk switch included."""
    f = st.one_of(st.floats(0.01, 3.0), domains.FACTOR.strategy())
    gamma = st.one_of(st.floats(0.0, 3.0), domains.GAMMA.strategy())
    return st.one_of(
        st.integers(1, 8).map(Quota),
        domains.TAU.strategy().map(Threshold),
        st.builds(Factor, f, st.booleans()),
        st.builds(Frechet, domains.DELTA.strategy(), st.booleans()),
        st.builds(TightCertificate, domains.DELTA.strategy(), st.booleans()),
        gamma.map(EntropyBound))


@st.composite
def logit_arrays(draw: Any, rows: int | st.SearchStrategy[int] = _LOGIT_ROWS,
                 m: int | st.SearchStrategy[int] = _LOGIT_M,
                 V: int | st.SearchStrategy[int] = _LOGIT_V,
                 dtype: Any = np.float32) -> np.ndarray:
    """Logits ``(rows, m, V)``; some positions have a top logit 20 to 40 above the rest, so
    c rounds to 1 in float32 while r = 1 - c stays positive (within 1e-9 of 1)."""
    rows_, m_, V_ = draw(_size(rows)), draw(_size(m)), draw(_size(V))
    size = rows_ * m_ * V_
    z = np.array(draw(st.lists(st.floats(-5.0, 5.0), min_size=size, max_size=size)))
    z = z.reshape(rows_, m_, V_)
    gaps = np.array(draw(st.lists(st.sampled_from([0.0, 0.0, 20.0, 40.0]),
                                  min_size=rows_ * m_, max_size=rows_ * m_)))
    z[..., 0] += gaps.reshape(rows_, m_)
    return z.astype(dtype)
