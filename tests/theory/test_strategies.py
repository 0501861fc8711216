"""The exported strategies generate what they promise, edge cases included."""

import math

import numpy as np
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st

from theory import Rule, marginal_modes
from theory.strategies import (
    confidence_arrays,
    confidence_profiles,
    couplings,
    explicit_joints,
    logit_arrays,
    marginal_matrices,
    marginal_rows,
    rules,
)


@given(marginal_matrices(st.integers(1, 5), st.integers(1, 5)))
def test_marginal_matrices_are_probability_rows(p):
    assert (p >= 0).all() and np.abs(p.sum(axis=1) - 1.0).max() < 1e-12


@given(marginal_matrices(st.integers(1, 6), st.integers(2, 5), max_residual_sum=1.0))
def test_marginal_matrices_respect_the_residual_budget(p):
    assert math.fsum(marginal_modes(p).r) <= 1.0


QUICK = settings(phases=[Phase.generate], database=None, max_examples=500)


def test_marginal_rows_reach_certainty_and_ties():
    assert find(marginal_rows(3), lambda p: p.max() == 1.0, settings=QUICK).max() == 1.0
    tie = find(marginal_rows(3), lambda p: np.sort(p)[-1] == np.sort(p)[-2] < 1.0,
               settings=QUICK)
    assert np.sort(tie)[-1] == np.sort(tie)[-2]


@given(confidence_arrays())
def test_confidence_arrays_are_consistent_with_their_marginals(a):
    assert (a.s <= a.c + 1e-15).all() and (a.s <= 1.0 - a.c + 1e-12).all()
    assert (a.H >= -1e-15).all()
    assert (a.H <= np.log(a.marginals.shape[-1]) + 1e-12).all()


def test_confidence_arrays_reach_a_row_with_no_valid_position_and_one_position():
    a = find(confidence_arrays(), lambda a: (~a.valid).all(axis=1).any(), settings=QUICK)
    assert (~a.valid).all(axis=1).any()
    one = find(confidence_profiles(), lambda p: p.shape[1] == 1, settings=QUICK)
    assert one.shape[1] == 1


@given(explicit_joints(st.integers(1, 3), st.integers(1, 3)))
def test_explicit_joints_are_valid(joint):
    assert abs(math.fsum(joint.table.ravel()) - 1.0) <= 1e-12


@given(marginal_matrices(st.integers(1, 3), st.integers(1, 3)).flatmap(
    lambda p: st.tuples(st.just(p), couplings(p))))
def test_couplings_have_the_requested_marginals(case):
    p, joint = case
    assert np.abs(joint.marginals - p).max() < 1e-9


@given(rules())
def test_rules_are_rule_instances(rule):
    assert isinstance(rule, Rule)


@given(logit_arrays())
def test_logit_arrays_are_float32_and_finite(z):
    assert z.dtype == np.float32 and np.isfinite(z).all()
