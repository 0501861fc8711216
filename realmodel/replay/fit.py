"""Fit simulate/'s profile generators to a trace's per-step confidence profiles.

Every (logged step, masked position) contributes its residual r = 1 - c (as log r) and
runner-up share u = s / r. The fits (pure functions on arrays; :func:`fit_trace` on a
trace) return :class:`ProfileFit`, whose ``sample`` draws profiles from the fitted
generator, so that Monte Carlo studies can run on a real model's profile statistics.

* :func:`fit_lognormal` for :func:`simulate.profiles.lognormal_profile`: log r ~
  Normal(mu, sigma^2) with the generator's clip r <= 1/2 treated as censoring (maximum
  likelihood: uncensored terms log phi((x - mu)/sigma) - log sigma, censored terms
  log(1 - Phi((log 1/2 - mu)/sigma))); r_median = exp(mu) clipped to (0, 1/2]. The
  runner-up share u ~ Uniform(spread_low, 1) by moments: spread_low = 2 mean(u) - 1,
  clipped to [0, 1].
* :func:`fit_two_level` for :func:`simulate.profiles.two_level_profile`: two-means
  clustering of log r (Lloyd's iterations in one dimension); head = share of the low
  cluster, r_low / r_high = exp(mean log r) of each cluster, clipped to (0, 1/2].

Limits: the generators draw positions independently, so a fit keeps the marginal
distribution of r over all (step, position) pairs, not its correlation within a step;
r > 1/2 (c < 1/2) cannot be represented and is censored (lognormal) or clipped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import optimize, stats

from realmodel.replay import stack_steps
from realmodel.trace import Trace
from simulate.profiles import lognormal_profile, two_level_profile
from theory import Profile

__all__ = ["ProfileFit", "fit_lognormal", "fit_two_level", "profile_observations",
           "fit_trace"]

_LOG_HALF = float(np.log(0.5))
_R_MIN = 1e-300


@dataclass(frozen=True)
class ProfileFit:
    """A fitted generator: ``family`` (lognormal or two_level), keyword ``params`` of the
    simulate.profiles function, ``n`` observations used, ``dropped`` (non-finite log r)."""

    family: str
    params: dict[str, float]
    n: int
    dropped: int = 0
    extra: dict[str, float] = field(default_factory=dict)

    def sample(self, rows: int, m: int, rng: np.random.Generator) -> Profile:
        """Profiles (rows, m) drawn from the fitted generator."""
        gens: dict[str, Callable[..., Profile]] = {"lognormal": lognormal_profile,
                                                   "two_level": two_level_profile}
        return gens[self.family](rows, m, rng, **self.params)

    def describe(self) -> dict[str, Any]:
        return {"family": self.family, "params": self.params, "n": self.n,
                "dropped": self.dropped, **self.extra}


def _finite(log_r: np.ndarray) -> tuple[np.ndarray, int]:
    x = np.asarray(log_r, dtype=np.float64).ravel()
    ok = np.isfinite(x)
    if not ok.any():
        raise ValueError("no finite log residual (log r) to fit")
    return x[ok], int((~ok).sum())


def fit_lognormal(log_r: np.ndarray, s: np.ndarray | None = None) -> ProfileFit:
    """Censored maximum-likelihood fit of lognormal_profile (see the module docstring).

    ``log_r`` and ``s`` are arrays of the same shape (any); ``s`` None keeps spread_low 1.
    """
    x, dropped = _finite(log_r)
    cens = x >= _LOG_HALF - 1e-12
    obs = x[~cens]
    mu0 = float(np.mean(obs)) if len(obs) else _LOG_HALF
    sd0 = float(np.std(obs)) if len(obs) > 1 else 0.0
    if not cens.any() or len(obs) < 2:
        mu, sigma = mu0, sd0
    else:
        k = int(cens.sum())

        def nll(theta: np.ndarray) -> float:
            m, log_sd = theta
            sd = np.exp(log_sd)
            ll = np.sum(stats.norm.logpdf(obs, m, sd)) + k * stats.norm.logsf(_LOG_HALF, m, sd)
            return float(-ll)

        res = optimize.minimize(nll, np.array([mu0, np.log(max(sd0, 1e-6))]),
                                method="Nelder-Mead",
                                options={"xatol": 1e-10, "fatol": 1e-10, "maxiter": 4000})
        mu, sigma = float(res.x[0]), float(np.exp(res.x[1]))
    params = {"r_median": float(np.clip(np.exp(mu), _R_MIN, 0.5)), "sigma": sigma,
              "spread_low": 1.0}
    if s is not None:
        r = np.exp(np.asarray(log_r, dtype=np.float64).ravel())
        sv = np.asarray(s, dtype=np.float64).ravel()
        ok = np.isfinite(r) & (r > 0)
        u = np.clip(sv[ok] / r[ok], 0.0, 1.0)
        params["spread_low"] = float(np.clip(2.0 * np.mean(u) - 1.0, 0.0, 1.0))
    return ProfileFit("lognormal", params, n=len(x), dropped=dropped,
                      extra={"censored": int(cens.sum())})


def fit_two_level(log_r: np.ndarray, iterations: int = 100) -> ProfileFit:
    """Two-means fit of two_level_profile on log r (see the module docstring)."""
    x, dropped = _finite(log_r)
    lo, hi = np.quantile(x, 0.1), np.quantile(x, 0.9)
    low = x <= lo
    for _ in range(iterations):
        if lo == hi:
            low = np.ones(len(x), bool)
            break
        low_next = np.abs(x - lo) <= np.abs(x - hi)
        lo = float(np.mean(x[low_next])) if low_next.any() else lo
        hi = float(np.mean(x[~low_next])) if (~low_next).any() else hi
        if np.array_equal(low_next, low):
            break
        low = low_next
    r_low = float(np.exp(np.mean(x[low])))
    r_high = float(np.exp(np.mean(x[~low]))) if (~low).any() else r_low
    params = {"head": float(np.mean(low)), "r_low": float(np.clip(r_low, _R_MIN, 0.5)),
              "r_high": float(np.clip(r_high, _R_MIN, 0.5))}
    return ProfileFit("two_level", params, n=len(x), dropped=dropped)


def profile_observations(trace: Trace) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(log_r, s, m): flat log residuals and runner-ups over every (step, masked
    position), and the number of masked positions m of every step."""
    steps = list(trace.steps())
    if not steps:
        raise ValueError(f"trace {trace.path} has no steps to fit")
    profile, _ = stack_steps(steps)
    valid = np.asarray(profile.valid)
    m = valid.sum(axis=-1)
    return np.asarray(profile.log_r)[valid], np.asarray(profile.s)[valid], m


def fit_trace(trace: Trace) -> dict[str, ProfileFit]:
    """Both fits on a trace; ``extra`` records the mean masked count per step."""
    log_r, s, m = profile_observations(trace)
    fits = {"lognormal": fit_lognormal(log_r, s), "two_level": fit_two_level(log_r)}
    for f in fits.values():
        f.extra["mean_m"] = float(np.mean(m))
    return fits
