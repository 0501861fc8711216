"""Brute-force twins of the denoiser: enumerate the whole joint table of a chain.

Obviously correct and exponentially slow (V^N cells): for tests on tiny instances
and for readers checking :class:`simulate.denoiser.ChainDenoiser` by hand.
"""

from __future__ import annotations

import math

import numpy as np

from simulate.chain import MarkovChain
from theory.joint import ExplicitJoint

__all__ = ["chain_joint", "brute_marginals", "brute_joint_mode", "brute_log_prob"]

MAX_CELLS = 1 << 20


def chain_joint(chain: MarkovChain, N: int) -> ExplicitJoint:
    """The table P(x_0, ..., x_{N-1}) = pi(x_0) prod_i T(x_i, x_{i+1}), shape (V,)*N
    (divided by its sum, which the chain's rounding may move off 1 by ~N V 1e-12)."""
    if N < 1 or chain.V ** N > MAX_CELLS:
        raise ValueError(f"need 1 <= N and V^N <= {MAX_CELLS}, got V={chain.V}, N={N}")
    table = chain.pi.copy()
    for _ in range(1, N):
        table = table[..., :, None] * chain.T  # broadcasts T over the last axis
    return ExplicitJoint(table / math.fsum(table.ravel()))


def _posterior(chain: MarkovChain, state: np.ndarray, mask_id: int) -> tuple[ExplicitJoint,
                                                                            list[int]]:
    """The joint of the masked positions given the known ones, and those positions."""
    state = np.asarray(state)
    joint = chain_joint(chain, state.shape[0])
    known = {i: int(v) for i, v in enumerate(state) if v != mask_id}
    masked = [i for i, v in enumerate(state) if v == mask_id]
    if not masked:
        raise ValueError("the state has no masked position")
    return (joint.condition(known) if known else joint), masked


def brute_marginals(chain: MarkovChain, state: np.ndarray, mask_id: int) -> np.ndarray:
    """P(x_i = v | known) for one state (N,), shape (N, V); one-hot at known positions."""
    state = np.asarray(state)
    out = np.zeros((state.shape[0], chain.V))
    for i, v in enumerate(state):
        if v != mask_id:
            out[i, v] = 1.0
    if (state == mask_id).any():
        post, masked = _posterior(chain, state, mask_id)
        out[masked] = post.marginals
    return out


def brute_joint_mode(chain: MarkovChain, state: np.ndarray, subset: np.ndarray,
                     mask_id: int) -> tuple[dict[int, int], float, float]:
    """Mode of x_S given the known tokens, others summed out, by enumeration.

    Returns (mode as {position: token}, P(mode | known), gap to the runner-up tuple).
    """
    post, masked = _posterior(chain, state, mask_id)
    S = [i for i in masked if subset[i]]
    if not S:
        raise ValueError("the subset is empty")
    q = post.marginal_joint(tuple(masked.index(i) for i in S)).table
    order = np.sort(q.ravel())[::-1]
    z = np.unravel_index(int(np.argmax(q)), q.shape)
    gap = float(order[0] - order[1]) if order.size > 1 else float(order[0])
    return {i: int(v) for i, v in zip(S, z, strict=True)}, float(q[z]), gap


def brute_log_prob(chain: MarkovChain, state: np.ndarray, subset: np.ndarray,
                   tokens: np.ndarray, mask_id: int) -> float:
    """log P(x_S = tokens_S | known tokens) by enumeration."""
    post, masked = _posterior(chain, state, mask_id)
    S = [i for i in masked if subset[i]]
    q = post.marginal_joint(tuple(masked.index(i) for i in S)).table
    return float(np.log(q[tuple(int(tokens[i]) for i in S)]))
