"""ALGORITHMS.md 3.1: Fréchet bounds, attained by explicit couplings."""

import math

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from theory import (
    disjoint_failure_coupling,
    extremal_coupling,
    frechet_bounds,
    frechet_bounds_lp,
    marginal_modes,
    nested_coupling,
    nested_failure_coupling,
)
from theory.strategies import couplings, marginal_matrices

probabilities = st.lists(st.floats(0.0, 1.0), min_size=1, max_size=6)


def _binary(a):
    return np.array([[1.0 - v, v] for v in a])


@given(probabilities)
@example([0.3, 0.4, 0.5, 0.9])  # sum of failures 1.9 > 1: the circular layout wraps
@example([1.0, 1.0])
@example([0.0])
def test_disjoint_failure_coupling_attains_the_frechet_lower_bound(a):
    joint = disjoint_failure_coupling(a)
    assert np.abs(joint.marginals[:, 1] - np.asarray(a)).max() < 1e-12
    assert math.isclose(joint.prob((1,) * len(a)), frechet_bounds(a)[0], abs_tol=1e-12)


@given(probabilities)
@example([0.3, 0.4, 0.5, 0.9])
def test_nested_coupling_attains_the_frechet_upper_bound(a):
    joint = nested_coupling(a)
    assert np.abs(joint.marginals[:, 1] - np.asarray(a)).max() < 1e-12
    assert math.isclose(joint.prob((1,) * len(a)), frechet_bounds(a)[1], abs_tol=1e-12)


@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=4))
def test_frechet_bounds_agree_with_the_lp_over_all_joints(a):
    low, high = frechet_bounds_lp(a)
    assert math.isclose(low, frechet_bounds(a)[0], abs_tol=1e-9)
    assert math.isclose(high, frechet_bounds(a)[1], abs_tol=1e-9)


@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=3).flatmap(
    lambda a: st.tuples(st.just(a), couplings(_binary(a)))))
def test_every_coupling_lies_within_the_frechet_bounds(case):
    a, joint = case
    low, high = frechet_bounds(a)
    assert low - 1e-9 <= joint.prob((1,) * len(a)) <= high + 1e-9


@given(marginal_matrices(st.integers(1, 3), st.integers(1, 4)))
def test_extremal_coupling_has_the_marginals_and_minimises_p_of_x_star(p):
    joint = extremal_coupling(p)
    modes = marginal_modes(p)
    assert np.abs(joint.marginals - p).max() < 1e-12
    lower = max(0.0, 1.0 - math.fsum(modes.r))
    assert math.isclose(joint.prob(modes.x_star), lower, abs_tol=1e-12)


@given(marginal_matrices(st.integers(1, 3), st.integers(1, 4)))
def test_nested_failure_coupling_puts_min_c_on_x_star(p):
    joint = nested_failure_coupling(p)
    modes = marginal_modes(p)
    assert np.abs(joint.marginals - p).max() < 1e-12
    assert math.isclose(joint.prob(modes.x_star), float(modes.c.min()), abs_tol=1e-12)


@pytest.mark.parametrize("a, message", [([], "at least one"), ([0.5, 1.5], "outside"),
                                        ([float("nan")], "outside")])
def test_frechet_bounds_reject_invalid_probabilities(a, message):
    with pytest.raises(ValueError, match=message):
        frechet_bounds(a)


def test_binary_couplings_refuse_huge_tables():
    with pytest.raises(ValueError, match="2\\^n"):
        disjoint_failure_coupling([0.9] * 17)
