"""Subset monotonicity of the Fréchet and tight margins (docs/theory/subset_margin_monotone.md):
what makes every FreeDave++ move certified whenever the rule's own set is."""

from itertools import combinations

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.tolerance import Path, assert_close
from theory import (
    frechet_certificate,
    subset_margin_monotone,
    subset_margins_reference,
    tight_certificate,
    worst_case_margin,
)
from theory.freedave.subset import CONFIDENCE, RUNNER_UP
from theory.strategies import marginal_matrices

PAPER_PROFILE = [0.99, 0.95, 0.82, 0.78, 0.74]
LP_TOL = 1e-9  # the LP solver's feasibility tolerance, as in tests/theory/test_bruteforce.py


@st.composite
def sets_and_subsets(draw, max_n=8):
    """(c, s, keep): n confidences, runner-up probabilities s <= 1 - c, a non-empty subset."""
    n = draw(st.integers(1, max_n))
    c = np.array(draw(st.lists(CONFIDENCE.strategy(), min_size=n, max_size=n)))
    s = (1.0 - c) * np.array(draw(st.lists(RUNNER_UP.strategy(), min_size=n, max_size=n)))
    keep = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    keep[draw(st.integers(0, n - 1))] = True
    return c, s, keep


@given(sets_and_subsets())
@example((np.array(PAPER_PROFILE), np.zeros(5), np.array([True, True, False, False, False])))
@example((np.array([1.0, 0.5]), np.array([0.0, 0.5]), np.array([True, False])))
def test_subset_margin_monotone_holds_for_the_frechet_margin(case):
    c, _, keep = case
    assert subset_margin_monotone(c, keep)


@given(sets_and_subsets())
def test_subset_margin_monotone_holds_for_the_tight_margin(case):
    c, s, keep = case
    assert subset_margin_monotone(c, keep, s)


@given(sets_and_subsets(max_n=6), st.booleans())
def test_the_whole_set_has_the_least_margin_of_all_its_subsets_by_enumeration(case, tight):
    """The brute-force twin: every one of the 2^n - 1 subsets, by the definition."""
    c, s, _ = case
    margins = subset_margins_reference(c, s if tight else None)
    whole = tuple(range(len(c)))
    assert len(margins) == 2 ** len(c) - 1 and min(margins.values()) == margins[whole]
    for T in margins:
        keep = np.isin(np.arange(len(c)), T)
        assert subset_margin_monotone(c, keep, s if tight else None) == \
            (margins[T] >= margins[whole])


@given(sets_and_subsets(max_n=6))
def test_the_enumerated_margin_of_the_whole_set_is_frechet_certificate(case):
    c, _, _ = case
    whole = subset_margins_reference(c)[tuple(range(len(c)))]
    # float r = 1 - c and their running sum against the exact rationals: n-term sums
    assert_close(np.float64(frechet_certificate(c)), np.float64(whole), Path(n=len(c), stages=2),
                 magnitude=1.0)


@given(marginal_matrices(st.integers(2, 3), st.integers(2, 3), max_residual_sum=1.0))
def test_the_lp_worst_case_margin_of_a_subset_is_never_below_the_sets(p):
    """An independent twin over joint tables: the worst mode margin over all couplings
    with the marginals (an LP) is also subset-monotone, and equals the tight margin."""
    whole = worst_case_margin(p).margin
    assert abs(whole - tight_certificate(p)) <= LP_TOL
    for k in range(1, len(p)):
        for T in combinations(range(len(p)), k):
            assert worst_case_margin(p[list(T)]).margin >= whole - LP_TOL


def test_dropping_a_certain_position_leaves_the_margin_unchanged():
    """The bound is tight: removing a position with c = 1 (r = s = 0) changes neither
    margin."""
    c, s = [1.0, 0.9, 0.8], [0.0, 0.05, 0.2]
    for runner_up in (None, s):
        margins = subset_margins_reference(c, runner_up)
        assert margins[(1, 2)] == margins[(0, 1, 2)] > 0


@pytest.mark.parametrize("c, keep, s, match", [
    ([1.5, 0.5], [True, False], None, "c = 1.5"),
    ([0.5, 0.5], [False, False], None, "at least one True"),
    ([0.5, 0.5], [True], None, "bool vector of 2"),
    ([0.5, 0.5], [1, 0], None, "bool vector"),
    ([0.5, 0.5], [True, True], [0.2], "s has 1 entries"),
    ([0.5, float("nan")], [True, True], None, "c = nan"),
    ([], [], None, "at least one position")])
def test_bad_inputs_raise_a_value_error_naming_the_value(c, keep, s, match):
    with pytest.raises(ValueError, match=match):
        subset_margin_monotone(c, keep, s)
