"""Certificates that x* is the unique joint mode, from marginals alone.

[FastdLLM++] Kasa et al., arXiv 2606.02955, Thm 4.1, Cor 4.2, Prop 4.3, Cor 4.4, and
the tight certificate (this project, docs/theory/tight_certificate.md). Functions here
take one selected set: a vector ``c`` of n confidences (any order; sorted internally,
descending) or marginals of shape ``(n, V)``. The batched, per-prefix versions the
rules use live in :mod:`theory.margins`; tests check both agree. ``check_*`` functions
verify a theorem that is an implication on an explicit joint, or exactly in rationals.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np

from theory import domains, margins
from theory.frechet import extremal_coupling
from theory.joint import ExplicitJoint, marginal_modes

__all__ = ["frechet_certificate", "check_frechet_certificate", "equal_confidence_margin",
           "check_frechet_equals_factor", "heterogeneity_decomposition",
           "check_heterogeneity_decomposition", "factor_implies_frechet",
           "tight_certificate", "tight_extremal_coupling", "check_tight_certificate",
           "certificate_spread_bonus"]

CERTIFIED = 1e-12  # a float margin above this counts as positive in the checkers


def _sorted_c(c: Any) -> np.ndarray:
    c = np.asarray(c, dtype=np.float64).ravel()
    if c.size == 0:
        raise ValueError("need at least one confidence")
    if np.isnan(c).any() or (c < 0).any() or (c > 1).any():
        raise ValueError("confidences must lie in [0, 1]")
    return np.sort(c)[::-1]


def _exact(c: Any) -> list[Fraction]:
    return [Fraction(float(v)) for v in _sorted_c(c)]


def frechet_certificate(c: Any, clip: bool = True) -> float:
    """Fréchet profile margin G_n of a set of n confidences; G_n > 0 certifies that
    x* is the unique mode of every joint with these marginals.

    .. math:: G_n = \\max\\Big(0, 1 - \\sum_{j \\le n} r_{(j)}\\Big) - r_{(n)} > 0
              \\implies \\operatorname{argmax}_x p(x) = \\{x^*\\}

    Hypotheses: none beyond c_j in [0, 1] (r_j = 1 - c_j, r_(n) = max r).

    Reference: [FastdLLM++] Thm 4.1.

    >>> frechet_certificate([0.75, 0.875])
    0.375
    """
    r = (1.0 - _sorted_c(c))[None, :]
    return float(margins.frechet_margin(r, clip)[0, -1])


def check_frechet_certificate(joint: ExplicitJoint) -> bool:
    """Thm 4.1 on an explicit joint: p(x*) - max_{z != x*} p(z) >= G_n (up to 1e-12),
    and G_n > 0 implies x* is the unique joint mode.

    >>> check_frechet_certificate(ExplicitJoint.product_of_marginals([[0.9, 0.1]] * 3))
    True
    """
    modes = marginal_modes(joint.marginals)
    r = np.sort(modes.r)[None, :]
    G = float(margins.frechet_margin(r)[0, -1])
    margin = joint.mode_margin(modes.x_star)
    return margin >= G - CERTIFIED and (G <= CERTIFIED or joint.unique_mode() == modes.x_star)


def equal_confidence_margin(n: int, c: float) -> float:
    """With n equal confidences c, the Fréchet margin is the factor rule's quantity.

    .. math:: G_n = 1 - (n+1)(1-c), \\text{ so } G_n > \\delta \\iff (n+1)(1-c) < 1-\\delta

    Hypotheses: n >= 1, c in [0, 1], n (1 - c) <= 1 (else the clip at 0 applies).
    Hence Fréchet(delta) == Factor(f = 1 - delta) on flat profiles
    (:func:`check_frechet_equals_factor`).

    Reference: [FastdLLM++] Cor 4.2.

    >>> equal_confidence_margin(3, 0.875)
    0.5
    """
    c = domains.PROBABILITY.check(c)
    if int(n) < 1 or int(n) * (1.0 - c) > 1.0:
        raise ValueError(f"need n >= 1 and n (1 - c) <= 1, got n = {n}, c = {c!r}")
    return 1.0 - (int(n) + 1) * (1.0 - c)


def check_frechet_equals_factor(n: int, c: float, delta: float, clip: bool = True) -> bool:
    """Exactly (in rationals): on a flat profile of n confidences c, every prefix k <= n
    passes Fréchet(delta) iff it passes Factor(f = 1 - delta).

    Hypotheses: delta < 1 (so f > 0) and, with the clip, delta >= 0 (the clip changes
    decisions only for delta < 0).

    >>> check_frechet_equals_factor(5, 0.9, 0.3)
    True
    """
    delta = domains.DELTA.check(delta)
    if delta >= 1.0 or (clip and delta < 0.0):
        raise ValueError(f"delta = {delta!r} must lie in [0, 1) (in (-1, 1) without the clip)")
    r, d = 1 - Fraction(domains.PROBABILITY.check(c)), Fraction(delta)
    for k in range(1, int(n) + 1):
        L = 1 - k * r
        G = (max(Fraction(0), L) if clip else L) - r
        if (G > d) != ((k + 1) * r < 1 - d):
            return False
    return True


def heterogeneity_decomposition(c: Any) -> tuple[float, float, float]:
    """(G_n, F_n, B_n) of a set of confidences, with G_n = F_n + B_n and B_n >= 0.

    .. math:: G_n = \\underbrace{(n+1) c_{(n)} - n}_{F_n}
              + \\underbrace{\\sum_{j<n} (c_{(j)} - c_{(n)})}_{B_n \\ge 0}

    Hypotheses: c_j in [0, 1] (any order; sorted descending here). G_n here is
    unclipped (1 - sum r - r_(n)); B_n = 0 iff the profile is flat.

    Reference: [FastdLLM++] Prop 4.3 (heterogeneity bonus).

    >>> heterogeneity_decomposition([0.5, 0.75, 1.0])
    (-0.25, -1.0, 0.75)
    """
    r = (1.0 - _sorted_c(c))[None, :]
    G = float(margins.frechet_margin(r, clip=False)[0, -1])
    return G, float(margins.factor_core(r)[0, -1]), float(margins.heterogeneity_bonus(r)[0, -1])


def check_heterogeneity_decomposition(c: Any) -> bool:
    """Prop 4.3 exactly (rationals): G_n == F_n + B_n, B_n >= 0, B_n == 0 iff flat.

    >>> check_heterogeneity_decomposition([0.99, 0.95, 0.82])
    True
    """
    cs = _exact(c)
    n = len(cs)
    G = 1 - sum((1 - v for v in cs), Fraction(0)) - (1 - cs[-1])
    F = (n + 1) * cs[-1] - n
    B = sum((v - cs[-1] for v in cs[:-1]), Fraction(0))
    return G == F + B and B >= 0 and (B == 0) == (len(set(cs)) == 1)


def factor_implies_frechet(c: Any, delta: float) -> bool:
    """Exactly (rationals), for every prefix n of the sorted profile: if Factor(f = 1 - delta)
    accepts n then Fréchet(delta) accepts n.

    .. math:: (n+1) r_{(n)} < 1 - \\delta \\implies G_n = F_n + B_n \\ge F_n > \\delta

    Hypotheses: delta in [-1, 1).

    Reference: [FastdLLM++] Cor 4.4. Worked example of the paper: profile
    (0.99, 0.95, 0.82, 0.78, 0.74), factor f = 0.7 commits 2, Fréchet delta = 0.3
    commits 4.

    >>> factor_implies_frechet([0.99, 0.95, 0.82, 0.78, 0.74], 0.3)
    True
    """
    delta = domains.DELTA.check(delta)
    if delta >= 1.0:
        raise ValueError(f"delta = {delta!r} must be < 1 (f = 1 - delta > 0)")
    d, total = Fraction(delta), Fraction(0)
    for k, ck in enumerate(_exact(c), start=1):
        rk = 1 - ck
        total += rk
        if (k + 1) * rk < 1 - d and not max(Fraction(0), 1 - total) - rk > d:
            return False
    return True


def tight_certificate(marginals: Any) -> float:
    """The exact worst-case mode margin over all joints with marginals ``(n, V)``.

    .. math:: \\min_{p \\in \\Pi(p_1, \\dots, p_n)} \\Big[p(x^*) - \\max_{z \\ne x^*} p(z)\\Big]
              = 1 - \\sum_j r_j - \\max_j s_j =: G^*_n

    Hypotheses: sum_j r_j <= 1 (else ValueError; then the margin is <= 0 and has no
    closed form: use :func:`theory.bruteforce.worst_case_margin`). Lower bound from
    Fréchet and p(z) <= p_k(z_k) <= s_k; attained by :func:`tight_extremal_coupling`.
    So G*_n > 0 is necessary and sufficient for x* to be the unique mode of every
    joint with these marginals.

    Reference: this project, docs/theory/tight_certificate.md.

    >>> tight_certificate([[0.75, 0.25, 0.0], [0.875, 0.0625, 0.0625]])
    0.375
    """
    modes = marginal_modes(marginals)
    total = math.fsum(modes.r)
    if total > 1.0:
        raise ValueError(f"tight_certificate needs sum r <= 1, got sum r = {total!r}")
    return math.fsum([1.0, -total, -float(modes.s.max())])


def tight_extremal_coupling(marginals: Any) -> ExplicitJoint:
    """A joint with marginals ``(n, V)`` whose mode margin equals :func:`tight_certificate`:
    failure events disjoint, mass s_k on x* with the runner-up at the k maximising s_k.

    Hypotheses: sum r <= 1 (else ValueError).

    >>> m = [[0.75, 0.25, 0.0], [0.875, 0.0625, 0.0625]]
    >>> tight_extremal_coupling(m).mode_margin((0, 0))
    0.375
    """
    modes = marginal_modes(marginals)
    if math.fsum(modes.r) > 1.0:
        raise ValueError(f"tight_extremal_coupling needs sum r <= 1, got {math.fsum(modes.r)!r}")
    return extremal_coupling(marginals)


def check_tight_certificate(joint: ExplicitJoint) -> bool:
    """The tight certificate on an explicit joint with sum r <= 1: its mode margin is >= G*_n (up to
    1e-12), and G*_n > 0 implies x* is the unique joint mode.

    >>> check_tight_certificate(ExplicitJoint.product_of_marginals([[0.9, 0.1]] * 3))
    True
    """
    G = tight_certificate(joint.marginals)
    x_star = joint.mode_tokens
    return (joint.mode_margin(x_star) >= G - CERTIFIED
            and (G <= CERTIFIED or joint.unique_mode() == x_star))


def certificate_spread_bonus(marginals: Any) -> float:
    """G*_n - G_n = r_(n) - max_j s_j >= 0: what Fréchet gives away by bounding each
    competitor by the largest residual mass instead of the largest runner-up.

    .. math:: G^*_n = G_n + \\Big(\\max_j r_j - \\max_j s_j\\Big), \\quad s_j \\le r_j

    Hypotheses: marginals ``(n, V)``; holds with or without the clip (both share L_n).

    Reference: this project, docs/theory/certificate_spread_bonus.md (batched:
    :func:`theory.margins.spread_bonus`).

    >>> certificate_spread_bonus([[0.75, 0.125, 0.125], [0.875, 0.0625, 0.0625]])
    0.125
    """
    modes = marginal_modes(marginals)
    order = np.argsort(modes.r, kind="stable")
    return float(margins.spread_bonus(modes.r[order][None, :], modes.s[order][None, :])[0, -1])
