"""The LP twin of the tight certificate, and the exact prefix loop of the margins."""

import math

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from theory import (
    CouplingLP,
    factor_core,
    frechet_bounds,
    frechet_margin,
    heterogeneity_bonus,
    joint_lower_bound,
    marginal_modes,
    mode_probability_bounds_lp,
    prefix_margins_reference,
    spread_bonus,
    tight_certificate_survey,
    tight_margin,
    worst_case_margin,
)
from theory.strategies import couplings, marginal_matrices

small = dict(n=st.integers(1, 3), V=st.integers(2, 3))
PAPER_PAIR = np.array([[0.9, 0.1, 0.0], [0.8, 0.15, 0.05]])


def _clipped_tight(p):
    modes = marginal_modes(p)
    return max(0.0, 1.0 - math.fsum(modes.r)) - float(modes.s.max())


@given(marginal_matrices(**small))
@example(np.array([[0.4, 0.3, 0.3], [0.4, 0.3, 0.3]]))
def test_pruned_search_equals_solving_every_competitor(p):
    assert math.isclose(worst_case_margin(p).margin, worst_case_margin(p, "all").margin,
                        abs_tol=1e-9)


@given(marginal_matrices(**small))
def test_worst_case_joint_has_the_marginals_and_the_reported_margin(p):
    w = worst_case_margin(p)
    assert np.abs(w.joint.marginals - p).max() < 1e-9
    assert math.isclose(w.joint.mode_margin(w.x_star), w.margin, abs_tol=1e-9)
    assert math.isclose(w.joint.prob(w.x_star) - w.joint.prob(w.competitor), w.margin,
                        abs_tol=1e-9)


@given(marginal_matrices(**small))
@example(np.array([[0.5, 0.5], [0.34, 0.66]]))
@example(PAPER_PAIR)
def test_worst_case_margin_is_at_least_the_clipped_tight_margin_even_when_sum_r_exceeds_1(p):
    margin = worst_case_margin(p).margin
    assert margin >= _clipped_tight(p) - 1e-9
    if math.fsum(marginal_modes(p).r) <= 1.0:  # where the tight certificate is exact
        assert math.isclose(margin, _clipped_tight(p), abs_tol=1e-9)


@given(marginal_matrices(**small))
@example(PAPER_PAIR)
def test_mode_probability_bounds_lp_are_the_frechet_bounds_of_the_confidences(p):
    low, high = mode_probability_bounds_lp(p)
    want = frechet_bounds(marginal_modes(p).c)
    assert math.isclose(low, want[0], abs_tol=1e-9) and math.isclose(high, want[1], abs_tol=1e-9)
    assert math.isclose(low, max(0.0, 1.0 - math.fsum(marginal_modes(p).r)), abs_tol=1e-9)


@given(marginal_matrices(**small))
def test_worst_case_margin_is_nonpositive_when_sum_r_exceeds_1(p):
    if math.fsum(marginal_modes(p).r) > 1.0:
        assert worst_case_margin(p).margin <= 1e-9


def test_worst_case_margin_can_exceed_the_clipped_tight_margin_when_sum_r_exceeds_1():
    """No closed form beyond sum r <= 1: here p(z) <= c_2 = 0.34 < s_1 = 0.5 for every z."""
    p = np.array([[0.5, 0.5, 0.0], [0.34, 0.33, 0.33]])
    w = worst_case_margin(p)
    assert w.margin > _clipped_tight(p) + 0.1


@given(marginal_matrices(**small).flatmap(lambda p: st.tuples(st.just(p), couplings(p))))
def test_no_coupling_has_a_smaller_margin_than_the_worst_case(case):
    p, joint = case
    w = worst_case_margin(p)
    assert joint.mode_margin(w.x_star) >= w.margin - 1e-9


@pytest.mark.parametrize("bad, message", [
    ([[1.0], [1.0]], "V >= 2"),
    (np.full((5, 6), 1 / 6), "cells exceed"),
])
def test_worst_case_margin_rejects_inputs_it_cannot_solve(bad, message):
    with pytest.raises(ValueError, match=message):
        worst_case_margin(bad)


def test_worst_case_margin_rejects_an_unknown_method():
    with pytest.raises(ValueError, match="method"):
        worst_case_margin([[0.5, 0.5]], method="fast")


def test_coupling_lp_drops_zero_tokens_and_redundant_rows():
    lp = CouplingLP([[1.0, 0.0, 0.0], [1 - 1e-10, 0.0, 1e-10]])
    assert lp.cells.shape == (2, 2)
    assert np.linalg.matrix_rank(lp.A) == lp.A.shape[0]


@given(st.lists(st.tuples(st.floats(0.0, 1.0), st.floats(0.0, 1.0)), min_size=1, max_size=10))
def test_batched_margins_agree_with_the_exact_prefix_loop(pairs):
    r = sorted(max(a, b) for a, b in pairs)
    order = np.argsort([max(a, b) for a, b in pairs], kind="stable")
    s = [min(pairs[i]) for i in order]
    ref = prefix_margins_reference(r, s)
    R, S = np.array([r]), np.array([s])
    for name, batched in [("L", joint_lower_bound(R)), ("G", frechet_margin(R)),
                          ("G_star", tight_margin(R, S)), ("F", factor_core(R)),
                          ("B", heterogeneity_bonus(R)), ("spread", spread_bonus(R, S))]:
        exact = np.array([float(v) for v in ref[name]])
        assert np.abs(batched[0] - exact).max() < 1e-12, name


def test_tight_certificate_survey_agrees_with_the_lp():
    survey = tight_certificate_survey(40, seed=3)
    assert survey.within_budget + survey.above_budget == 40
    assert survey.within_budget > 0 and survey.above_budget > 0
    assert survey.max_abs_error < 1e-9
    assert survey.lps_pruned <= survey.lps_all
