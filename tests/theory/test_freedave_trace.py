"""FreeDave's call count three ways: the run, the trace replay and the trace DP."""

import doctest

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import theory.freedave.core
import theory.freedave.optimal
import theory.freedave.trace
from theory.freedave import freedave_decode, static_decode
from theory.freedave.core import DraftTree, FreeDave
from theory.freedave.toys import HashOracle, decode_problems, static_traces, toy_oracles
from theory.freedave.trace import (
    StaticStep,
    StaticTrace,
    TraceOracle,
    agreement_lengths,
    draft_hits,
    predicted_calls,
    tree_accepted,
)

configs = st.builds(FreeDave, st.integers(1, 6),
                    st.sampled_from([DraftTree(), DraftTree("runner_up")]), st.booleans())


def _count(run, i=0):
    return run.row_calls[i], run.row_states[i], run.accepted[i]


@given(toy_oracles(), decode_problems(max_rows=2), configs)
@example(HashOracle(), (np.array([[0, -1]]), theory.freedave.core.Blocks((1,))), FreeDave())
def test_predicted_calls_equal_the_calls_of_the_real_run(oracle, problem, config):
    x0, blocks = problem
    static = static_decode(oracle, x0, mask_id=-1, blocks=blocks)
    fast = freedave_decode(oracle, x0, mask_id=-1, blocks=blocks, config=config)
    for i, trace in enumerate(static.traces):
        count = predicted_calls(trace, config)
        assert (count.calls, count.states, count.accepted) == _count(fast, i)


@given(static_traces(max_T=9), configs, st.integers(0, 2**31 - 1))
def test_replaying_a_trace_costs_the_predicted_calls_whatever_the_off_path_answers(
        trace, config, poison):
    oracle = TraceOracle(trace, poison)
    run = freedave_decode(oracle, oracle.x0, mask_id=-1, blocks=oracle.blocks, config=config)
    count = predicted_calls(trace, config)
    assert (count.calls, count.states, count.accepted) == _count(run)


@given(static_traces(max_T=9))
def test_the_trace_oracle_walks_exactly_the_recorded_static_path(trace):
    oracle = TraceOracle(trace)
    again = static_decode(oracle, oracle.x0, mask_id=-1, blocks=oracle.blocks).traces[0]
    strip = [(s.positions, s.tokens, s.runner_up) for s in trace.steps]
    assert [(s.positions, s.tokens, s.runner_up) for s in again.steps] == strip


@given(static_traces(max_T=9), st.integers(1, 6))
def test_a_chain_round_accepts_the_smaller_of_its_draft_count_and_the_agreement(trace, K):
    A = agreement_lengths(trace)
    j = 0
    for b in predicted_calls(trace, FreeDave(K)).accepted:
        assert b == min(K, A[j], trace.steps[j].m)
        j += b
    assert j == trace.T


@given(static_traces(max_T=9))
def test_agreement_lengths_lie_between_one_and_the_masks_left(trace):
    A = agreement_lengths(trace)
    assert all(1 <= A[j] <= s.m for j, s in enumerate(trace.steps))


@given(static_traces(max_T=9), st.integers(1, 6))
def test_from_any_step_the_runner_up_tree_reaches_as_deep_as_its_chain_spine(trace, K):
    """The tree's first K nodes contain the chain's first (K+2)//2 nodes. (Over a
    whole decode the tree can still cost more calls: deeper is not always better.)"""
    tree, chain = FreeDave(K, DraftTree("runner_up")), FreeDave((K + 2) // 2)
    for j, s in enumerate(trace.steps):
        assert set(chain.nodes(s.m)) <= set(tree.nodes(s.m))
        assert tree_accepted(trace, j, tree.nodes(s.m)) >= tree_accepted(trace, j,
                                                                         chain.nodes(s.m))


@given(static_traces(max_T=9), st.sampled_from(["prefix", "subset"]),
       st.sampled_from(["argmax", "top2"]))
def test_subset_and_top2_drafts_hit_whatever_nested_argmax_drafts_hit(trace, drafts, tokens):
    base = draft_hits(trace, 0)
    assert (draft_hits(trace, 0, drafts=drafts, tokens=tokens) >= base).all()


def test_a_swap_in_the_ranking_breaks_the_chain_but_not_the_subset_drafts():
    trace = StaticTrace((StaticStep(0, 0, (5, 6, 7), (1, 1, 1)),
                         StaticStep(1, 0, (7, 6), (1, 1)), StaticStep(2, 0, (6,), (1,))))
    assert draft_hits(trace, 0).tolist() == [True, False, True]
    assert draft_hits(trace, 0, drafts="subset").tolist() == [True, True, True]
    assert agreement_lengths(trace).tolist() == [1, 2, 1]


@pytest.mark.parametrize("steps", [
    (StaticStep(1, 0, (0,), (1,)),),
    (StaticStep(0, 0, (0, 1), (1, 1)), StaticStep(1, 0, (0,), (1,))),
    (StaticStep(0, 0, (0,), (1,)), StaticStep(1, 0, (1,), (1,))),
    (StaticStep(0, 0, (0, 1), (1, 1), (2, 2)), StaticStep(1, 0, (1,), (1,))),
])
def test_inconsistent_traces_raise_value_error(steps):
    with pytest.raises(ValueError):
        StaticTrace(steps)


@pytest.mark.parametrize("args", [(0, 0, (), ()), (0, 0, (1, 1), (0, 0)), (0, 0, (1,), (0, 0)),
                                  (0, 0, (1,), (0,), (0,)), (0, 0, (1.5,), (0,))])
def test_malformed_static_steps_raise_value_error(args):
    with pytest.raises(ValueError):
        StaticStep(*args)


def test_top2_counting_needs_runner_up_tokens_in_the_trace():
    trace = StaticTrace((StaticStep(0, 0, (0,), (1,)),))
    with pytest.raises(ValueError, match="runner-up"):
        predicted_calls(trace, FreeDave(2, DraftTree("runner_up")))
    with pytest.raises(ValueError, match="runner-up"):
        draft_hits(trace, 0, tokens="top2")


@pytest.mark.parametrize("module", [theory.freedave.core, theory.freedave.trace,
                                    theory.freedave.optimal])
def test_docstring_examples_hold(module):
    assert doctest.testmod(module).failed == 0
