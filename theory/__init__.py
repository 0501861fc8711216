"""paradec.theory: commit rules and the theorems behind them, as checkable functions.

Needs only numpy, scipy and sympy (hypothesis for the exported strategies); never
imports torch, but every rule runs on torch tensors handed to it. Two modules are
not imported here because they import heavier packages: :mod:`theory.strategies`
(hypothesis strategies for property tests) and :mod:`theory.proofs` (sympy proofs).
:data:`THEOREMS` lists the theorem functions; each states its math, its reference
and a doctest, and tests/theory/test_docs.py holds them to that.

Citation tags in the docstrings: [LLaDA] Nie et al., "Large Language Diffusion Models",
arXiv 2502.09992; [FastdLLM] Wu et al., "Fast-dLLM", arXiv 2505.22618; [FastdLLM++]
Kasa et al., "Fast-dLLM++: Fréchet profile decoding", arXiv 2606.02955; [FreeDave] Wu and
Zhang, "Free Draft-and-Verification", arXiv 2510.00294; [EB] Ben-Hamu et al.,
"EB-Sampler" (entropy bounded unmasking), arXiv 2505.24857. Results marked "this project"
are stated and proved in docs/theory/ (one page per theorem); the corrections to the
papers that the code relies on are listed in docs/design.md.
"""

from theory.bruteforce import (
    CouplingLP,
    TightSurvey,
    WorstCase,
    commit_count_reference,
    commit_counts_reference,
    frechet_bounds_lp,
    mode_probability_bounds_lp,
    prefix_margins_reference,
    tight_certificate_survey,
    worst_case_margin,
)
from theory.certificates import (
    certificate_spread_bonus,
    check_frechet_certificate,
    check_frechet_equals_factor,
    check_heterogeneity_decomposition,
    check_tight_certificate,
    equal_confidence_margin,
    factor_implies_frechet,
    frechet_certificate,
    heterogeneity_decomposition,
    tight_certificate,
    tight_extremal_coupling,
)
from theory.entropy import check_entropy_bound, entropy_bound
from theory.fastdllm import (
    Theorem1Bounds,
    binary_entropy,
    check_fastdllm_theorem1,
    fastdllm_kl_bound,
    fastdllm_theorem1,
    fastdllm_tv_bound,
    theorem1_counterexample,
)
from theory.frechet import (
    disjoint_binary_failures,
    disjoint_failure_coupling,
    extremal_coupling,
    frechet_bounds,
    nested_coupling,
    nested_failure_coupling,
    quantile_coupling,
    random_coupling,
)
from theory.freedave import DecodeRun, freedave_decode, static_decode
from theory.freedave.auto import best_draft_width, compute_bound_draft_width
from theory.freedave.core import (
    K_DRAFTS,
    Blocks,
    DraftTree,
    FreeDave,
    Oracle,
    OracleOutput,
    active_window,
    rank_window,
    static_step,
)
from theory.freedave.optimal import (
    agreement_trace,
    brute_force_calls,
    consistency_hypotheses,
    optimal_calls,
    swap_trace,
)
from theory.freedave.subset import subset_margin_monotone, subset_margins_reference
from theory.freedave.trace import (
    CallCount,
    StaticStep,
    StaticTrace,
    TraceOracle,
    agreement_lengths,
    draft_hits,
    predicted_calls,
    tree_accepted,
)
from theory.joint import (
    ExplicitJoint,
    Modes,
    check_marginals,
    kl_divergence,
    kl_to_product,
    marginal_modes,
    total_variation,
)
from theory.margins import (
    at_prefix,
    factor_core,
    frechet_margin,
    heterogeneity_bonus,
    joint_lower_bound,
    spread_bonus,
    tight_margin,
)
from theory.profile import (
    Profile,
    argmax_tokens,
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
    Sorted,
    Threshold,
    TightCertificate,
    commit,
    commit_bonuses,
    commit_quotas,
    llada_quota,
    llada_step_index,
    make_rule,
    make_rules,
    sorted_profile,
)

THEOREMS = (frechet_bounds, fastdllm_theorem1, fastdllm_tv_bound, fastdllm_kl_bound,
            frechet_certificate, equal_confidence_margin, heterogeneity_decomposition,
            factor_implies_frechet, tight_certificate, certificate_spread_bonus, entropy_bound,
            subset_margin_monotone, compute_bound_draft_width)

__all__ = [
    # FreeDave ([FreeDave] Wu and Zhang, arXiv 2510.00294; docs/freedave.md)
    "OracleOutput", "Oracle", "Blocks", "DraftTree", "FreeDave", "K_DRAFTS", "active_window",
    "rank_window", "static_step", "DecodeRun", "static_decode", "freedave_decode",
    "StaticStep", "StaticTrace", "CallCount", "draft_hits", "agreement_lengths",
    "tree_accepted", "predicted_calls", "TraceOracle", "optimal_calls", "brute_force_calls",
    "consistency_hypotheses", "agreement_trace", "swap_trace", "subset_margin_monotone",
    "best_draft_width", "compute_bound_draft_width",
    # profiles and rules
    "Profile", "argmax_tokens", "profile_from_logits", "profile_from_probabilities",
    "profile_from_confidences",
    "Rule", "Quota", "Threshold", "Factor", "Frechet", "TightCertificate", "EntropyBound",
    "Commit", "commit", "commit_quotas", "RULES", "make_rule", "make_rules", "llada_quota",
    "llada_step_index", "Sorted", "sorted_profile", "commit_bonuses",
    "joint_lower_bound", "frechet_margin", "tight_margin", "factor_core",
    "heterogeneity_bonus", "spread_bonus", "at_prefix",
    # explicit joints
    "ExplicitJoint", "Modes", "check_marginals", "marginal_modes", "total_variation",
    "kl_divergence", "kl_to_product",
    # theorems (THEOREMS) and their checkers
    "THEOREMS",
    "frechet_bounds", "disjoint_failure_coupling", "disjoint_binary_failures", "nested_coupling",
    "extremal_coupling", "nested_failure_coupling", "quantile_coupling", "random_coupling",
    "Theorem1Bounds", "fastdllm_theorem1", "check_fastdllm_theorem1", "theorem1_counterexample",
    "fastdllm_tv_bound", "fastdllm_kl_bound", "binary_entropy",
    "frechet_certificate", "check_frechet_certificate", "equal_confidence_margin",
    "check_frechet_equals_factor", "heterogeneity_decomposition",
    "check_heterogeneity_decomposition", "factor_implies_frechet", "tight_certificate",
    "tight_extremal_coupling", "check_tight_certificate", "certificate_spread_bonus",
    "entropy_bound", "check_entropy_bound",
    # brute-force twins
    "WorstCase", "CouplingLP", "worst_case_margin", "frechet_bounds_lp",
    "mode_probability_bounds_lp", "prefix_margins_reference",
    "commit_count_reference", "commit_counts_reference", "TightSurvey", "tight_certificate_survey",
    "subset_margins_reference",
]
