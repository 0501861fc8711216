"""Study ``frontier``: speed against fidelity for every rule over a sweep of its parameter.

For each dial value, every (rule, parameter) decodes the same prompts of the same random
chains. Speed is tokens per denoiser call; fidelity is agreement with static decoding
(per token, and whole sequences), the change in log-likelihood under the true chain
against static decoding (paired, same prompts), and agreement with the exact joint mode
of the whole generation.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from simulate.decode import DecodeConfig, DecodeTrace, decode, is_certified
from simulate.stats import mean
from simulate.studies._common import (
    StudyResult,
    estimate_columns,
    progress,
    provenance,
    split,
    world,
)
from theory import Quota, make_rule, make_rules

__all__ = ["frontier", "DEFAULT_SWEEP"]

DEFAULT_SWEEP: dict[str, tuple[float, ...]] = {
    "quota": (1, 2, 4, 8),
    "threshold": (0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.3),
    "factor": (0.25, 0.5, 1.0, 2.0, 4.0),
    "frechet": (0.5, 0.25, 0.0, -0.25, -0.5),
    "tight": (0.5, 0.25, 0.0, -0.25, -0.5),
    "entropy": (0.05, 0.25, 1.0, 2.0, 4.0),
}


def _row(rho: float, name: str, value: float, tr: DecodeTrace, static: DecodeTrace,
         model: np.ndarray, G: int) -> dict[str, Any]:
    rule = make_rule(name, value)
    exact = (tr.tokens == static.tokens).all(axis=1).astype(np.float64)
    return {"rho": rho, "rule": name, "value": value, "label": rule.label(),
            "certified": is_certified(rule), "sequences": int(tr.calls.size), "models": G,
            **estimate_columns("tokens_per_call", mean(tr.tokens_per_call, model)),
            **estimate_columns("calls", mean(tr.calls, model)),
            **estimate_columns("static_agreement", mean(tr.ref_agreement, model)),
            **estimate_columns("static_exact", mean(exact, model)),
            **estimate_columns("loglik", mean(tr.loglik, model)),
            **estimate_columns("loglik_change", mean(tr.loglik - static.loglik, model)),
            **estimate_columns("mode_agreement", mean(tr.mode_agreement, model))}


def frontier(n: int = 256, seed: int = 0, *, rhos: tuple[float, ...] = (0.25, 0.5, 0.75),
             sweep: dict[str, tuple[float, ...]] | None = None, models: int = 32, V: int = 16,
             beta: float = 3.0, gen_length: int = 32, block_length: int = 16,
             prompt_length: int = 2, show_progress: bool = True) -> StudyResult:
    """Speed and fidelity per (rho, rule, parameter) from about ``n`` sequences per rho."""
    sweep = dict(DEFAULT_SWEEP if sweep is None else sweep)
    make_rules(sweep)  # refuse a bad rule before any work
    G, per = split(n, models)
    config = DecodeConfig(gen_length, block_length, check_modes=False, whole_mode=True)
    units = [(rho, name, v) for rho in rhos for name, vs in sweep.items() for v in vs]
    rows: list[dict[str, Any]] = []
    current = None
    for rho, name, value in progress(units, len(units), "frontier", show_progress):
        if current != rho:
            den, prompts, model = world(seed, 2, rho, G, per, V=V, beta=beta,
                                        prompt_length=prompt_length)
            static = decode(den, prompts, Quota(1), config)
            current = rho
        tr = decode(den, prompts, make_rule(name, value), config, reference=static.tokens)
        rows.append(_row(rho, name, value, tr, static, model, G))
    checks = {"static decoding agrees with itself":
              all(r["static_exact"] == 1.0 for r in rows if r["label"] == "quota(k=1)")}
    params = {"n": n, "seed": seed, "rhos": list(rhos),
              "sweep": {k: list(v) for k, v in sweep.items()}, "models": G, "per_model": per,
              "V": V, "beta": beta, "gen_length": gen_length, "block_length": block_length,
              "prompt_length": prompt_length}
    return StudyResult("frontier", rows, params, checks, provenance())
