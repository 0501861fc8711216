"""The precise form of FreeDave's "fewest forward calls" claim, checked by brute force."""

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from theory.freedave import static_decode
from theory.freedave.core import DraftTree, FreeDave
from theory.freedave.optimal import (
    agreement_trace,
    brute_force_calls,
    consistency_hypotheses,
    optimal_calls,
    swap_trace,
)
from theory.freedave.toys import (
    ConsistentOracle,
    HashOracle,
    LeftToRightAdversary,
    static_traces,
    toy_oracles,
)
from theory.freedave.trace import predicted_calls

Ks = st.integers(1, 4)


def freedave(trace, K, refresh=False, tree="chain"):
    return predicted_calls(trace, FreeDave(K, DraftTree(tree), refresh)).calls


@given(static_traces(max_T=8), Ks, st.booleans())
@example(swap_trace(), 2, False)
def test_the_class_optima_are_ordered_below_freedave_and_static(trace, K, refresh):
    path = optimal_calls(trace, K, sources="path", refresh=refresh)
    memo = optimal_calls(trace, K, refresh=refresh)
    single = optimal_calls(trace, K, memory=False, refresh=refresh)
    assert path <= memo <= single <= freedave(trace, K, refresh) <= trace.T


@given(static_traces(max_T=8), Ks, st.booleans())
def test_every_lossless_algorithm_needs_at_least_T_over_K_calls(trace, K, refresh):
    assert optimal_calls(trace, K, sources="path", refresh=refresh) >= math.ceil(trace.T / K)


@given(static_traces(max_T=9, consistent=True), st.integers(1, 10), st.booleans())
def test_freedave_is_call_optimal_with_memory_when_h1_and_h2_hold(trace, K, refresh):
    assert consistency_hypotheses(trace) == (True, True)
    assert freedave(trace, K, refresh) == optimal_calls(trace, K, refresh=refresh)


@given(static_traces(max_T=9), Ks)
def test_with_h2_greedy_acceptance_is_optimal_among_memoryless_algorithms(trace, K):
    if consistency_hypotheses(trace)[1]:
        assert freedave(trace, K) == optimal_calls(trace, K, memory=False)


@settings(max_examples=30)
@given(static_traces(max_T=6), Ks, st.sampled_from(["verified", "path"]))
def test_evaluating_the_largest_candidate_sets_loses_nothing(trace, K, sources):
    assert optimal_calls(trace, K, sources=sources) == optimal_calls(
        trace, K, sources=sources, maximal=False)


@settings(max_examples=30)
@given(static_traces(max_T=6))
def test_with_unbounded_budget_evaluating_every_free_draft_is_optimal(trace):
    assert optimal_calls(trace, None) == optimal_calls(trace, trace.T, maximal=False)


@given(static_traces(max_T=8), Ks)
def test_the_runner_up_tree_is_never_better_than_its_class_optimum(trace, K):
    tree = freedave(trace, K, tree="runner_up")
    assert optimal_calls(trace, K, tokens="top2") <= tree


def test_more_compute_can_cost_freedave_calls():
    trace = agreement_trace((4, 1, 1, 3, 1, 1, 1))
    assert [freedave(trace, K) for K in (3, 4, 7)] == [3, 4, 4]
    assert optimal_calls(trace, 7, memory=False) == 3


def test_accepting_fewer_tokens_can_save_calls_when_h2_fails():
    trace = agreement_trace((2, 3, 1, 1, 1))
    assert consistency_hypotheses(trace) == (True, False)
    assert [freedave(trace, K) for K in (2, 3, 5)] == [4, 4, 4]
    assert optimal_calls(trace, 3, memory=False) == 3


def test_memory_beats_freedave_when_h1_fails_even_with_unbounded_budget():
    trace = swap_trace()
    assert consistency_hypotheses(trace) == (False, True)
    assert freedave(trace, 5) == 5
    assert optimal_calls(trace, 3) == optimal_calls(trace, None) == 3


def test_drafting_from_an_unverified_forward_can_beat_verified_sources():
    oracle, x0 = ConsistentOracle(3, 10, 0.5, 0.1), np.full((1, 5), -1)
    trace = static_decode(oracle, x0, mask_id=-1).traces[0]
    assert optimal_calls(trace, 2) == freedave(trace, 2) == 4
    assert optimal_calls(trace, 2, sources="path") == 3
    assert brute_force_calls(oracle, x0, mask_id=-1, K=2, sources="any") == 3


@pytest.mark.slow
def test_drafting_from_an_off_path_forward_can_beat_every_static_path_source():
    oracle, x0 = HashOracle(3, 5, 4.0), np.full((1, 4), -1)
    trace = static_decode(oracle, x0, mask_id=-1).traces[0]
    assert optimal_calls(trace, 2, drafts="subset", sources="path") == 4
    assert brute_force_calls(oracle, x0, mask_id=-1, K=2, drafts="subset", sources="any") == 3


@settings(max_examples=25)
@given(toy_oracles(max_vocab=3), st.integers(1, 4), st.integers(1, 3),
       st.sampled_from([("prefix", "argmax"), ("prefix", "top2"), ("subset", "argmax")]))
def test_the_brute_force_over_all_policies_equals_the_trace_optimum(oracle, L, K, shape):
    x0 = np.full((1, L), -1)
    trace = static_decode(oracle, x0, mask_id=-1).traces[0]
    drafts, tokens = shape
    assert brute_force_calls(oracle, x0, mask_id=-1, K=K, drafts=drafts, tokens=tokens) == \
        optimal_calls(trace, K, drafts=drafts, tokens=tokens)


@settings(max_examples=10)
@given(st.integers(1, 3), st.integers(1, 3))
def test_the_left_to_right_adversary_forces_T_calls_on_every_class(L, K):
    oracle, x0 = LeftToRightAdversary(-1), np.full((1, L), -1)
    for drafts in ("prefix", "subset"):
        assert brute_force_calls(oracle, x0, mask_id=-1, K=K, drafts=drafts, tokens="top2",
                                 sources="any") == L


@given(st.integers(1, 12), st.integers(1, 12))
def test_the_left_to_right_adversary_trace_allows_no_saving(T, K):
    oracle, x0 = LeftToRightAdversary(-1), np.full((1, T), -1)
    trace = static_decode(oracle, x0, mask_id=-1).traces[0]
    if T <= 8:
        assert optimal_calls(trace, K, drafts="subset", tokens="top2", sources="path") == T
    assert optimal_calls(trace, None, memory=True) == freedave(trace, K) == T


def test_the_survey_finds_no_theorem_failure_and_no_k1_speedup():
    from theory.freedave.survey import compute_class_gaps, compute_speedups

    assert all(row["theorem_fails"] == 0 for row in compute_class_gaps(n=20, max_T=6))
    rows = compute_speedups(n=2, L=8, block=4, Ks=(1, 2))
    assert all(row["speedup"] == 1.0 for row in rows if row["K"] == 1)
    assert all(row["speedup"] >= 1.0 for row in rows)


def test_the_runner_up_tree_can_cost_more_calls_than_the_chain_it_contains():
    rng = np.random.default_rng(2072)
    size = int(rng.integers(2, 9))
    from theory.freedave.toys import random_trace

    trace = random_trace(rng, (size,))
    assert freedave(trace, 4, tree="runner_up") == 5 > freedave(trace, 3) == 4
