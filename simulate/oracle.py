"""The exact chain denoiser as a FreeDave oracle (:class:`theory.freedave.core.Oracle`).

:class:`ChainOracle` answers a batch of states (any rows: FreeDave batches the drafts of
many sequences) with the exact marginals of one Markov chain, read greedily: the argmax
token, its confidence c, the stable log residual log r (from the marginals in log space,
:func:`theory.profile_from_probabilities`), the runner-up token and probability s, and
the entropy H. The same states always give the same output, whatever else is in the
batch, so every exactness statement of :mod:`theory.freedave` applies.
"""

from __future__ import annotations

import numpy as np

from simulate.chain import MarkovChain
from simulate.denoiser import ChainDenoiser
from theory.freedave.core import OracleOutput
from theory.profile import profile_from_probabilities

__all__ = ["ChainOracle"]


class ChainOracle:
    """The greedy view of one chain's exact marginals, as a deterministic oracle.

    ``chain`` is a :class:`MarkovChain` or a :class:`ChainDenoiser` of one chain (a
    denoiser with one chain per row answers only for its own rows, which FreeDave's
    batches of drafts are not). ``mask_id`` is the denoiser's (default V).

    >>> chain = MarkovChain(pi=[0.5, 0.5], T=[[0.9, 0.1], [0.2, 0.8]])
    >>> out = ChainOracle(chain)(np.array([[0, 2, 2]]))
    >>> out.tokens.tolist(), np.round(out.c, 12).tolist(), out.runner_up.tolist()
    ([[0, 0, 0]], [[1.0, 0.9, 0.83]], [[1, 1, 1]])
    """

    def __init__(self, chain: MarkovChain | ChainDenoiser) -> None:
        denoiser = ChainDenoiser(chain) if isinstance(chain, MarkovChain) else chain
        if not isinstance(denoiser, ChainDenoiser) or denoiser.model is not None:
            raise ValueError("ChainOracle needs a MarkovChain or a one-chain ChainDenoiser "
                             f"(model=None), got {chain!r}")
        self.denoiser = denoiser

    @property
    def mask_id(self) -> int:
        return self.denoiser.mask_id

    def __call__(self, states: np.ndarray) -> OracleOutput:
        """Exact greedy outputs for ``states`` (N, L) int: every field (N, L)."""
        p = self.denoiser.marginals(states)  # (N, L, V) float64, one-hot where known
        profile = profile_from_probabilities(p, check=False)
        ranked = np.argsort(-p, axis=-1, kind="stable")  # ties: the lower id first, as argmax
        return OracleOutput(tokens=profile.tokens, c=profile.c, log_r=profile.log_r,
                            runner_up=ranked[..., 1], s=profile.s, H=profile.H)
