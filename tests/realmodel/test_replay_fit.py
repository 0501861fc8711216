"""Profile-generator fits recover known parameters; calibration tables are consistent.

Seeded fits are judged in units of their standard error (tests/tolerance.assert_within_se):
for n uncensored log-normal observations, se(mu) = sigma / sqrt(n), so se(r_median) =
r_median sigma / sqrt(n) (delta method) and se(sigma) = sigma / sqrt(2 n); the moment
estimate 2 mean(u) - 1 of u ~ Uniform(a, 1) has se 2 (1 - a) / sqrt(12 n); a share h of
n draws has se sqrt(h (1 - h) / n).
"""

import numpy as np
import pytest

from realmodel.replay.calibration import binned
from realmodel.replay.fit import fit_lognormal, fit_two_level
from simulate.profiles import lognormal_profile, two_level_profile
from tests.tolerance import assert_within_se


def _lognormal_se(r_median, sigma, n):
    return r_median * sigma / np.sqrt(n), sigma / np.sqrt(2 * n)


@pytest.mark.parametrize("r_median,sigma,spread_low", [(0.02, 1.0, 0.3), (0.1, 2.0, 1.0),
                                                       (0.001, 0.5, 0.0)])
def test_the_lognormal_fit_recovers_the_generators_parameters(r_median, sigma, spread_low):
    rng = np.random.default_rng(11)
    p = lognormal_profile(400, 50, rng, r_median=r_median, sigma=sigma,
                          spread_low=spread_low)
    fit = fit_lognormal(p.log_r, p.s)
    n = fit.n - fit.extra["censored"]
    se_median, se_sigma = _lognormal_se(r_median, sigma, n)
    assert_within_se(fit.params["r_median"], r_median, se_median)
    assert_within_se(fit.params["sigma"], sigma, se_sigma)
    se_spread = max(2 * (1 - spread_low) / np.sqrt(12 * fit.n), 1e-12)  # a = 1: exact
    assert_within_se(fit.params["spread_low"], spread_low, se_spread)
    if sigma == 2.0:  # log 0.1 + 2 z >= log 0.5 for z >= 0.8: about a fifth is censored
        assert 0.15 < fit.extra["censored"] / fit.n < 0.25


def test_the_two_level_fit_recovers_levels_exactly_and_the_head_share():
    rng = np.random.default_rng(3)
    p = two_level_profile(300, 40, rng, head=0.3, r_low=0.001, r_high=0.1)
    fit = fit_two_level(p.log_r)
    assert fit.params["r_low"] == pytest.approx(0.001, rel=1e-9)
    assert fit.params["r_high"] == pytest.approx(0.1, rel=1e-9)
    assert_within_se(fit.params["head"], 0.3, np.sqrt(0.3 * 0.7 / fit.n))


def test_a_fitted_generator_samples_profiles_with_the_fitted_statistics():
    rng = np.random.default_rng(5)
    fit = fit_lognormal(lognormal_profile(200, 40, rng, r_median=0.05, sigma=0.7).log_r)
    again = fit_lognormal(fit.sample(200, 40, np.random.default_rng(6)).log_r)
    se_median, se_sigma = _lognormal_se(0.05, 0.7, again.n)  # two fits in a row: sqrt(2) se
    assert_within_se(again.params["r_median"], 0.05, np.sqrt(2) * se_median)
    assert_within_se(again.params["sigma"], 0.7, np.sqrt(2) * se_sigma)


def test_a_flat_profile_fits_zero_spread_and_one_level():
    log_r = np.full((4, 8), np.log(0.05))
    assert fit_lognormal(log_r).params["sigma"] == 0.0
    fit = fit_two_level(log_r)
    assert fit.params["head"] == 1.0 and fit.params["r_low"] == pytest.approx(0.05)


def test_nothing_finite_to_fit_is_an_error():
    with pytest.raises(ValueError, match="no finite"):
        fit_lognormal(np.full(3, -np.inf))


def test_bins_put_each_value_once_and_average_within_bins():
    x = np.array([0.0, 0.05, 0.5, 0.99, 1.0])
    t = binned(x, np.array([1, 0, 1, 1, 0]), np.linspace(0, 1, 5))
    assert t["count"].tolist() == [2, 0, 1, 2]
    assert t["mean_y"][0] == 0.5 and np.isnan(t["mean_y"][1]) and t["mean_x"][3] == 0.995
