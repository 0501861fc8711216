"""Hypothesis strategies for property tests of anything that reads a joint law.

Exported so that users can write their own tests: random chains over the dependence dial,
partially masked states with a subset of their masked positions, marginals, and explicit
joints. Hypothesis is imported here, so import this module only from tests.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

from simulate.chain import RHO, MarkovChain, random_chain
from simulate.joints import ExplicitJoint

__all__ = ["chains", "masked_states", "marginals", "explicit_joints"]


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


@st.composite
def marginals(draw: Any, n: int, V: int) -> np.ndarray:
    """Marginals (n, V): softmax of drawn logits, with confident and flat rows alike."""
    seed = draw(st.integers(0, 2**32 - 1))
    scale = draw(st.floats(0.0, 8.0))
    z = scale * np.random.default_rng(seed).standard_normal((n, V))
    p = np.exp(z - z.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True)


@st.composite
def explicit_joints(draw: Any, n: int, V: int) -> ExplicitJoint:
    """Explicit joints (V,)*n: Dirichlet tables, sparse or spread."""
    seed = draw(st.integers(0, 2**32 - 1))
    alpha = draw(st.sampled_from([0.05, 0.5, 5.0]))
    table = np.random.default_rng(seed).dirichlet(np.full(V ** n, alpha))
    return ExplicitJoint(table.reshape((V,) * n))
