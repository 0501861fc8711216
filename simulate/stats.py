"""Monte Carlo estimates with standard errors, for clustered samples.

Simulated sequences come in clusters: every sequence drawn from one random chain shares
that chain. Treating them as independent understates the error, so every estimate here
is a ratio R = sum(num) / sum(den) with the cluster-robust (sandwich) standard error

    se^2 = G / (G - 1) * sum_g (sum_{i in g} (num_i - R den_i))^2 / (sum den)^2

over G clusters (each unit its own cluster when none are given). A mean is the ratio
with den = 1. Rates get a Wilson score interval on the design-effect-adjusted sample size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Estimate", "ratio", "mean", "rate_interval", "Z95"]

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Estimate:
    """estimate ± se (NaN when it cannot be had) over n_clusters clusters.

    ``n`` counts trials: the sum of the denominators when they are counts (a rate), else
    the number of units (a mean).
    """

    estimate: float
    se: float
    n: int
    n_clusters: int

    def interval(self, z: float = Z95) -> tuple[float, float]:
        """The normal interval estimate ± z se."""
        return self.estimate - z * self.se, self.estimate + z * self.se


def ratio(num: np.ndarray, den: np.ndarray, clusters: np.ndarray | None = None) -> Estimate:
    """sum(num) / sum(den) with its cluster-robust standard error (module docstring).

    >>> e = ratio(np.array([1.0, 0, 1, 0]), np.ones(4))
    >>> e.estimate, round(e.se, 12)
    (0.5, 0.288675134595)
    """
    num = np.asarray(num, dtype=np.float64).ravel()
    den = np.asarray(den, dtype=np.float64).ravel()
    if num.shape != den.shape:
        raise ValueError(f"num and den differ in size: {num.shape} vs {den.shape}")
    ids = np.arange(num.size) if clusters is None else np.asarray(clusters).ravel()
    if ids.shape != num.shape:
        raise ValueError(f"clusters has size {ids.size}, expected {num.size}")
    total = den.sum()
    _, g = np.unique(ids, return_inverse=True)
    G = int(g.max(initial=-1)) + 1
    if total <= 0:
        return Estimate(math.nan, math.nan, int(num.size), G)
    R = float(num.sum() / total)
    resid = np.bincount(g, weights=num - R * den, minlength=G)
    se = math.sqrt(G / (G - 1) * float((resid ** 2).sum())) / total if G > 1 else math.nan
    return Estimate(R, se, int(den.sum()) if np.all(den == np.round(den)) else int(num.size), G)


def mean(values: np.ndarray, clusters: np.ndarray | None = None) -> Estimate:
    """The mean of ``values`` with its cluster-robust standard error."""
    values = np.asarray(values, dtype=np.float64).ravel()
    return ratio(values, np.ones_like(values), clusters)


def rate_interval(e: Estimate, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a rate estimated from e.n trials, with the sample size
    divided by the design effect deff = se^2 / (p (1 - p) / n) (deff >= 1; 1 when p is 0
    or 1, where the sandwich gives no variance). For p = 0 the upper end is about 3.84/n.
    """
    p, n = e.estimate, e.n
    if n <= 0 or math.isnan(p):
        return math.nan, math.nan
    iid = p * (1 - p) / n
    deff = max(1.0, e.se ** 2 / iid) if iid > 0 and not math.isnan(e.se) else 1.0
    n_eff = n / deff
    centre = (p + z * z / (2 * n_eff)) / (1 + z * z / n_eff)
    half = z * math.sqrt(p * (1 - p) / n_eff + z * z / (4 * n_eff ** 2)) / (1 + z * z / n_eff)
    lo = 0.0 if p == 0 else max(0.0, centre - half)  # exact ends where rounding blurs them
    hi = 1.0 if p == 1 else min(1.0, centre + half)
    return lo, hi
