"""FreeDave decoding over toy oracles: exactness, progress and call bounds."""

import math

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.theory.freedave_pairs import decode_both
from theory.freedave import freedave_decode, static_decode
from theory.freedave.core import (
    Blocks,
    DraftTree,
    FreeDave,
    OracleOutput,
    rank_window,
    static_step,
)
from theory.freedave.toys import (
    ConsistentOracle,
    HashOracle,
    LeftToRightAdversary,
    decode_problems,
    toy_oracles,
)
from theory.rules import Quota, commit

configs = st.builds(FreeDave, st.integers(1, 6),
                    st.sampled_from([DraftTree(), DraftTree("runner_up")]), st.booleans())
ONE_MASK = (np.array([[0, -1]]), Blocks((1,)))
NO_MASK = (np.array([[0, 1]]), Blocks())



@given(toy_oracles(), decode_problems(max_rows=2), configs)
@example(HashOracle(), NO_MASK, FreeDave())
@example(HashOracle(), ONE_MASK, FreeDave(refresh=True))
def test_freedave_output_equals_static_decoding(oracle, problem, config):
    static, fast = decode_both(oracle, problem, config)
    assert np.array_equal(fast.x, static.x)
    assert not (fast.x == -1).any()


@given(toy_oracles(), decode_problems(max_rows=2), configs)
def test_every_round_commits_at_least_one_token(oracle, problem, config):
    static, fast = decode_both(oracle, problem, config)
    for accepted, T in zip(fast.accepted, static.row_calls, strict=True):
        assert all(b >= 1 for b in accepted) and sum(accepted) == T


@given(toy_oracles(), decode_problems(max_rows=2), configs)
def test_freedave_never_uses_more_calls_than_static_decoding(oracle, problem, config):
    static, fast = decode_both(oracle, problem, config)
    assert all(f <= s for f, s in zip(fast.row_calls, static.row_calls, strict=True))
    assert fast.calls <= static.calls


@given(toy_oracles(), decode_problems(max_rows=2), st.booleans())
@example(HashOracle(), NO_MASK, False)
def test_freedave_with_K_1_uses_exactly_the_static_calls(oracle, problem, refresh):
    static, fast = decode_both(oracle, problem, FreeDave(1, refresh=refresh))
    assert fast.row_calls == static.row_calls and fast.calls == static.calls


@given(toy_oracles(), decode_problems(max_rows=3), configs)
def test_batched_calls_are_the_maximum_of_the_row_calls(oracle, problem, config):
    _, fast = decode_both(oracle, problem, config)
    assert fast.calls == max(fast.row_calls)
    assert fast.states == sum(fast.row_states)


@given(toy_oracles(), decode_problems(max_rows=3), configs)
def test_rows_decode_as_if_each_were_alone(oracle, problem, config):
    x0, blocks = problem
    _, fast = decode_both(oracle, problem, config)
    for i in range(x0.shape[0]):
        alone = freedave_decode(oracle, x0[i:i + 1], mask_id=-1, blocks=blocks, config=config)
        assert np.array_equal(alone.x[0], fast.x[i])
        assert (alone.calls, alone.accepted[0]) == (fast.row_calls[i], fast.accepted[i])


@given(st.integers(0, 2**31 - 1), st.lists(st.integers(1, 5), min_size=1, max_size=3),
       st.integers(1, 6), st.booleans())
def test_a_perfectly_consistent_oracle_needs_the_closed_form_calls(seed, sizes, K, refresh):
    """noise = flip = 0: every ranking predicts its block, so A(j) = m_j.

    Refresh: each block costs 1 + ceil((m - 1)/K). One oracle: 1 call, then
    ceil(m/K) rounds per block (the block-completing draft seeds the next block),
    except ceil((m - 1)/K) for the last block (the final state is never evaluated).
    """
    L = sum(sizes)
    x0 = np.full((1, L), -1)
    blocks = Blocks(tuple(np.cumsum([0] + sizes[:-1]).tolist()))
    run = freedave_decode(ConsistentOracle(3, seed), x0, mask_id=-1, blocks=blocks,
                          config=FreeDave(K, refresh=refresh))
    if refresh:
        expected = sum(1 + math.ceil((m - 1) / K) for m in sizes)
    else:
        expected = 1 + sum(math.ceil(m / K) for m in sizes[:-1]) + math.ceil((sizes[-1] - 1) / K)
    assert run.calls == expected


@given(decode_problems(max_rows=2), configs)
def test_the_left_to_right_adversary_leaves_freedave_no_gain(problem, config):
    static, fast = decode_both(LeftToRightAdversary(-1), problem, config)
    assert fast.row_calls == static.row_calls
    assert all(set(a) <= {1} for a in fast.accepted)


@given(toy_oracles(), decode_problems(max_rows=3))
def test_the_static_step_commits_rank_one_of_the_shared_sort_order(oracle, problem):
    x0, blocks = problem
    live = x0[(x0 == -1).any(axis=1)]
    if live.size == 0:
        return
    out = oracle(live)
    order, m = rank_window(live, out, -1, blocks)
    nxt = static_step(live, out, -1, blocks)
    for i in range(live.shape[0]):
        changed = np.flatnonzero(nxt[i] != live[i])
        assert changed.tolist() == [order[i, 0]] and m[i] >= 1
        assert nxt[i, order[i, 0]] == out.tokens[i, order[i, 0]]


def test_rank_window_agrees_with_commit_quota_k_on_every_prefix():
    x0 = np.full((2, 6), -1)
    out = HashOracle(4, 3)(x0)
    order, m = rank_window(x0, out, -1, Blocks((0, 4)))
    from theory.freedave.core import _profile, active_window

    profile = _profile(out, active_window(x0, -1, Blocks((0, 4))))
    for k in range(1, 5):
        mask = np.asarray(commit(Quota(k), profile).mask)
        for i in range(2):
            assert set(np.flatnonzero(mask[i]).tolist()) == set(order[i, :min(k, m[i])].tolist())


def test_draft_trees_list_parents_before_children():
    assert DraftTree("runner_up").first(5, 9) == [(0,), (0, 0), (0, 1), (0, 0, 0), (0, 0, 1)]
    assert DraftTree().first(4, 2) == [(0,), (0, 0)]
    assert DraftTree("explicit", ((0,), (0, 1))).first(3, 1) == [(0,)]


@pytest.mark.parametrize("bad", [
    lambda: FreeDave(0), lambda: DraftTree("wide"), lambda: DraftTree("explicit", ((1,),)),
    lambda: DraftTree("explicit", ((0,), (0, 1, 0))), lambda: DraftTree("chain", ((0,),)),
    lambda: Blocks((3, 2)), lambda: Blocks.uniform(5, 2, 4),
    lambda: OracleOutput(np.zeros((1, 2), int), np.array([[0.5, 1.5]])),
    lambda: OracleOutput(np.zeros((1, 2), int), np.ones((1, 2)), runner_up=np.zeros((1, 2))),
    lambda: OracleOutput(np.zeros((1, 2), int), np.ones((1, 3))),
])
def test_invalid_configurations_raise_value_error(bad):
    with pytest.raises(ValueError):
        bad()


def test_a_masked_prompt_position_raises_value_error():
    with pytest.raises(ValueError, match="prompt"):
        static_decode(HashOracle(), np.array([[-1, -1]]), mask_id=-1, blocks=Blocks((1,)))


def test_a_runner_up_tree_needs_runner_up_tokens_from_the_oracle():
    def no_runner_up(states):
        out = HashOracle()(states)
        return OracleOutput(out.tokens, out.c)

    with pytest.raises(ValueError, match="runner-up"):
        freedave_decode(no_runner_up, np.full((1, 3), -1), mask_id=-1,
                        config=FreeDave(2, DraftTree("runner_up")))


def test_an_oracle_that_predicts_the_mask_id_or_a_wrong_shape_is_rejected():
    def mask_argmax(states):
        return OracleOutput(np.full(states.shape, -1), np.full(states.shape, 0.5))

    def wrong_shape(states):
        return OracleOutput(np.zeros((1, 1), int), np.zeros((1, 1)))

    for oracle in (mask_argmax, wrong_shape):
        with pytest.raises(ValueError):
            freedave_decode(oracle, np.full((2, 3), -1), mask_id=-1)


def test_the_freedave_modules_never_import_torch():
    import subprocess
    import sys

    code = ("import sys, theory.freedave, theory.freedave.optimal, theory.freedave.toys, "
            "theory.freedave.survey; print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
