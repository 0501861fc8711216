"""Hypothesis strategies for property tests of anything that reads a Markov-chain world.

Exported so that users can write their own tests: random chains over the dependence dial,
and partially masked states with a subset of their masked positions. Marginals, explicit
joints and couplings come from :mod:`theory.strategies`. Hypothesis is imported here, so
import this module only from tests.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

from simulate.chain import RHO, MarkovChain, random_chain

__all__ = ["chains", "masked_states"]


@st.composite
def chains(draw: Any, V: st.SearchStrategy[int] | None = None) -> MarkovChain:
    """Chains from :func:`simulate.chain.random_chain`: any rho in [0, 1], beta in [0.5, 8]."""
    v = draw(V if V is not None else st.integers(2, 4))
    rho = draw(st.one_of(st.sampled_from([0.0, 1.0]), RHO.strategy()))
    beta = draw(st.floats(0.5, 8.0))
    seed = draw(st.integers(0, 2**32 - 1))
    return random_chain(v, rho, np.random.default_rng(seed), beta=beta)


@st.composite
def masked_states(draw: Any, chain: MarkovChain, N: int, rows: int = 1,
                  mask_id: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(states (rows, N) int with masks, subset (rows, N) bool inside the masks): tokens
    drawn from ``chain``, each position masked with a drawn probability."""
    mask_id = chain.V if mask_id is None else mask_id
    seed = draw(st.integers(0, 2**32 - 1))
    p_mask = draw(st.sampled_from([0.3, 0.6, 1.0]))
    p_sub = draw(st.sampled_from([0.3, 0.7, 1.0]))
    rng = np.random.default_rng(seed)
    x = chain.sample(rows, N, rng)
    masked = rng.random((rows, N)) < p_mask
    subset = masked & (rng.random((rows, N)) < p_sub)
    return np.where(masked, mask_id, x), subset
