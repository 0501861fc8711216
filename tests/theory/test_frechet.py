"""Fréchet bounds, attained by explicit couplings (docs/theory/frechet_bounds.md)."""

import math

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from theory import (
    ExplicitJoint,
    disjoint_failure_coupling,
    extremal_coupling,
    frechet_bounds,
    frechet_bounds_lp,
    marginal_modes,
    nested_coupling,
    nested_failure_coupling,
    quantile_coupling,
    random_coupling,
    tight_certificate,
)
from theory.strategies import couplings, marginal_matrices

probabilities = st.lists(st.floats(0.0, 1.0), min_size=1, max_size=6)
PAPER_PAIR = np.array([[0.9, 0.1, 0.0], [0.8, 0.15, 0.05]])


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
@example(PAPER_PAIR)
def test_extremal_coupling_has_the_marginals_and_minimises_p_of_x_star(p):
    joint = extremal_coupling(p)
    modes = marginal_modes(p)
    assert np.abs(joint.marginals - p).max() < 1e-12
    lower = max(0.0, 1.0 - math.fsum(modes.r))
    assert math.isclose(joint.prob(modes.x_star), lower, abs_tol=1e-12)
    if math.fsum(modes.r) <= 1.0:  # and it attains the tight value
        assert math.isclose(joint.mode_margin(modes.x_star), tight_certificate(p),
                            abs_tol=1e-12)


@given(marginal_matrices(st.integers(1, 3), st.integers(1, 4)))
def test_nested_failure_coupling_puts_min_c_on_x_star(p):
    joint = nested_failure_coupling(p)
    modes = marginal_modes(p)
    assert np.abs(joint.marginals - p).max() < 1e-12
    assert math.isclose(joint.prob(modes.x_star), float(modes.c.min()), abs_tol=1e-12)


@given(marginal_matrices(st.integers(1, 3), st.integers(1, 4)), st.data())
@example(PAPER_PAIR, None)
def test_every_coupling_has_the_prescribed_marginals(p, data):
    orders = [list(range(p.shape[1]))[::-1]] * p.shape[0] if data is None else \
        [data.draw(st.permutations(range(p.shape[1]))) for _ in range(p.shape[0])]
    seed = 0 if data is None else data.draw(st.integers(0, 2**32 - 1))
    joints = [ExplicitJoint.product_of_marginals(p), extremal_coupling(p),
              nested_failure_coupling(p), quantile_coupling(p, orders),
              random_coupling(p, np.random.default_rng(seed))]
    for joint in joints:
        assert np.abs(joint.marginals - p).max() < 1e-12


@given(marginal_matrices(st.integers(1, 3), st.integers(1, 4)))
def test_the_comonotone_quantile_coupling_attains_the_frechet_upper_bound(p):
    joint = quantile_coupling(p, np.argsort(-p, axis=1, kind="stable"))
    modes = marginal_modes(p)
    assert math.isclose(joint.prob(modes.x_star), float(modes.c.min()), abs_tol=1e-12)


@given(marginal_matrices(2, 3), st.integers(0, 2**32 - 1))
def test_random_couplings_follow_their_rng(p, seed):
    a = random_coupling(p, np.random.default_rng(seed), components=2)
    b = random_coupling(p, np.random.default_rng(seed), components=2)
    assert (a.table == b.table).all()


@pytest.mark.parametrize("orders", [[[0, 0], [0, 1]], [[0, 1]], [[0.0, 1.0], [1.0, 0.0]]])
def test_quantile_coupling_needs_a_permutation_per_position(orders):
    with pytest.raises(ValueError, match="permutations"):
        quantile_coupling([[0.5, 0.5], [0.25, 0.75]], orders)


def test_random_coupling_refuses_negative_components():
    with pytest.raises(ValueError, match="components"):
        random_coupling([[0.5, 0.5]], np.random.default_rng(0), components=-1)


@pytest.mark.parametrize("a, message", [([], "at least one"), ([0.5, 1.5], "outside"),
                                        ([float("nan")], "outside")])
def test_frechet_bounds_reject_invalid_probabilities(a, message):
    with pytest.raises(ValueError, match=message):
        frechet_bounds(a)


def test_binary_couplings_refuse_huge_tables():
    with pytest.raises(ValueError, match="2\\^n"):
        disjoint_failure_coupling([0.9] * 17)
