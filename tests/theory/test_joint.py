"""ExplicitJoint: validation and brute-force quantities."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from theory import (
    ExplicitJoint,
    check_marginals,
    kl_divergence,
    kl_to_product,
    marginal_modes,
    total_variation,
)
from theory.strategies import explicit_joints, marginal_matrices

sizes = dict(n=st.integers(1, 3), V=st.integers(1, 3))


@pytest.mark.parametrize("table, message", [
    ([0.5, 0.6], "sum to 1"),
    ([1.5, -0.5], ">= 0"),
    ([np.nan, 1.0], "NaN"),
    (np.zeros((0,)), "at least one"),
])
def test_explicit_joint_rejects_invalid_tables(table, message):
    with pytest.raises(ValueError, match=message):
        ExplicitJoint(np.asarray(table, dtype=float))


def test_ragged_tables_are_joints_with_one_vocabulary_per_position():
    joint = ExplicitJoint(np.array([[1.0, 0.0, 0.0], [0, 0, 0]]))
    assert joint.shape == (2, 3) and joint.marginal(0).tolist() == [1.0, 0.0]
    assert joint.marginals.tolist() == [[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]]


def test_explicit_joint_is_read_only():
    joint = ExplicitJoint(np.array([0.25, 0.75]))
    with pytest.raises(ValueError):
        joint.table[0] = 1.0


@given(marginal_matrices(**sizes))
def test_product_of_marginals_has_those_marginals(p):
    joint = ExplicitJoint.product_of_marginals(p)
    assert np.abs(joint.marginals - p).max() < 1e-12


@given(marginal_matrices(**sizes))
def test_product_of_marginals_has_zero_total_correlation(p):
    assert abs(ExplicitJoint.product_of_marginals(p).total_correlation()) < 1e-12


@given(explicit_joints(**sizes))
def test_total_correlation_is_the_kl_to_the_product_of_marginals(joint):
    assert joint.total_correlation() >= -1e-12
    assert math.isclose(joint.total_correlation(), kl_to_product(joint), abs_tol=1e-12)
    q = ExplicitJoint.product_of_marginals(list(joint.marginal(j) for j in range(joint.n)))
    direct = kl_divergence(joint, q)
    assert direct == math.inf or math.isclose(direct, kl_to_product(joint), abs_tol=1e-12)


def test_kl_to_product_survives_underflow_of_the_product_table():
    tiny = 1e-200
    joint = ExplicitJoint.from_dict({(0, 0): 1.0 - tiny, (1, 1): tiny})
    assert kl_divergence(joint, ExplicitJoint.product_of_marginals(joint.marginals)) == math.inf
    assert kl_to_product(joint) == pytest.approx(joint.total_correlation(), abs=1e-15)


@given(explicit_joints(**sizes))
def test_mode_margin_agrees_with_enumeration(joint):
    x = joint.mode_tokens
    others = [joint.prob(z) for z in itertools.product(*map(range, joint.shape)) if z != x]
    assert joint.mode_margin(x) == joint.prob(x) - max(others, default=0.0)


@given(explicit_joints(**sizes))
def test_unique_mode_is_the_strict_argmax_of_the_table(joint):
    best = joint.top(2)
    mode = joint.unique_mode()
    if len(best) > 1 and best[0][1] == best[1][1]:
        assert mode is None
    else:
        assert mode == best[0][0]


def test_mode_tokens_break_ties_to_the_lowest_id():
    joint = ExplicitJoint.from_dict({(0, 1): 0.5, (1, 1): 0.5})
    assert joint.mode_tokens == (0, 1)
    assert joint.unique_mode() is None


def test_top_lists_tuples_by_probability_then_lexicographically():
    joint = ExplicitJoint.from_dict({(1, 0): 0.25, (0, 1): 0.25, (1, 1): 0.5})
    assert joint.top(3) == [((1, 1), 0.5), ((0, 1), 0.25), ((1, 0), 0.25)]
    assert joint.support() == [(0, 1), (1, 0), (1, 1)]


def test_from_dict_rejects_tuples_outside_the_shape():
    with pytest.raises(ValueError, match="outside"):
        ExplicitJoint.from_dict({(0, 3): 1.0}, shape=(2, 2))


def test_prob_rejects_a_tuple_of_the_wrong_length():
    with pytest.raises(ValueError, match="does not index"):
        ExplicitJoint(np.array([0.5, 0.5])).prob((0, 0))


@given(explicit_joints(**sizes), explicit_joints(**sizes))
def test_total_variation_is_a_distance_in_0_1(p, q):
    if p.shape == q.shape:
        assert 0.0 <= total_variation(p, q) <= 1.0 + 1e-12
        assert total_variation(p, p) == 0.0
    else:
        with pytest.raises(ValueError, match="shapes"):
            total_variation(p, q)


def test_kl_is_infinite_when_q_misses_the_support_of_p():
    p, q = ExplicitJoint(np.array([0.5, 0.5])), ExplicitJoint(np.array([1.0, 0.0]))
    assert kl_divergence(p, q) == math.inf
    assert kl_divergence(q, p) == pytest.approx(math.log(2))


@given(marginal_matrices(**sizes))
@example(np.array([[0.5, 0.5], [1.0, 0.0]]))
def test_marginal_modes_use_lowest_id_ties_and_residual_sums(p):
    modes = marginal_modes(p)
    for j, row in enumerate(p):
        assert modes.x_star[j] == int(np.argmax(row))
        assert modes.s[j] <= modes.r[j] + 1e-15
        assert abs(modes.c[j] + modes.r[j] - 1.0) < 1e-12


@pytest.mark.parametrize("bad, message", [
    ([0.5, 0.5], "shape"),
    ([[0.5, 0.6]], "sums to"),
    ([[1.5, -0.5]], ">= 0"),
    ([[np.inf, 0.0]], "NaN or inf"),
])
def test_check_marginals_names_the_problem(bad, message):
    with pytest.raises(ValueError, match=message):
        check_marginals(bad)


def test_conditioning_and_sampling_agree_with_the_table():
    joint = ExplicitJoint(np.array([[0.1, 0.2], [0.3, 0.4]]))
    np.testing.assert_allclose(joint.condition({0: 1}).table, [3 / 7, 4 / 7])
    np.testing.assert_allclose(joint.condition({1: 0}).table, [0.25, 0.75])
    x = joint.sample(40_000, np.random.default_rng(0))
    assert x.shape == (40_000, 2) and x.dtype == np.int64
    assert abs((x[:, 0] == 1).mean() - 0.7) < 0.01


@given(explicit_joints(st.integers(2, 3), st.integers(1, 3)), st.data())
def test_marginal_joints_sum_the_other_positions_out(joint, data):
    axes = data.draw(st.permutations(range(joint.n)))[:data.draw(st.integers(1, joint.n))]
    sub = joint.marginal_joint(axes)
    assert sub.shape == tuple(joint.shape[a] for a in axes)
    for z in sub.tuples():
        total = math.fsum(joint.prob(x) for x in joint.tuples()
                          if all(x[a] == v for a, v in zip(axes, z, strict=True)))
        assert math.isclose(sub.prob(z), total, abs_tol=1e-12)
    for j, a in enumerate(axes):
        assert np.abs(sub.marginal(j) - joint.marginal(a)).max() < 1e-12


@given(explicit_joints(st.integers(2, 3), st.integers(1, 3)), st.data())
def test_conditioning_is_bayes_rule_on_the_table(joint, data):
    x = data.draw(st.sampled_from(joint.support()))
    j = data.draw(st.integers(0, joint.n - 1))
    given_j = joint.condition({j: x[j]})
    rest = x[:j] + x[j + 1:]
    assert math.isclose(given_j.prob(rest) * joint.marginal(j)[x[j]], joint.prob(x),
                        rel_tol=1e-9, abs_tol=1e-15)


@pytest.mark.parametrize("call, message", [
    (lambda j: j.condition({0: 0, 1: 0}), "every position"),
    (lambda j: j.condition({0: 1}), "probability 0"),
    (lambda j: j.condition({2: 0}), "does not name"),
    (lambda j: j.marginal_joint((0, 0)), "distinct"),
    (lambda j: j.marginal_joint(()), "distinct"),
])
def test_sub_joints_refuse_what_they_cannot_give(call, message):
    with pytest.raises(ValueError, match=message):
        call(ExplicitJoint(np.array([[0.5, 0.5], [0.0, 0.0]])))
