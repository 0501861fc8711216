"""FreeDave over any deterministic rule R: the output is R-decoding's, in no more calls."""

import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st

from tests.theory.freedave_pairs import decode_both
from theory import make_rule
from theory.freedave import freedave_decode
from theory.freedave.core import Blocks, DraftTree, FreeDave, rule_step
from theory.freedave.toys import ConsistentOracle, HashOracle, decode_problems, toy_oracles
from theory.freedave.trace import predicted_calls
from theory.rules import Quota

RULES = [Quota(1), Quota(2), Quota(3), make_rule("threshold", 0.6), make_rule("factor", 1.0),
         make_rule("frechet", 0.0), make_rule("frechet", -0.3), make_rule("tight", 0.0),
         make_rule("entropy", 0.5)]
configs = st.builds(FreeDave, st.integers(1, 6),
                    st.sampled_from([DraftTree(), DraftTree("runner_up"), DraftTree("stride")]),
                    st.booleans(), st.sampled_from(RULES))
BLOCKS = (np.full((1, 9), -1), Blocks((0, 3, 6)))



@given(toy_oracles(), decode_problems(max_rows=2), configs)
@example(HashOracle(V=3, seed=1, scale=4.0), BLOCKS, FreeDave(4, rule=Quota(2)))
@example(HashOracle(V=3, seed=2, scale=4.0), BLOCKS,
         FreeDave(3, DraftTree("runner_up"), refresh=True, rule=make_rule("threshold", 0.6)))
def test_freedave_over_a_rule_reproduces_that_rules_decoding(oracle, problem, config):
    plain, fast = decode_both(oracle, problem, config)
    assert np.array_equal(fast.x, plain.x)
    assert not (fast.x == -1).any()


@given(toy_oracles(), decode_problems(max_rows=2), configs)
def test_freedave_over_a_rule_never_uses_more_calls_than_the_rule(oracle, problem, config):
    plain, fast = decode_both(oracle, problem, config)
    assert all(f <= p for f, p in zip(fast.row_calls, plain.row_calls, strict=True))
    assert fast.calls <= plain.calls
    # every round makes at least one step of the rule, all rounds together make all of them
    for rounds, steps in zip(fast.accepted, plain.row_calls, strict=True):
        assert all(b >= 1 for b in rounds) and sum(rounds) == steps


@given(toy_oracles(), decode_problems(max_rows=2), st.sampled_from(RULES), st.booleans())
def test_one_draft_per_call_is_the_rule_itself_call_for_call(oracle, problem, rule, refresh):
    plain, fast = decode_both(oracle, problem, FreeDave(1, refresh=refresh, rule=rule))
    assert fast.row_calls == plain.row_calls and np.array_equal(fast.x, plain.x)


def test_a_rule_that_commits_several_tokens_gains_from_drafts():
    """The consistent oracle's forwards agree from state to state, so later drafts guess
    the rule's next states: quota 2 over 12 positions takes 6 calls alone, fewer here."""
    oracle = ConsistentOracle(V=3, seed=0)
    x0, blocks = np.full((2, 12), -1), Blocks((0, 6))
    plain, fast = decode_both(oracle, (x0, blocks), FreeDave(4, rule=Quota(2)))
    assert plain.calls == 6
    assert np.array_equal(fast.x, plain.x) and fast.calls < plain.calls
    assert max(b for rounds in fast.accepted for b in rounds) >= 2


def test_a_stride_chain_grows_by_the_rules_first_count_and_ends_at_the_block():
    stride = DraftTree("stride")
    assert stride.first(8, 7, start=2) == [(0,) * d for d in (2, 4, 6, 7)]
    assert stride.first(2, 7, start=2) == [(0, 0), (0,) * 4]
    assert stride.first(5, 4, start=1) == DraftTree().first(5, 4)  # static: the chain
    assert DraftTree().first(3, 7, start=2) == [(0,) * d for d in (2, 3, 4)]


def test_a_stride_chain_follows_a_quota_rule_further_than_the_plain_chain():
    oracle = ConsistentOracle(V=3, seed=0)
    x0, blocks = np.full((2, 12), -1), Blocks((0, 6))
    plain, chain = decode_both(oracle, (x0, blocks), FreeDave(2, rule=Quota(2)))
    _, stride = decode_both(oracle, (x0, blocks), FreeDave(2, DraftTree("stride"), rule=Quota(2)))
    assert np.array_equal(stride.x, plain.x) and stride.calls < chain.calls


@given(toy_oracles(), decode_problems(max_rows=1), configs)
@example(ConsistentOracle(V=3, seed=0), (np.full((1, 12), -1), Blocks((0, 6))),
         FreeDave(4, DraftTree("stride"), rule=Quota(2)))
def test_calls_predicted_from_the_rules_trace_equal_the_real_run(oracle, problem, config):
    """Two methods, one count: FreeDave over R run on the oracle, and the trace DP on R's
    own trace (no oracle), for every rule, tree and refresh mode."""
    x0, blocks = problem
    plain, fast = decode_both(oracle, problem, config)
    counts = [predicted_calls(t, config) for t in plain.traces]
    assert [c.calls for c in counts] == list(fast.row_calls)
    assert [c.states for c in counts] == list(fast.row_states)
    assert [c.accepted for c in counts] == list(fast.accepted)


CERTIFIED = [make_rule("frechet", 0.0), make_rule("frechet", 0.3), make_rule("tight", 0.0),
             make_rule("tight", 0.3)]
subset_configs = st.builds(FreeDave, st.integers(1, 6),
                           st.sampled_from([DraftTree(), DraftTree("stride")]), st.booleans(),
                           st.sampled_from(RULES + CERTIFIED), st.just("subset"))


def _margin(rule, out, window, committed):
    """The rule's certificate margin of the set ``committed`` at a state (a brute-force
    restatement: max(0, 1 - sum r) - max r (Fréchet) or - max s (tight) over the set)."""
    r = 1.0 - out.c[0][committed]
    top = (out.s[0][committed] if rule.name == "tight" else r).max()
    return max(0.0, 1.0 - r.sum()) - top


@given(toy_oracles(), decode_problems(max_rows=1), subset_configs)
@example(ConsistentOracle(V=3, seed=0, noise=1.0), (np.full((1, 12), -1), Blocks((0, 6))),
         FreeDave(4, rule=make_rule("frechet", 0.0), accept="subset"))
def test_every_subset_move_commits_part_of_the_rules_set_and_is_certified(oracle, problem,
                                                                          config):
    """FreeDave++ (subset acceptance): each move from y commits positions the rule commits
    at y, to y's argmax tokens; for Fréchet and tight the committed set's margin at y is
    at least the margin of the rule's own set there (the margins only grow on a subset),
    so it is certified whenever the rule's set is (the rules also commit one uncertified
    token when nothing is certified; so does a move then)."""
    x0, blocks = problem
    fast = freedave_decode(oracle, x0, mask_id=-1, blocks=blocks, config=config)
    assert not (fast.x == -1).any()
    for y, z in zip(fast.moves[0], fast.moves[0][1:], strict=False):
        out = oracle(y[None, :])
        want, decision = rule_step(y[None, :], out, -1, blocks, config.rule)
        moved = (z != -1) & (y == -1)
        assert moved.any() and (z[moved] == want[0][moved]).all()
        assert (want[0][moved] != -1).all()  # the rule commits every moved position
        if config.rule.name in ("frechet", "tight"):
            own = (want[0] != -1) & (y == -1)
            assert _margin(config.rule, out, None, moved) >= _margin(config.rule, out, None,
                                                                     own) - 1e-12


@given(toy_oracles(), decode_problems(max_rows=1), subset_configs)
def test_subset_acceptance_with_one_draft_is_the_rule_itself(oracle, problem, config):
    one = FreeDave(1, config.tree, config.refresh, config.rule, "subset")
    plain, fast = decode_both(oracle, problem, one)
    assert np.array_equal(fast.x, plain.x) and fast.row_calls == plain.row_calls
