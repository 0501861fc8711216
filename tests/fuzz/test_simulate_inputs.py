"""Fuzz: simulate's public API names bad parameters, shapes and generators."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from simulate import (
    ChainDenoiser,
    DecodeConfig,
    MarkovChain,
    lognormal_profile,
    random_chain,
    softmax_marginals,
    two_level_profile,
)
from tests.fuzz.bad import NON_FINITE, NOT_A_NUMBER
from theory import Quota, commit, profile_from_logits

NOT_A_GENERATOR = st.sampled_from([None, 0, 42, "seed", np.random.RandomState(0)])
HUGE = st.sampled_from([1e3, 1e30, 1e300, 1e308])


@given(NOT_A_GENERATOR)
def test_every_generator_takes_only_a_numpy_generator(rng):
    for draw in (lambda: lognormal_profile(1, 2, rng), lambda: two_level_profile(1, 2, rng),
                 lambda: softmax_marginals(1, 2, 3, rng), lambda: random_chain(3, 0.5, rng),
                 lambda: random_chain(3, 0.5, np.random.default_rng(0)).sample(1, 2, rng)):
        with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
            draw()


@given(st.sampled_from(["rows", "m", "V"]),
       st.one_of(st.integers(-3, 0), NOT_A_NUMBER, NON_FINITE, st.just(1.5)))
def test_profile_generators_name_a_bad_size(name, value):
    sizes = {"rows": 2, "m": 3, "V": 4, name: value}
    with pytest.raises(ValueError, match=f"^{name} "):
        softmax_marginals(sizes["rows"], sizes["m"], sizes["V"], np.random.default_rng(0))


@given(st.sampled_from(["sigma", "r_median"]), st.one_of(NOT_A_NUMBER, NON_FINITE,
                                                        st.floats(-5, -1e-9)))
def test_lognormal_profile_names_a_bad_parameter(name, value):
    if value is None:
        value = "none"
    with pytest.raises(ValueError, match="sigma|residual"):
        lognormal_profile(1, 2, np.random.default_rng(0), **{name: value})


@given(HUGE, st.sampled_from(["beta", "sigma"]), st.integers(0, 2**32 - 1))
@example(1e308, "beta", 0)
def test_huge_sharpness_gives_one_hot_marginals_not_nan(value, name, seed):
    p = softmax_marginals(2, 3, 4, np.random.default_rng(seed), **{name: value})
    assert np.isfinite(p).all() and np.allclose(p.sum(-1), 1.0)


@given(HUGE, st.integers(0, 2**32 - 1))
def test_a_huge_spread_gives_a_valid_lognormal_profile(sigma, seed):
    p = lognormal_profile(2, 5, np.random.default_rng(seed), sigma=sigma)
    assert np.all((p.c >= 0.5) & (p.c <= 1.0))


@st.composite
def bad_chains(draw):
    """(pi, T, phrase)."""
    V = draw(st.integers(2, 4))
    pi, T = np.full(V, 1.0 / V), np.full((V, V), 1.0 / V)
    kind = draw(st.sampled_from(["negative", "nan", "unnormalised", "ragged", "text",
                                 "shape", "V1"]))
    if kind == "negative":
        pi[0], pi[1] = -0.5, pi[1] + 0.5 + pi[0]
        return pi, T, "finite and non-negative"
    if kind == "nan":
        T[draw(st.integers(0, V - 1)), 0] = draw(NON_FINITE)
        return pi, T, "finite and non-negative"
    if kind == "unnormalised":
        return pi * draw(st.sampled_from([0.5, 2.0])), T, "pi must sum to 1"
    if kind == "ragged":
        return pi, [list(T[0]), list(T[1][:-1])], "rectangular"
    if kind == "text":
        return ["a"] * V, T, "real numbers"
    if kind == "shape":
        return pi, T[:, :-1], "T must have shape"
    return np.ones(1), np.ones((1, 1)), "V >= 2"


@given(bad_chains())
def test_markov_chains_name_bad_pi_and_T(case):
    pi, T, phrase = case
    with pytest.raises(ValueError, match=phrase):
        MarkovChain(pi, T)


@given(st.sampled_from(["gen_length", "block_length", "steps"]),
       st.one_of(st.integers(-3, 0), NON_FINITE, st.just(2.5), st.just(True),
                 st.text(max_size=2)))
def test_simulator_configs_name_a_bad_field(name, value):
    with pytest.raises(ValueError, match=name):
        DecodeConfig(**{"gen_length": 8, "block_length": 4, name: value})


@given(st.sampled_from(["float", "1d", "empty", "out of range"]), st.integers(2, 4))
def test_the_chain_denoiser_names_bad_states(kind, V):
    den = ChainDenoiser(random_chain(V, 0.5, np.random.default_rng(0)))
    states = {"float": np.zeros((1, 3)), "1d": np.zeros(3, np.int64),
              "empty": np.zeros((1, 0), np.int64),
              "out of range": np.full((1, 3), V + 5)}[kind]
    with pytest.raises(ValueError, match="states"):
        den.marginals(states)


@given(st.integers(0, 3), st.integers(1, 4))
def test_a_profile_without_positions_commits_nothing(rows, V):
    p = profile_from_logits(np.zeros((rows, 0, V)))
    out = commit(Quota(1), p)
    assert out.n.shape == (rows,) and not out.n.any() and out.mask.shape == (rows, 0)
