"""Study ``conservatism``: tokens per step an oracle could commit safely, against the rules.

Along static decoding of random chains across the dependence dial, at every step the
masked positions of the active block are ranked by confidence (as every confidence rule
ranks them). For each prefix length n the oracle, which knows the joint, checks whether
the tuple of argmaxes of the top n positions is the exact joint mode of those positions
given the context. ``oracle`` is the largest safe n; ``oracle_nested`` the largest n whose
every shorter prefix is safe too. Certified rules commit only safe prefixes, so their n is
at most ``oracle_nested``; the gap is what the certificate leaves on the table, because it
must hold for every joint with these marginals, not just the true one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from simulate.decode import VIOLATION_TOL, DecodeConfig, StepView, decode, is_certified
from simulate.denoiser import ChainDenoiser
from simulate.stats import mean
from simulate.studies._common import (
    StudyResult,
    estimate_columns,
    progress,
    provenance,
    split,
    world,
)
from theory import Quota, Rule, commit, make_rule

__all__ = ["conservatism", "safe_prefixes", "DEFAULT_RULES"]

DEFAULT_RULES: tuple[tuple[str, float], ...] = (
    ("factor", 1.0), ("frechet", 0.0), ("tight", 0.0), ("threshold", 0.9), ("threshold", 0.7))


def safe_prefixes(den: ChainDenoiser, view: StepView) -> np.ndarray:
    """(A, m) bool: entry n-1 says whether the top-n prefix (confidence order) of each
    row's active block, committed to its argmaxes, is the joint mode of those positions.
    False beyond the row's masked positions; n = 1 is always safe."""
    x, pos, profile = view.states, view.positions, view.profile
    A, m = pos.shape
    order = view.commit.order  # confidence descending, ties by position, valid first
    n_valid = np.asarray(profile.valid).sum(axis=1)
    safe = np.zeros((A, m), bool)
    safe[:, 0] = n_valid >= 1
    rows, ns = np.nonzero(np.arange(2, m + 1)[None, :] <= n_valid[:, None])
    if rows.size == 0:
        return safe
    ns = ns + 2
    ranked = np.take_along_axis(pos, order, axis=1)[rows]  # (K, m) positions by rank
    S = np.zeros((rows.size, x.shape[1]), bool)
    take = np.arange(m)[None, :] < ns[:, None]
    S[np.nonzero(take)[0], ranked[take]] = True
    tokens = np.full((A, x.shape[1]), 0, np.int64)
    tokens[np.arange(A)[:, None], pos] = np.asarray(profile.tokens)
    sub = den.take(view.rows[rows])
    gap = sub.log_prob(x[rows], S, tokens[rows]) - sub.joint_mode(x[rows], S).log_prob
    safe[rows, ns - 1] = gap >= -VIOLATION_TOL
    return safe


def conservatism(n: int = 192, seed: int = 0, *, rhos: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75),
                 rules: tuple[tuple[str, float], ...] = DEFAULT_RULES, models: int = 32,
                 V: int = 16, beta: float = 3.0, gen_length: int = 32, block_length: int = 16,
                 prompt_length: int = 2, show_progress: bool = True) -> StudyResult:
    """Oracle against rules at every step of ``n`` static decodes per rho (see module)."""
    rule_objs: list[Rule] = [make_rule(name, value) for name, value in rules]
    if any(r.by_entropy for r in rule_objs):
        raise ValueError("the oracle ranks by confidence; the entropy rule ranks by entropy")
    G, per = split(n, models)
    config = DecodeConfig(gen_length, block_length, check_modes=False, whole_mode=False)
    rows: list[dict[str, Any]] = []
    for rho in progress(rhos, len(rhos), "conservatism", show_progress):
        den, prompts, model = world(seed, 5, rho, G, per, V=V, beta=beta,
                                    prompt_length=prompt_length)
        keys: list[str | int] = ["oracle", "nested", "cluster", *range(len(rule_objs))]
        got: dict[str | int, list[np.ndarray]] = {k: [] for k in keys}

        def see(view: StepView, got: dict = got, den: ChainDenoiser = den,
                model: np.ndarray = model) -> None:
            safe = safe_prefixes(den, view)
            m = safe.shape[1]
            got["oracle"].append(np.where(safe.any(axis=1), m - np.argmax(safe[:, ::-1], 1), 0))
            got["nested"].append(np.argmin(np.c_[safe, np.zeros(len(safe), bool)], axis=1))
            got["cluster"].append(model[view.rows])
            for j, rule in enumerate(rule_objs):
                k = np.asarray(commit(rule, view.profile).n)
                got[j].append(np.stack([k, safe[np.arange(k.size), np.clip(k - 1, 0, None)]]))

        decode(den, prompts, Quota(1), config, observe=see)
        oracle, nested = np.concatenate(got["oracle"]), np.concatenate(got["nested"])
        cluster = np.concatenate(got["cluster"])
        for j, (rule, (name, value)) in enumerate(zip(rule_objs, rules, strict=True)):
            k, ok = np.concatenate(got[j], axis=1)
            rows.append({"rho": rho, "rule": name, "value": value, "label": rule.label(),
                         "certified": is_certified(rule), "steps": int(k.size), "models": G,
                         **estimate_columns("n_rule", mean(k, cluster)),
                         **estimate_columns("n_oracle", mean(oracle, cluster)),
                         **estimate_columns("n_oracle_nested", mean(nested, cluster)),
                         **estimate_columns("left_on_table", mean(nested - k, cluster)),
                         **estimate_columns("share_at_oracle", mean(k == nested, cluster)),
                         **estimate_columns("unsafe_share", mean(ok == 0, cluster)),
                         "beyond_nested_oracle": int((k > nested).sum())})
    checks = {"certified rules never exceed the nested oracle":
              all(r["beyond_nested_oracle"] == 0 for r in rows if r["certified"])}
    params = {"n": n, "seed": seed, "rhos": list(rhos), "rules": [list(r) for r in rules],
              "models": G, "per_model": per, "V": V, "beta": beta, "gen_length": gen_length,
              "block_length": block_length, "prompt_length": prompt_length}
    return StudyResult("conservatism", rows, params, checks, provenance())
