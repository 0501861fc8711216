"""The Markov-chain language and its dependence dial."""

import numpy as np
import pytest
from hypothesis import given

from simulate import MarkovChain, chain_joint, random_chain
from simulate.strategies import chains


@given(chains())
def test_random_chains_are_positive_stochastic_and_start_stationary(chain):
    assert (chain.T > 0).all()
    np.testing.assert_allclose(chain.T.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(chain.pi @ chain.T, chain.pi, atol=1e-10)


def test_rho_zero_makes_positions_independent():
    chain = random_chain(3, 0.0, np.random.default_rng(4))
    joint = chain_joint(chain, 4)
    product = np.einsum("i,j,k,l->ijkl", *joint.marginals)
    np.testing.assert_allclose(joint.table, product, atol=1e-14)


def test_rho_one_makes_each_successor_nearly_certain():
    chain = random_chain(8, 1.0, np.random.default_rng(5), eps=1e-6)
    assert (chain.T.max(axis=1) > 1 - 1e-6).all()


def test_dependence_grows_with_the_dial():
    def mutual_information(rho):
        values = []
        for seed in range(20):
            joint = chain_joint(random_chain(4, rho, np.random.default_rng(seed)), 2)
            values.append(joint.total_correlation())
        return np.mean(values)

    mi = [mutual_information(rho) for rho in (0.0, 0.3, 0.6, 0.9)]
    assert mi[0] < 1e-12
    assert all(np.diff(mi) > 0)


def test_samples_follow_the_transition_law():
    chain = random_chain(3, 0.6, np.random.default_rng(6))
    x = chain.sample(20_000, 2, np.random.default_rng(7))
    counts = np.zeros((3, 3))
    np.add.at(counts, (x[:, 0], x[:, 1]), 1)
    expected = 20_000 * chain.pi[:, None] * chain.T
    se = np.sqrt(expected)
    assert (np.abs(counts - expected) < 5 * se + 1).all()


def test_log_likelihood_matches_the_joint_table():
    chain = random_chain(3, 0.5, np.random.default_rng(8))
    joint = chain_joint(chain, 4)
    x = chain.sample(10, 4, np.random.default_rng(9))
    want = np.log([joint.prob(tuple(row)) for row in x])
    np.testing.assert_allclose(chain.log_likelihood(x), want, atol=1e-12)
    prefix = np.log([joint.marginal_joint((0, 1)).prob(tuple(row[:2])) for row in x])
    np.testing.assert_allclose(chain.log_likelihood(x, start=2), want - prefix, atol=1e-12)


def test_same_rng_state_gives_the_same_chain():
    a = random_chain(5, 0.4, np.random.default_rng(1))
    b = random_chain(5, 0.4, np.random.default_rng(1))
    assert (a.T == b.T).all() and (a.pi == b.pi).all()


@pytest.mark.parametrize("kwargs, match", [
    ({"V": 1, "rho": 0.5}, "V"), ({"V": 3, "rho": 1.5}, "rho"),
    ({"V": 3, "rho": 0.5, "beta": 0.0}, "beta"), ({"V": 3, "rho": 0.5, "eps": 0.0}, "eps"),
])
def test_bad_parameters_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        random_chain(rng=np.random.default_rng(0), **kwargs)


def test_a_chain_must_be_stochastic():
    with pytest.raises(ValueError, match="rows of T"):
        MarkovChain(pi=[0.5, 0.5], T=[[0.5, 0.6], [0.5, 0.5]])
    with pytest.raises(ValueError, match="pi"):
        MarkovChain(pi=[0.5, 0.6], T=[[0.5, 0.5], [0.5, 0.5]])
