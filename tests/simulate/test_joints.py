"""Couplings with given marginals: exact marginals, and the extremal ones are extremal."""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from simulate import (
    ExplicitJoint,
    disjoint_failure_coupling,
    independent_coupling,
    nested_coupling,
    random_coupling,
    worst_case_coupling,
)
from simulate.strategies import explicit_joints, marginals

PAPER_PAIR = np.array([[0.9, 0.1, 0.0], [0.8, 0.15, 0.05]])


def _tight(p):
    prof = ExplicitJoint(independent_coupling(p).p).profile()
    return 1 - float(prof.r.sum()) - float(prof.s.max())


@given(marginals(3, 3), st.integers(0, 2**32 - 1))
def test_every_coupling_has_the_prescribed_marginals(p, seed):
    joints = [independent_coupling(p), nested_coupling(p),
              random_coupling(p, np.random.default_rng(seed))]
    if (1 - p.max(axis=1)).sum() <= 1:
        joints.append(disjoint_failure_coupling(p))
    for joint in joints:
        np.testing.assert_allclose(joint.marginals(), p, atol=1e-12)


@given(marginals(3, 3))
@example(PAPER_PAIR)
def test_disjoint_failures_attain_the_tight_certificate_value(p):
    if (1 - p.max(axis=1)).sum() > 1:
        return
    assert abs(disjoint_failure_coupling(p).mode_gap() - _tight(p)) < 1e-12


@given(marginals(3, 3))
def test_nested_coupling_attains_the_upper_frechet_bound(p):
    star = tuple(np.argmax(p, axis=1))
    assert abs(nested_coupling(p).prob(star) - p.max(axis=1).min()) < 1e-12


@settings(max_examples=10)
@given(marginals(2, 3))
@example(PAPER_PAIR[:, :3])
def test_lp_worst_case_equals_the_tight_certificate_when_sum_r_at_most_1(p):
    if (1 - p.max(axis=1)).sum() > 1:
        return
    joint, value = worst_case_coupling(p, "mode_gap")
    assert abs(value - _tight(p)) < 1e-8
    np.testing.assert_allclose(joint.marginals(), p, atol=1e-8)


@settings(max_examples=10)
@given(marginals(3, 2))
def test_lp_worst_joint_equals_the_lower_frechet_bound(p):
    _, value = worst_case_coupling(p, "joint")
    assert abs(value - max(0.0, 1 - (1 - p.max(axis=1)).sum())) < 1e-8


@given(explicit_joints(3, 2))
def test_total_correlation_is_nonnegative_and_bounded_by_eb(joint):
    H = [float(-(m[m > 0] * np.log(m[m > 0])).sum()) for m in joint.marginals()]
    tc = joint.total_correlation()
    assert -1e-12 <= tc <= sum(H) - max(H) + 1e-12  # ALGORITHMS.md 3.5


def test_conditioning_and_sampling_agree_with_the_table():
    joint = ExplicitJoint(np.array([[0.1, 0.2], [0.3, 0.4]]))
    np.testing.assert_allclose(joint.condition({0: 1}).p, [3 / 7, 4 / 7])
    x = joint.sample(40_000, np.random.default_rng(0))
    assert abs((x[:, 0] == 1).mean() - 0.7) < 0.01


@pytest.mark.parametrize("table, match", [
    (np.array([0.5, 0.6]), "sum to 1"), (np.array([[1.0, 0.0, 0.0], [0, 0, 0]]), "shape"),
    (np.array([-0.5, 1.5]), "non-negative")])
def test_bad_tables_are_refused(table, match):
    with pytest.raises(ValueError, match=match):
        ExplicitJoint(table)


def test_disjoint_failures_need_sum_r_at_most_1():
    with pytest.raises(ValueError, match="sum r"):
        disjoint_failure_coupling(np.array([[0.4, 0.6], [0.5, 0.5], [0.6, 0.4]]))
