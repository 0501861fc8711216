"""Parametric families of confidence profiles, for studies that need only marginals.

Each generator takes ``rng`` and returns a float64 :class:`theory.Profile` of shape
(rows, m) (and :func:`softmax_marginals` the marginals themselves). A heterogeneity
control of 0 gives a flat profile (every position alike); larger values spread the
confidences, which is where the Fréchet rule's heterogeneity bonus pays.

* :func:`lognormal_profile`: log r_j ~ Normal(log r_med, sigma^2); the runner-up takes
  a fraction u_j ~ Uniform(spread_low, 1) of the residual mass (u = 1: s = r).
* :func:`two_level_profile`: a fraction of near-certain positions (residual r_low) among
  uncertain ones (residual r_high), in random order.
* :func:`softmax_marginals`: full marginals softmax(beta_j g_j), g_j ~ Normal(0, I_V),
  with sharpness beta_j = beta exp(sigma z_j), z_j ~ Normal(0, 1); their profile is
  :func:`theory.profile_from_probabilities`.
"""

from __future__ import annotations

import numpy as np

from simulate.chain import check_rng
from theory import Profile, profile_from_confidences
from theory.domains import PROBABILITY, Integer, Real

__all__ = ["lognormal_profile", "two_level_profile", "softmax_marginals"]

ROWS = Integer("rows", 1)
POSITIONS = Integer("m", 1)
SIGMA = Real("sigma", 0.0, np.inf, high_open=True, meaning="heterogeneity (log-scale spread)")
RESIDUAL = Real("residual", 0.0, 0.5, low_open=True,
                meaning="residual mass r = 1 - c (at most 1/2, so that c >= s)")
SHARP = Real("beta", 0.0, np.inf, low_open=True, high_open=True, meaning="softmax sharpness")


def lognormal_profile(rows: int, m: int, rng: np.random.Generator, *, r_median: float = 0.02,
                      sigma: float = 1.0, spread_low: float = 1.0) -> Profile:
    """Residuals log-normal around ``r_median`` with spread ``sigma`` (clipped to (0, 1/2]).

    ``spread_low`` in [0, 1] sets the runner-up share u ~ Uniform(spread_low, 1) of the
    residual: 1 puts all residual mass on one token (s = r, no spread bonus).
    """
    rows, m = ROWS.check(rows), POSITIONS.check(m)
    r_median, sigma = RESIDUAL.check(r_median), SIGMA.check(sigma)
    spread_low = PROBABILITY.check(spread_low)
    with np.errstate(over="ignore"):  # a huge sigma: r = inf, clipped to 1/2 below
        r = np.exp(np.log(r_median) + sigma * check_rng(rng).standard_normal((rows, m)))
    r = np.clip(r, 1e-300, 0.5)
    u = rng.uniform(spread_low, 1.0, size=(rows, m))
    return profile_from_confidences(1.0 - r, s=u * r)


def two_level_profile(rows: int, m: int, rng: np.random.Generator, *, head: float = 0.5,
                      r_low: float = 0.001, r_high: float = 0.1) -> Profile:
    """Each position is near-certain (r = ``r_low``) with probability ``head``, else
    uncertain (r = ``r_high``); s = r. ``head`` of 0 or 1 gives a flat profile."""
    rows, m = ROWS.check(rows), POSITIONS.check(m)
    head = PROBABILITY.check(head)
    r_low, r_high = RESIDUAL.check(r_low), RESIDUAL.check(r_high)
    r = np.where(check_rng(rng).random((rows, m)) < head, r_low, r_high)
    return profile_from_confidences(1.0 - r, s=r)


def softmax_marginals(rows: int, m: int, V: int, rng: np.random.Generator, *,
                      beta: float = 4.0, sigma: float = 0.5) -> np.ndarray:
    """Marginals (rows, m, V) float64: softmax(beta_j g_j) with beta_j = beta exp(sigma z_j)."""
    rows, m, V = ROWS.check(rows), POSITIONS.check(m), Integer("V", 2).check(V)
    beta, sigma = SHARP.check(beta), SIGMA.check(sigma)
    with np.errstate(over="ignore"):
        beta_j = beta * np.exp(sigma * check_rng(rng).standard_normal((rows, m, 1)))
        g = rng.standard_normal((rows, m, V))
        z = beta_j * g
    if np.isfinite(z).all():
        with np.errstate(over="ignore"):  # -1e308 - 1e308 = -inf: probability 0, as it is
            z = z - z.max(axis=-1, keepdims=True)
    else:  # beta_j g overflowed: shift g first, so the limit (one-hot) comes out, not NaN
        gap = g - g.max(axis=-1, keepdims=True)
        with np.errstate(over="ignore", invalid="ignore"):
            z = np.where(gap == 0, 0.0, beta_j * gap)
    p = np.exp(z)
    return p / p.sum(axis=-1, keepdims=True)
