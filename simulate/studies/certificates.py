"""Study ``certificates``: how often each rule commits a tuple that is not the joint mode.

Across the dependence dial, every rule decodes the same prompts of the same random chains;
at every step that commits two or more tokens the committed tuple is compared with the
exact joint mode of those positions given the context (other masked positions summed
out). Certified rules (factor f <= 1, Fréchet and tight with delta >= 0) must show zero
violations ([FastdLLM] Thm 1, [FastdLLM++] Thm 4.1, docs/theory/tight_certificate.md);
the others get a violation rate with a cluster-robust standard error and a 95% interval.
A second check holds for every rule: commits whose tight margin G*_n is positive are
never violations.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from simulate.decode import DecodeConfig, decode, is_certified
from simulate.stats import mean, ratio
from simulate.studies._common import (
    StudyResult,
    estimate_columns,
    progress,
    provenance,
    rate_columns,
    split,
    world,
)
from theory import Quota, make_rule

__all__ = ["certificates", "DEFAULT_RULES"]

DEFAULT_RULES: tuple[tuple[str, float], ...] = (
    ("threshold", 0.9), ("threshold", 0.7), ("threshold", 0.5), ("factor", 1.0),
    ("factor", 2.0), ("frechet", 0.0), ("frechet", -0.25), ("tight", 0.0), ("tight", -0.25),
    ("entropy", 0.5), ("entropy", 2.0))


def certificates(n: int = 384, seed: int = 0, *,
                 rhos: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 0.9),
                 rules: tuple[tuple[str, float], ...] = DEFAULT_RULES, models: int = 32,
                 V: int = 16, beta: float = 3.0, gen_length: int = 32, block_length: int = 16,
                 prompt_length: int = 2, show_progress: bool = True) -> StudyResult:
    """Violation rates per (rho, rule) from about ``n`` sequences per rho (see module)."""
    G, per = split(n, models)
    config = DecodeConfig(gen_length, block_length, check_modes=True, whole_mode=False)
    rule_objs = [make_rule(name, value) for name, value in rules]
    acc: dict[tuple[float, int], dict[str, np.ndarray]] = {}
    units = [(rho, j) for rho in rhos for j in range(-1, len(rule_objs))]
    bar = progress(units, len(units), "certificates", show_progress)
    for rho, j in bar:
        if j < 0:  # each rho starts with its world and the static reference decode
            den, prompts, model = world(seed, 1, rho, G, per, V=V, beta=beta,
                                        prompt_length=prompt_length)
            static = decode(den, prompts, Quota(1), config)
            continue
        tr = decode(den, prompts, rule_objs[j], config, reference=static.tokens)
        multi = tr.n >= 2
        sure = multi & (tr.tight > 0)
        acc[(rho, j)] = {"violations": tr.violations.sum(axis=1), "multi": multi.sum(axis=1),
                         "sure": sure.sum(axis=1),
                         "sure_violations": (tr.violations & sure).sum(axis=1),
                         "tpc": tr.tokens_per_call, "cluster": model}
    rows: list[dict[str, Any]] = []
    for rho in rhos:
        for j, (rule, (name, value)) in enumerate(zip(rule_objs, rules, strict=True)):
            a = acc[(rho, j)]
            rate = ratio(a["violations"], a["multi"], a["cluster"])
            rows.append({"rho": rho, "rule": name, "value": value, "label": rule.label(),
                         "certified": is_certified(rule), "sequences": int(a["tpc"].size),
                         "models": G, "multi_commits": int(a["multi"].sum()),
                         "violations": int(a["violations"].sum()),
                         **rate_columns("violation_rate", rate),
                         **estimate_columns("tokens_per_call", mean(a["tpc"], a["cluster"])),
                         "tight_certified_commits": int(a["sure"].sum()),
                         "tight_certified_violations": int(a["sure_violations"].sum())})
    checks = {
        "certified rules commit only joint modes":
            all(r["violations"] == 0 for r in rows if r["certified"]),
        "commits with tight margin > 0 are joint modes":
            all(r["tight_certified_violations"] == 0 for r in rows)}
    params = {"n": n, "seed": seed, "rhos": list(rhos), "rules": [list(r) for r in rules],
              "models": G, "per_model": per, "V": V, "beta": beta, "gen_length": gen_length,
              "block_length": block_length, "prompt_length": prompt_length}
    return StudyResult("certificates", rows, params, checks, provenance())
