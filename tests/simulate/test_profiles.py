"""Parametric profile families."""

import numpy as np
import pytest

from simulate import lognormal_profile, softmax_marginals, two_level_profile
from theory import profile_from_probabilities


def test_zero_heterogeneity_gives_flat_profiles():
    rng = np.random.default_rng(0)
    flat = lognormal_profile(5, 7, rng, r_median=0.05, sigma=0.0)
    np.testing.assert_allclose(flat.c, 0.95)
    for head in (0.0, 1.0):
        c = two_level_profile(5, 7, rng, head=head).c
        assert np.ptp(c, axis=1).max() == 0


def test_heterogeneity_spreads_the_confidences():
    rng = np.random.default_rng(1)
    spreads = [np.std(np.log(lognormal_profile(200, 16, rng, sigma=s).r)) for s in (0.5, 1, 2)]
    assert spreads[0] < spreads[1] < spreads[2]


@pytest.mark.parametrize("make", [
    lambda rng: lognormal_profile(4, 6, rng, sigma=1.0, spread_low=0.3).c,
    lambda rng: two_level_profile(4, 6, rng).c,
    lambda rng: softmax_marginals(4, 6, 5, rng),
])
def test_generators_are_reproducible_from_their_rng(make):
    a = make(np.random.default_rng(7))
    b = make(np.random.default_rng(7))
    assert (a == b).all()


def test_runner_up_never_exceeds_the_residual():
    p = lognormal_profile(100, 8, np.random.default_rng(2), sigma=2.0, spread_low=0.0)
    assert (p.s <= p.r + 1e-15).all() and (p.s <= p.c).all()


def test_softmax_marginals_are_distributions_whose_profile_theory_reads():
    p = softmax_marginals(3, 5, 4, np.random.default_rng(3))
    checked, trusted = profile_from_probabilities(p), profile_from_probabilities(p, check=False)
    for field in ("tokens", "c", "log_r", "s", "H"):
        np.testing.assert_allclose(getattr(trusted, field), getattr(checked, field), rtol=1e-12)
    np.testing.assert_allclose(checked.c, p.max(axis=-1), rtol=1e-12)


def test_bad_parameters_are_refused():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="residual"):
        lognormal_profile(2, 2, rng, r_median=0.7)
    with pytest.raises(ValueError, match="sigma"):
        lognormal_profile(2, 2, rng, sigma=-1.0)
    with pytest.raises(ValueError, match="beta"):
        softmax_marginals(2, 2, 3, rng, beta=0.0)
