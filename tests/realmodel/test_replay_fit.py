"""Profile-generator fits recover known parameters; calibration tables are consistent."""

import numpy as np
import pytest

from realmodel.replay_calibration import binned
from realmodel.replay_fit import fit_lognormal, fit_two_level
from simulate.profiles import lognormal_profile, two_level_profile


@pytest.mark.parametrize("r_median,sigma,spread_low", [(0.02, 1.0, 0.3), (0.1, 2.0, 1.0),
                                                       (0.001, 0.5, 0.0)])
def test_the_lognormal_fit_recovers_the_generators_parameters(r_median, sigma, spread_low):
    rng = np.random.default_rng(11)
    p = lognormal_profile(400, 50, rng, r_median=r_median, sigma=sigma,
                          spread_low=spread_low)
    fit = fit_lognormal(p.log_r, p.s)
    assert fit.params["r_median"] == pytest.approx(r_median, rel=0.03)
    assert fit.params["sigma"] == pytest.approx(sigma, rel=0.03)
    assert fit.params["spread_low"] == pytest.approx(spread_low, abs=0.02)
    if sigma == 2.0:  # log 0.1 + 2 z >= log 0.5 for z >= 0.8: about a fifth is censored
        assert 0.15 < fit.extra["censored"] / fit.n < 0.25


def test_the_two_level_fit_recovers_levels_exactly_and_the_head_share():
    rng = np.random.default_rng(3)
    p = two_level_profile(300, 40, rng, head=0.3, r_low=0.001, r_high=0.1)
    fit = fit_two_level(p.log_r)
    assert fit.params["r_low"] == pytest.approx(0.001, rel=1e-9)
    assert fit.params["r_high"] == pytest.approx(0.1, rel=1e-9)
    assert fit.params["head"] == pytest.approx(0.3, abs=0.02)


def test_a_fitted_generator_samples_profiles_with_the_fitted_statistics():
    rng = np.random.default_rng(5)
    fit = fit_lognormal(lognormal_profile(200, 40, rng, r_median=0.05, sigma=0.7).log_r)
    again = fit_lognormal(fit.sample(200, 40, np.random.default_rng(6)).log_r)
    assert again.params["r_median"] == pytest.approx(0.05, rel=0.05)
    assert again.params["sigma"] == pytest.approx(0.7, rel=0.05)


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
