"""Closed-form margins along a sorted confidence profile, batched.

All functions take arrays of shape ``(rows, m)`` already sorted by confidence,
descending (``r`` ascending), and return shape ``(rows, m)`` whose column ``n - 1``
is the quantity for the prefix of length ``n``. They work on numpy and torch.
:func:`theory.rules.sorted_profile` sorts a profile for them, and :func:`at_prefix` reads
one column per row (the value at each row's committed count n).
"""

from __future__ import annotations

import numpy as np

from theory._xp import Array, at_least, cummax, namespace, take_last

__all__ = ["joint_lower_bound", "frechet_margin", "tight_margin", "factor_core",
           "heterogeneity_bonus", "spread_bonus", "at_prefix"]


def _as_array(x: Array) -> Array:
    """Lists and tuples become float64 numpy arrays; arrays pass through untouched."""
    if isinstance(x, (list, tuple, float, int)):
        try:
            return np.asarray(x, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise ValueError(f"margins need a rectangular real array: {err}") from None
    return x


def _ranks(xp, x: Array) -> Array:
    m = x.shape[-1]
    return xp.astype(xp.arange(1, m + 1, device=getattr(x, "device", None)), x.dtype)


def joint_lower_bound(r_sorted: Array, clip: bool = True) -> Array:
    """Fréchet lower bound on joint correctness: L_n = 1 - sum_{j<=n} r_(j) (clipped at 0).

    Reference: [FastdLLM++] section 4; the clip follows the paper.
    """
    r_sorted = _as_array(r_sorted)
    xp = namespace(r_sorted)
    L = 1.0 - xp.cumulative_sum(r_sorted, axis=-1)
    return at_least(xp, L, 0.0) if clip else L


def frechet_margin(r_sorted: Array, clip: bool = True) -> Array:
    """Fréchet profile margin G_n = L_n - U_n with U_n = r_(n).

    .. math:: G_n = \\max(0, 1 - \\sum_{j \\le n} r_{(j)}) - r_{(n)}

    Reference: [FastdLLM++] Thm 4.1 (G_n > 0 implies x* is the unique joint mode).
    """
    r_sorted = _as_array(r_sorted)
    return joint_lower_bound(r_sorted, clip) - r_sorted


def tight_margin(r_sorted: Array, s_sorted: Array, clip: bool = True) -> Array:
    """Tight certificate margin G*_n = L_n - max_{j<=n} s_(j).

    .. math:: G^*_n = \\max(0, 1 - \\sum_{j \\le n} r_{(j)}) - \\max_{j \\le n} s_{(j)}

    Reference: this project, docs/theory/tight_certificate.md.
    """
    r_sorted, s_sorted = _as_array(r_sorted), _as_array(s_sorted)
    xp = namespace(r_sorted)
    return joint_lower_bound(r_sorted, clip) - cummax(xp, s_sorted)


def factor_core(r_sorted: Array) -> Array:
    """Factor core F_n = (n+1) c_(n) - n = 1 - (n+1) r_(n).

    Reference: [FastdLLM++] Prop 4.3.
    """
    r_sorted = _as_array(r_sorted)
    xp = namespace(r_sorted)
    return 1.0 - (_ranks(xp, r_sorted) + 1.0) * r_sorted


def heterogeneity_bonus(r_sorted: Array) -> Array:
    """Heterogeneity bonus B_n = sum_{j<n} (c_(j) - c_(n)) = n r_(n) - sum_{j<=n} r_(j) >= 0.

    Computed as the telescoped sum B_n = sum_{k<n} k (r_(k+1) - r_(k)): on a sorted
    profile every term is >= 0, so B_n keeps full relative precision even on a nearly
    flat prefix, where n r_(n) - sum r_(j) would cancel catastrophically.

    Reference: [FastdLLM++] Prop 4.3 (zero iff the prefix is flat).
    """
    r_sorted = _as_array(r_sorted)
    xp = namespace(r_sorted)
    d = r_sorted[..., 1:] - r_sorted[..., :-1]  # adjacent gaps (exact when close: Sterbenz)
    k = _ranks(xp, r_sorted)[..., :-1]
    B = xp.cumulative_sum(k * d, axis=-1)
    return xp.concat([xp.zeros_like(r_sorted[..., :1]), B], axis=-1)


def spread_bonus(r_sorted: Array, s_sorted: Array) -> Array:
    """Spread bonus r_(n) - max_{j<=n} s_(j) >= 0: what Fréchet gives away to the tight margin.

    Reference: this project, docs/theory/certificate_spread_bonus.md.
    """
    r_sorted, s_sorted = _as_array(r_sorted), _as_array(s_sorted)
    xp = namespace(r_sorted)
    return r_sorted - cummax(xp, s_sorted)


def at_prefix(x: Array, n: Array) -> Array:
    """Each row's value for its prefix of length n: ``x[i, n_i - 1]``, NaN where n_i = 0.

    ``x``: (rows, m) float, a per-prefix quantity of this module; ``n``: (rows,) integers
    in 0..m (a rule's ``Commit.n``). Returns shape (rows,), ``x``'s dtype.

    >>> at_prefix(np.array([[0.5, 0.25], [0.125, 1.0]]), np.array([2, 0])).tolist()
    [0.25, nan]
    """
    x = _as_array(x)
    xp = namespace(x)
    n = xp.astype(xp.asarray(n, device=getattr(x, "device", None)), xp.int64)
    if x.shape[-1] == 0:
        return xp.full(n.shape, float("nan"), dtype=x.dtype, device=getattr(x, "device", None))
    v = take_last(xp, x, at_least(xp, n - 1, 0)[:, None])[:, 0]
    return xp.where(n > 0, v, float("nan"))
