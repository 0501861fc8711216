"""[FastdLLM] Theorem 1 (parallel greedy decoding under high confidence), its bounds,
and the counterexample showing (n+1) eps <= 1 cannot be relaxed.

[FastdLLM] Wu et al., "Fast-dLLM", arXiv 2505.22618; docs/theory/fastdllm_theorem1.md,
fastdllm_tv_bound.md and fastdllm_kl_bound.md. Total variation is TV(p, q) = 1/2 sum_x |p(x) - q(x)|
and KL is in nats; q is always the product of p's marginals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from theory.frechet import disjoint_binary_failures
from theory.joint import ExplicitJoint

__all__ = ["Theorem1Bounds", "fastdllm_theorem1", "check_fastdllm_theorem1",
           "theorem1_counterexample", "fastdllm_tv_bound", "fastdllm_kl_bound",
           "binary_entropy"]


@dataclass(frozen=True)
class Theorem1Bounds:
    """What [FastdLLM] Theorem 1 certifies for n positions at level eps.

    ``mode_lower``: p(x*) >= 1 - n eps; ``competitor_upper``: p(z) < eps for z != x*.
    The sharper ``mode_lower_sharp`` = 1 - sum r and ``competitor_upper_sharp`` = max r
    come from the same proof.
    """

    n: int
    eps: float
    mode_lower: float
    competitor_upper: float
    mode_lower_sharp: float
    competitor_upper_sharp: float


def _check_eps(n: int, eps: float) -> float:
    eps = float(eps)
    if n < 1:
        raise ValueError(f"need at least one position, got n = {n}")
    if not 0.0 < eps <= 1.0 or math.isnan(eps):
        raise ValueError(f"eps = {eps!r} must lie in (0, 1]")
    if (n + 1) * eps > 1.0:
        raise ValueError(f"hypothesis (n+1) eps <= 1 fails: n = {n}, eps = {eps!r}, "
                         f"(n+1) eps = {(n + 1) * eps!r}")
    return eps


def fastdllm_theorem1(c: Any, eps: float) -> Theorem1Bounds:
    """If every c_j > 1 - eps and (n+1) eps <= 1, then x* is the unique mode of every
    joint with these marginals (and equals the product-of-marginals mode).

    .. math:: p(x^*) \\ge 1 - \\sum_j r_j > 1 - n\\epsilon \\ge \\epsilon > r_k \\ge p(z)
              \\quad (z \\ne x^*, z_k \\ne x^*_k)

    Hypotheses: c_j = p_j(x*_j) > 1 - eps for every j, and (n+1) eps <= 1; a broken
    hypothesis raises ValueError naming the value.

    Reference: [FastdLLM] Wu et al., arXiv 2505.22618, Theorem 1
    (docs/theory/fastdllm_theorem1.md).

    >>> b = fastdllm_theorem1([0.95, 0.9], eps=0.25)
    >>> b.mode_lower, b.competitor_upper
    (0.5, 0.25)
    """
    c = np.asarray(c, dtype=np.float64).ravel()
    eps = _check_eps(int(c.size), eps)
    if np.isnan(c).any() or (c > 1.0 + 1e-12).any():
        raise ValueError("confidences must be numbers in [0, 1]")
    c = np.minimum(c, 1.0)  # round-off of marginals summed from a joint table
    bad = np.flatnonzero(c <= 1.0 - eps)
    if bad.size:
        j = int(bad[0])
        raise ValueError(f"hypothesis c_j > 1 - eps fails at j = {j}: c_j = {c[j]!r}, "
                         f"1 - eps = {1.0 - eps!r}")
    r = 1.0 - c
    return Theorem1Bounds(n=int(c.size), eps=eps, mode_lower=1.0 - c.size * eps,
                          competitor_upper=eps, mode_lower_sharp=1.0 - math.fsum(r),
                          competitor_upper_sharp=float(r.max()))


def check_fastdllm_theorem1(joint: ExplicitJoint, eps: float) -> bool:
    """Check Theorem 1's conclusions on an explicit joint satisfying its hypotheses:
    x* is the unique joint mode, p(x*) >= 1 - n eps and every other p(z) < eps.

    Raises ValueError (from :func:`fastdllm_theorem1`) when the hypotheses fail.

    >>> check_fastdllm_theorem1(ExplicitJoint.product_of_marginals([[0.9, 0.1]] * 2), 0.2)
    True
    """
    x_star = joint.mode_tokens
    c = [joint.marginal(j)[x_star[j]] for j in range(joint.n)]
    bounds = fastdllm_theorem1(c, eps)
    others = joint.table.copy()
    others[x_star] = 0.0
    return (joint.unique_mode() == x_star
            and joint.prob(x_star) >= bounds.mode_lower - 1e-12
            and float(others.max()) < bounds.competitor_upper)


def theorem1_counterexample(n: int, eps: float) -> ExplicitJoint:
    """A joint over {0,1}^n with every marginal P(X_j = 1) = 1 - eps whose joint mode is
    not x* = (1, ..., 1), for any eps in (1/(n+1), 1/2): Theorem 1 is tight.

    The failure events are laid out disjointly (circularly), so
    p(x*) = max(0, 1 - n eps) < eps, while each single failure carries mass eps when
    n eps <= 1 (and some tuple other than x* carries positive mass otherwise).

    >>> joint = theorem1_counterexample(2, 0.4)
    >>> round(joint.prob((1, 1)), 12), joint.prob((0, 1)), joint.prob((1, 0))
    (0.2, 0.4, 0.4)
    """
    n, eps = int(n), float(eps)
    if n < 2:
        raise ValueError(f"need n >= 2 (for n = 1 the interval (1/2, 1/2) is empty), got {n}")
    if not 1.0 / (n + 1) < eps < 0.5:
        raise ValueError(f"eps = {eps!r} must lie in (1/(n+1), 1/2) = ({1 / (n + 1)!r}, 0.5)")
    return disjoint_binary_failures([Fraction(eps)] * n)  # exact eps: no rounding of 1 - eps


def binary_entropy(eps: float) -> float:
    """H_b(eps) = -eps ln eps - (1 - eps) ln(1 - eps) in nats (H_b(0) = H_b(1) = 0)."""
    if not 0.0 <= eps <= 1.0:
        raise ValueError(f"eps = {eps!r} must lie in [0, 1]")
    return -sum(t * math.log(t) for t in (eps, 1.0 - eps) if t > 0)


def fastdllm_tv_bound(n: int, eps: float) -> float:
    """Bound on TV(p, q) between a joint p and the product q of its marginals when every
    c_j > 1 - eps and (n+1) eps <= 1.

    .. math:: \\mathrm{TV}(p, q) = \\tfrac12 \\sum_x |p(x) - q(x)| < \\frac{(3n-1)\\,\\epsilon}{2}

    Hypotheses: as :func:`fastdllm_theorem1` (checked here only for n and eps).
    Proof: p(x*) and q(x*) both lie in [1 - sum r, 1 - max r] (Fréchet for p, the same
    bounds for the product q), so |p(x*) - q(x*)| <= sum r - max r < (n-1) eps for
    n >= 2; the rest of the mass is below n eps on each side.

    Reference: [FastdLLM] Wu et al., arXiv 2505.22618, Theorem 1 (TV part);
    docs/theory/fastdllm_tv_bound.md.

    >>> fastdllm_tv_bound(3, 0.125)
    0.5
    """
    return (3 * int(n) - 1) * _check_eps(int(n), eps) / 2.0


def fastdllm_kl_bound(n: int, eps: float, V: int) -> float:
    """Bound on KL(p || q), q the product of p's marginals, under Theorem 1's hypotheses.

    .. math:: \\mathrm{KL}(p \\,\\|\\, q) = \\sum_j H(X_j) - H(X)
              < (n-1)\\big(H_b(\\epsilon) + \\epsilon \\ln(|V|-1)\\big)

    Hypotheses: as :func:`fastdllm_theorem1`, vocabulary size |V| = V >= 2.
    Disagreement: for n = 1 both sides are 0, so the strict ``<`` fails; it holds
    with ``<=`` for every n and strictly for n >= 2 (KL <= sum H - max H
    <= (n-1) max_j H(X_j) and H(X_j) <= H_b(r_j) + r_j ln(V-1) < H_b(eps) + eps ln(V-1)).

    Reference: [FastdLLM] Wu et al., arXiv 2505.22618, Theorem 1 (KL part);
    docs/theory/fastdllm_kl_bound.md (the correction for n = 1).

    >>> fastdllm_kl_bound(1, 0.25, 5)
    0.0
    """
    eps = _check_eps(int(n), eps)
    if int(V) < 2:
        raise ValueError(f"vocabulary size V = {V} must be >= 2")
    return (int(n) - 1) * (binary_entropy(eps) + eps * math.log(int(V) - 1))
