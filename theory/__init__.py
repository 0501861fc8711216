"""paradec.theory: commit rules and the theorems behind them, as checkable functions.

Needs only numpy, scipy and sympy (hypothesis for the exported strategies); never
imports torch, but every rule runs on torch tensors handed to it.
"""

from theory.margins import (
                            factor_core,
                            frechet_margin,
                            heterogeneity_bonus,
                            joint_lower_bound,
                            spread_bonus,
                            tight_margin,
)
from theory.profile import (
                            Profile,
                            profile_from_confidences,
                            profile_from_logits,
                            profile_from_probabilities,
)
from theory.rules import (
                            RULES,
                            Commit,
                            EntropyBound,
                            Factor,
                            Frechet,
                            Quota,
                            Rule,
                            Threshold,
                            TightCertificate,
                            commit,
                            llada_quota,
                            make_rule,
)

__all__ = [
    "Profile", "profile_from_logits", "profile_from_probabilities", "profile_from_confidences",
    "Rule", "Quota", "Threshold", "Factor", "Frechet", "TightCertificate", "EntropyBound",
    "Commit", "commit", "RULES", "make_rule", "llada_quota",
    "joint_lower_bound", "frechet_margin", "tight_margin", "factor_core",
    "heterogeneity_bonus", "spread_bonus",
]
