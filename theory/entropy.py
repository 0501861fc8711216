"""[EB] The entropy bound on the total correlation of the selected tokens.

Statement, proof sketch and tests: docs/theory/entropy_bound.md.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from theory.joint import ExplicitJoint

__all__ = ["entropy_bound", "check_entropy_bound"]


def entropy_bound(H: Any) -> float:
    """sum_j H_j - max_j H_j bounds the total correlation of the selected tokens.

    .. math:: \\sum_j H(X_j) - H(X) \\le \\sum_j H(X_j) - \\max_j H(X_j),
              \\quad\\text{since } H(X) \\ge \\max_j H(X_j)

    Hypotheses: H_j >= 0 are the marginal entropies (nats) of the selected positions.
    The EB-sampler commits the lowest-entropy prefix while this stays <= gamma.

    Reference: [EB] Ben-Hamu et al., "Accelerated Sampling from Masked Diffusion Models
    via Entropy Bounded Unmasking", arXiv 2505.24857; docs/theory/entropy_bound.md.

    >>> entropy_bound([0.5, 0.25, 0.125])
    0.375
    """
    H = np.asarray(H, dtype=np.float64).ravel()
    if H.size == 0:
        raise ValueError("need at least one entropy")
    if np.isnan(H).any() or (H < 0).any():
        raise ValueError("entropies must be numbers >= 0")
    return math.fsum(H) - float(H.max())


def check_entropy_bound(joint: ExplicitJoint, tol: float = 1e-12) -> bool:
    """On an explicit joint: H(X) >= max_j H(X_j) and total correlation <= the entropy
    bound of its marginal entropies (both up to ``tol``).

    >>> check_entropy_bound(ExplicitJoint.from_dict({(0, 0): 0.5, (1, 1): 0.5}))
    True
    """
    H = joint.marginal_entropies()
    return (joint.entropy() >= float(H.max()) - tol
            and joint.total_correlation() <= entropy_bound(H) + tol)
