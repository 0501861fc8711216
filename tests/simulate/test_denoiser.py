"""The exact denoiser against brute-force enumeration of the whole joint table."""

import doctest

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import simulate.chain
import simulate.denoiser
from simulate import (
    ChainDenoiser,
    MarkovChain,
    brute_joint_mode,
    brute_log_prob,
    brute_marginals,
    random_chain,
)
from simulate.strategies import chains, masked_states

TOL = 1e-12
TWO_STATE = MarkovChain(pi=[0.5, 0.5], T=[[0.9, 0.1], [0.2, 0.8]])


@st.composite
def worlds(draw, rows=3):
    chain = draw(chains())
    N = draw(st.integers(1, 6))
    x, S = draw(masked_states(chain, N, rows))
    return chain, x, S


@given(worlds())
@example((TWO_STATE, np.array([[0, 2, 2]]), np.array([[False, True, True]])))
def test_marginals_equal_brute_force_enumeration(world):
    chain, x, _ = world
    p = ChainDenoiser(chain).marginals(x)
    for b in range(x.shape[0]):
        np.testing.assert_allclose(p[b], brute_marginals(chain, x[b], chain.V), rtol=0, atol=TOL)


@given(worlds(), st.sampled_from(["viterbi", "enumerate"]))
def test_joint_mode_equals_brute_force_enumeration(world, method):
    chain, x, S = world
    mode = ChainDenoiser(chain).joint_mode(x, S, method=method)
    for b in range(x.shape[0]):
        if not S[b].any():
            assert mode.log_prob[b] == 0.0 and (mode.tokens[b] == -1).all()
            continue
        best, prob, gap = brute_joint_mode(chain, x[b], S[b], chain.V)
        assert abs(np.exp(mode.log_prob[b]) - prob) <= TOL
        assert ((mode.tokens[b] >= 0) == S[b]).all()
        if gap > 1e-9:  # a unique mode: the tokens must be it
            assert {i: int(mode.tokens[b, i]) for i in best} == best


@given(worlds(), st.integers(0, 2**32 - 1))
def test_log_prob_equals_brute_force_enumeration(world, seed):
    chain, x, S = world
    tokens = np.random.default_rng(seed).integers(0, chain.V, x.shape)
    got = ChainDenoiser(chain).log_prob(x, S, tokens)
    for b in range(x.shape[0]):
        want = brute_log_prob(chain, x[b], S[b], tokens[b], chain.V) if S[b].any() else 0.0
        assert abs(np.exp(got[b]) - np.exp(want)) <= TOL


@given(worlds(rows=4), st.data())
def test_marginals_window_equals_the_full_marginals(world, data):
    chain, x, _ = world
    N = x.shape[1]
    width = data.draw(st.integers(1, N))
    start = np.array([data.draw(st.integers(0, N - width)) for _ in range(x.shape[0])])
    den = ChainDenoiser(chain)
    full = den.marginals(x)
    window = den.marginals_window(x, start, width)
    for b in range(x.shape[0]):
        np.testing.assert_allclose(window[b], full[b, start[b]:start[b] + width], atol=TOL)


def test_one_chain_per_row_answers_as_each_chain_alone():
    rng = np.random.default_rng(0)
    cs = [random_chain(4, rho, rng) for rho in (0.0, 0.5, 0.9)]
    model = np.array([2, 0, 1, 1, 2])
    x = np.stack([cs[m].sample(1, 7, rng)[0] for m in model])
    masked = rng.random(x.shape) < 0.6
    x = np.where(masked, 4, x)
    S = masked & (rng.random(x.shape) < 0.5)
    den = ChainDenoiser(cs, model)
    p, mode = den.marginals(x), den.joint_mode(x, S)
    for b, m in enumerate(model):
        alone = ChainDenoiser(cs[m])
        np.testing.assert_allclose(p[b], alone.marginals(x[b:b + 1])[0], atol=TOL)
        assert abs(mode.log_prob[b] - alone.joint_mode(x[b:b + 1], S[b:b + 1]).log_prob[0]) < TOL
    sub = den.take(np.array([3, 0]))
    np.testing.assert_allclose(sub.marginals(x[[3, 0]]), p[[3, 0]], atol=TOL)


def test_oracle_is_deterministic_and_exact_at_known_positions():
    chain = random_chain(6, 0.7, np.random.default_rng(1))
    den = ChainDenoiser(chain)
    x = np.array([[1, 6, 6, 3, 6], [6, 6, 6, 6, 6]])
    tokens, conf = den.oracle(x)
    again = den.oracle(x)
    assert tokens.shape == conf.shape == x.shape
    assert (tokens == again[0]).all() and (conf == again[1]).all()
    assert tokens[0, 0] == 1 and tokens[0, 3] == 3 and conf[0, 0] == 1.0
    p = den.marginals(x)
    assert (tokens == p.argmax(-1)).all() and np.allclose(conf, p.max(-1))


def test_enumeration_refuses_more_assignments_than_allowed():
    den = ChainDenoiser(random_chain(4, 0.5, np.random.default_rng(0)))
    x = np.full((1, 6), 4)
    with pytest.raises(ValueError, match="max_assignments"):
        den.joint_mode(x, np.ones((1, 6), bool), method="enumerate", max_assignments=100)


@pytest.mark.parametrize("states, subset, match", [
    (np.array([[0, 7]]), None, "not the mask id"),
    (np.array([[0.0, 2.0]]), None, "integer"),
    (np.array([[0, 2]]), np.array([[True, False]]), "not masked"),
    (np.array([[0, 2]]), np.array([[1, 0]]), "bool"),
])
def test_bad_states_and_subsets_are_refused(states, subset, match):
    den = ChainDenoiser(TWO_STATE)
    with pytest.raises(ValueError, match=match):
        if subset is None:
            den.marginals(states)
        else:
            den.joint_mode(states, subset)


def test_a_row_count_other_than_the_per_row_chains_is_refused():
    den = ChainDenoiser([TWO_STATE, TWO_STATE], np.array([0, 1]))
    with pytest.raises(ValueError, match="take"):
        den.marginals(np.array([[0, 2]]))


def test_mask_id_may_not_collide_with_a_token():
    with pytest.raises(ValueError, match="collides"):
        ChainDenoiser(TWO_STATE, mask_id=1)


@pytest.mark.parametrize("module", [simulate.denoiser, simulate.chain])
def test_docstring_examples_hold(module):
    failed, _ = doctest.testmod(module)
    assert failed == 0
