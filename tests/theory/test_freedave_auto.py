"""Compute-aware draft width (theory.freedave.auto): the choice against its exact twin,
the compute-bound proposition, the gain estimates and the cost fit."""

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from theory.freedave.auto import (
    CallCost,
    DraftGains,
    best_draft_width,
    best_draft_width_reference,
    compute_bound_draft_width,
    fit_call_cost,
)

gains_lists = st.lists(st.floats(0, 1), min_size=0, max_size=9).map(lambda g: [1.0, *g])
costs = st.builds(CallCost, st.floats(0, 1), st.floats(1e-6, 1))
rows = st.integers(1, 300)


def rate(g, cost, rows, K):
    return sum(g[:K]) / cost.seconds(rows * K)


@given(gains_lists, costs, rows)
@example([1.0, 0.9, 0.8], CallCost(0.01, 0.001), 1)
def test_best_draft_width_equals_trying_every_width_exactly(g, cost, n):
    K = best_draft_width(np.array(g), cost, n)
    ref = best_draft_width_reference(g, cost, n)
    # equal, or a tie within float rounding of the rates (the fast code takes the
    # smallest K within a relative 1e-12 of the best)
    assert K == ref or rate(g, cost, n, K) >= rate(g, cost, n, ref) * (1 - 1e-9)


@given(gains_lists, costs, rows)
def test_the_chosen_width_is_never_worse_than_the_rule_alone(g, cost, n):
    K = best_draft_width(np.array(g), cost, n)
    assert rate(g, cost, n, K) >= rate(g, cost, n, 1) * (1 - 1e-12)


@given(gains_lists, st.floats(1e-6, 1), rows)
@example([1.0, 1.0, 1.0], 0.001, 200)
def test_compute_bound_calls_never_draft(g, b, n):
    assert compute_bound_draft_width(np.array(g), b, n) == 1


@given(st.lists(st.floats(0.01, 1), min_size=1, max_size=8), st.floats(1e-3, 1), rows)
def test_free_states_draft_as_wide_as_allowed(tail, a, n):
    g = np.array([1.0, *tail])
    assert best_draft_width(g, CallCost(a, 0.0), n) == g.size


def test_gains_start_from_the_halving_prior_and_follow_the_data():
    gains = DraftGains(4)
    assert gains.gains().tolist() == [1.0, 0.5, 0.25, 0.125]  # no data: halving
    for _ in range(999):
        gains.observe([True, True, False, False])
    g = gains.gains()
    assert g[1] == pytest.approx(1.0, abs=5e-3) and g[2] == pytest.approx(0.0, abs=5e-3)


def test_drafts_beyond_a_rounds_width_are_not_observed():
    gains = DraftGains(4)
    for _ in range(100):
        gains.observe([True, False], width=2)
    assert gains.seen.tolist() == [100, 100, 0, 0]
    gains.observe([True], width=3)  # the block ran out: draft 2 and 3 would not move
    assert gains.seen.tolist() == [101, 101, 1, 0] and gains.hits.tolist() == [101, 0, 0, 0]


@pytest.mark.parametrize("reached, width, match", [
    ([False, True], None, "always reached"),
    ([True] * 5, None, "width <= 4"),
    ([True, True], 1, "1..width"),
])
def test_impossible_rounds_are_refused(reached, width, match):
    with pytest.raises(ValueError, match=match):
        DraftGains(4).observe(reached, width=width)


@given(st.floats(0, 0.1), st.floats(1e-6, 0.01), st.lists(st.integers(1, 500), min_size=2,
                                                          max_size=6, unique=True))
def test_the_cost_fit_recovers_an_exact_line(a, b, sizes):
    fit = fit_call_cost(sizes, [a + b * n for n in sizes])
    assert fit.fixed == pytest.approx(a, abs=1e-9) and fit.per_state == pytest.approx(b, rel=1e-6)


def test_the_cost_fit_keeps_both_coefficients_non_negative():
    falling = fit_call_cost([1, 2, 3], [3.0, 2.0, 1.0])  # slope < 0: a flat cost
    assert falling.per_state == 0 and falling.fixed == pytest.approx(2.0)
    through_zero = fit_call_cost([1, 2, 3], [0.5, 2.0, 3.5])  # intercept < 0
    assert through_zero.fixed == 0 and through_zero.per_state > 0
    single = fit_call_cost([4, 4], [0.2, 0.4])  # one size: all fixed
    assert (single.fixed, single.per_state) == (pytest.approx(0.3), 0.0)


@pytest.mark.parametrize("states, seconds", [([], []), ([1, 2], [0.1]), ([0], [0.1]),
                                             ([1], [float("nan")]), ([1], [-1.0])])
def test_bad_timings_are_refused(states, seconds):
    with pytest.raises(ValueError):
        fit_call_cost(states, seconds)


@pytest.mark.parametrize("text", ["1", "a,b", "1,2,3", "-1,0", "nan,1", "0,0"])
def test_bad_cost_strings_are_refused(text):
    with pytest.raises(ValueError):
        CallCost.parse(text)


def test_a_cost_string_is_fixed_then_per_state():
    assert CallCost.parse("0.002,0.0007") == CallCost(0.002, 0.0007)
