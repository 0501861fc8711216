"""Study ``bonus``: what the heterogeneity and spread bonuses are worth, in tokens per step.

At delta = 0 the factor rule (f = 1), Fréchet and the tight certificate commit
n_factor <= n_frechet <= n_tight tokens from the same profile. The gap n_frechet -
n_factor is bought by the heterogeneity bonus B_n = sum_{j<n} (c_(j) - c_(n))
([FastdLLM++] Prop 4.3, Cor 4.4); n_tight - n_frechet by the spread bonus
r_(n) - max_{j<=n} s_(j) (this project, docs/theory/certificate_spread_bonus.md).
Profiles come from two sources: every step of static decoding of random chains across
the dependence dial (``source=chain``), and the parametric log-normal family across its
heterogeneity sigma and runner-up share (``source=lognormal``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from simulate.decode import DecodeConfig, StepView, decode
from simulate.profiles import lognormal_profile
from simulate.stats import mean
from simulate.studies._common import (
    StudyResult,
    estimate_columns,
    progress,
    provenance,
    split,
    world,
)
from theory import Profile, Quota, commit_bonuses

__all__ = ["bonus", "bonus_of_profiles"]


def bonus_of_profiles(profile: Profile) -> dict[str, np.ndarray]:
    """Per row of ``profile``: n committed by factor(1), Fréchet(0) and tight(0), the
    heterogeneity bonus at n_frechet and the spread bonus at n_tight, all (rows,)
    (:func:`theory.commit_bonuses` at delta = 0, as numpy arrays)."""
    return {k: np.asarray(v) for k, v in commit_bonuses(profile).items()}


def _summary(d: dict[str, np.ndarray], cluster: np.ndarray) -> dict[str, Any]:
    het = d["n_frechet"] - d["n_factor"]
    spr = d["n_tight"] - d["n_frechet"]
    out: dict[str, Any] = {"profiles": int(cluster.size), "clusters": int(np.unique(cluster).size)}
    for key in ("n_factor", "n_frechet", "n_tight"):
        out.update(estimate_columns(key, mean(d[key], cluster)))
    for key in ("heterogeneity_bonus", "spread_bonus"):
        out.update(estimate_columns(key, mean(d[key], cluster)))
        q = np.quantile(d[key], [0.1, 0.5, 0.9])
        out.update({f"{key}_q10": q[0], f"{key}_q50": q[1], f"{key}_q90": q[2]})
    out.update(estimate_columns("extra_from_heterogeneity", mean(het, cluster)))
    out.update(estimate_columns("share_with_heterogeneity_extra", mean(het > 0, cluster)))
    out.update(estimate_columns("extra_from_spread", mean(spr, cluster)))
    out.update(estimate_columns("share_with_spread_extra", mean(spr > 0, cluster)))
    out["min_extra_from_heterogeneity"] = int(het.min(initial=0))
    out["min_extra_from_spread"] = int(spr.min(initial=0))
    return out


def bonus(n: int = 512, seed: int = 0, *, rhos: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 0.9),
          sigmas: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0),
          spread_lows: tuple[float, ...] = (1.0, 0.25), r_median: float = 0.1, m: int = 16,
          models: int = 32,
          V: int = 16, beta: float = 3.0, gen_length: int = 32, block_length: int = 16,
          prompt_length: int = 2, show_progress: bool = True) -> StudyResult:
    """Bonus distributions from ``n`` static decodes per rho and ``n`` x gen_length
    parametric profiles of ``m`` positions per (sigma, spread_low)."""
    G, per = split(n, models)
    config = DecodeConfig(gen_length, block_length, check_modes=False, whole_mode=False)
    units = [("chain", rho, 0.0) for rho in rhos] + \
        [("lognormal", sig, lo) for sig in sigmas for lo in spread_lows]
    rows: list[dict[str, Any]] = []
    for source, a, b in progress(units, len(units), "bonus", show_progress):
        if source == "chain":
            den, prompts, model = world(seed, 3, a, G, per, V=V, beta=beta,
                                        prompt_length=prompt_length)
            parts: list[dict[str, np.ndarray]] = []
            clusters: list[np.ndarray] = []

            def see(view: StepView, parts: list = parts, clusters: list = clusters,
                    model: np.ndarray = model) -> None:
                parts.append(bonus_of_profiles(view.profile))
                clusters.append(model[view.rows])

            decode(den, prompts, Quota(1), config, observe=see)
            d = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
            cluster = np.concatenate(clusters)
            rows.append({"source": source, "rho": a, "sigma": np.nan, "spread_low": np.nan,
                         **_summary(d, cluster)})
        else:
            key = (4, int(round(a * 1_000_000)), int(round(b * 1_000_000)))
            rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))
            profile = lognormal_profile(n * gen_length, m, rng, r_median=r_median, sigma=a,
                                        spread_low=b)
            d = bonus_of_profiles(profile)
            rows.append({"source": source, "rho": np.nan, "sigma": a, "spread_low": b,
                         **_summary(d, np.arange(n * gen_length))})
    checks = {"Fréchet commits at least what factor commits (Cor 4.4)":
              all(r["min_extra_from_heterogeneity"] >= 0 for r in rows),
              "tight commits at least what Fréchet commits":
              all(r["min_extra_from_spread"] >= 0 for r in rows)}
    params = {"n": n, "seed": seed, "rhos": list(rhos), "sigmas": list(sigmas),
              "spread_lows": list(spread_lows), "r_median": r_median, "m": m, "models": G,
              "per_model": per, "V": V,
              "beta": beta, "gen_length": gen_length, "block_length": block_length,
              "prompt_length": prompt_length}
    return StudyResult("bonus", rows, params, checks, provenance())
