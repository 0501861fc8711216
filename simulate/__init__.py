"""paradec.simulate: synthetic worlds where the truth is known, and Monte Carlo studies.

Imports theory (never torch). The pieces:

* :mod:`simulate.chain`: a Markov-chain language with a dependence dial ``rho``.
* :mod:`simulate.denoiser`: its exact denoiser (marginals by forward-backward, joint modes
  of any subset by max-product over anchors), batched, one chain per row if wanted.
* :mod:`simulate.brute`: the brute-force twins (enumeration of the whole joint table).
* :mod:`simulate.profiles`: parametric families of confidence profiles.
* :mod:`simulate.decode`: the decoding simulator (any rule of theory, LLaDA's blocks).
* :mod:`simulate.oracle`: the exact denoiser as a FreeDave oracle (:mod:`theory.freedave`).
* :mod:`simulate.stats`: estimates with cluster-robust standard errors.
* :mod:`simulate.studies`: the Monte Carlo studies behind ``paradec simulate``.
* :mod:`simulate.strategies`: hypothesis strategies for chains and masked states.

Explicit joints, couplings with given marginals, their LPs and the profile of marginals
are theory's (:class:`theory.ExplicitJoint`, :mod:`theory.frechet`,
:mod:`theory.bruteforce`, :func:`theory.profile_from_probabilities`): import them from there.
"""

from simulate.brute import brute_joint_mode, brute_log_prob, brute_marginals, chain_joint
from simulate.chain import RHO, MarkovChain, random_chain, stationary
from simulate.decode import VIOLATION_TOL, DecodeConfig, DecodeTrace, StepView, decode, is_certified
from simulate.denoiser import ChainDenoiser, JointMode
from simulate.oracle import ChainOracle
from simulate.profiles import lognormal_profile, softmax_marginals, two_level_profile
from simulate.stats import Estimate, mean, rate_interval, ratio

__all__ = [
    "MarkovChain", "random_chain", "stationary", "RHO",
    "ChainDenoiser", "JointMode", "ChainOracle",
    "chain_joint", "brute_marginals", "brute_joint_mode", "brute_log_prob",
    "lognormal_profile", "two_level_profile", "softmax_marginals",
    "DecodeConfig", "DecodeTrace", "StepView", "decode", "is_certified", "VIOLATION_TOL",
    "Estimate", "ratio", "mean", "rate_interval",
]
