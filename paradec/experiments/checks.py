"""Report sections that need no model: theory certificates and small simulate studies.

Each section is ``section(options, context) -> dict`` with at least ``ok`` (bool) and
``line`` (one line for results.md); ``context`` carries data to later sections (the
certificates study's rows feed the violations figure).
"""

from __future__ import annotations

from typing import Any

from paradec.experiments.options import ReportOptions

__all__ = ["worked_example", "ordering", "lp_agreement", "proofs", "certificates_study",
           "frontier_study"]

Context = dict[str, Any]


def worked_example(opts: ReportOptions, ctx: Context) -> dict[str, Any]:
    """The paper's worked example: factor(0.7) commits 2, Fréchet(0.3) commits 4."""
    from theory import Factor, Frechet, TightCertificate, commit, profile_from_confidences

    p = profile_from_confidences([0.99, 0.95, 0.82, 0.78, 0.74])
    n = {rule.label(): int(commit(rule, p).n[0])
         for rule in (Factor(0.7), Frechet(0.3), TightCertificate(0.3))}
    ok = n["factor(f=0.7)"] == 2 and n["frechet(delta=0.3)"] == 4
    return {"commits": n, "ok": ok,
            "line": f"c = (0.99, 0.95, 0.82, 0.78, 0.74): factor(0.7) commits "
                    f"{n['factor(f=0.7)']}, Fréchet(0.3) commits {n['frechet(delta=0.3)']}, "
                    f"tight(0.3) commits {n['tight(delta=0.3)']}"}


def ordering(opts: ReportOptions, ctx: Context) -> dict[str, Any]:
    """tight >= Fréchet >= factor(f = 1 - delta) on random profiles (seeded)."""
    import numpy as np

    from theory import Factor, Frechet, TightCertificate, commit, profile_from_logits

    rng = np.random.default_rng(opts.seed)
    rows, m, V = opts.rows, 32, 8
    scale = rng.uniform(0.5, 10.0, size=(rows, m, 1))
    profile = profile_from_logits(rng.normal(size=(rows, m, V)) * scale)
    broken, mean_n = 0, {}
    for delta in (0.0, 0.1, 0.3, 0.5):
        n_f = commit(Factor(1.0 - delta), profile).n
        n_g = commit(Frechet(delta), profile).n
        n_t = commit(TightCertificate(delta), profile).n
        broken += int(np.sum((n_t < n_g) | (n_g < n_f)))
        mean_n[delta] = (float(n_f.mean()), float(n_g.mean()), float(n_t.mean()))
    d = mean_n[0.0]
    return {"rows": rows, "violations": broken, "mean_n": mean_n, "ok": broken == 0,
            "line": f"{rows} random profiles x 4 deltas: {broken} break tight >= Fréchet >= "
                    f"factor(1 - delta); mean n at delta 0: factor {d[0]:.2f}, Fréchet "
                    f"{d[1]:.2f}, tight {d[2]:.2f}"}


def lp_agreement(opts: ReportOptions, ctx: Context) -> dict[str, Any]:
    """The closed-form tight certificate equals the LP worst case."""
    from theory.bruteforce import tight_certificate_survey

    s = tight_certificate_survey(opts.lp_instances, opts.seed)
    ok = s.max_abs_error <= 1e-9 and s.clipped_bound_attained <= s.above_budget
    return {"instances": s.instances, "within_budget": s.within_budget,
            "max_abs_error": s.max_abs_error, "lps_solved": s.lps_pruned, "ok": ok,
            "line": f"{s.within_budget} random marginal matrices with sum r <= 1: closed form "
                    f"vs LP max |error| {s.max_abs_error:.2e} ({s.lps_pruned} LPs)"}


def proofs(opts: ReportOptions, ctx: Context) -> dict[str, Any]:
    """The sympy proofs of theory.proofs."""
    from theory import proofs as pr

    checks = {"Cor 4.2": pr.prove_corollary_4_2(), "Prop 4.3": pr.prove_proposition_4_3(),
              "G_n monotone": pr.prove_frechet_margin_monotone(clip=True),
              "G*_n monotone": pr.prove_tight_margin_monotone(clip=True)}
    return {"checks": checks, "ok": all(checks.values()),
            "line": ", ".join(f"{k}: {'proved' if v else 'FAILED'}" for k, v in checks.items())}


def _study(name: str, opts: ReportOptions, ctx: Context) -> dict[str, Any]:
    from simulate.studies import STUDIES, format_table, write_result

    kwargs: dict[str, Any] = {"seed": opts.seed, "show_progress": False}
    if opts.n is not None:
        kwargs["n"] = opts.n
    result = STUDIES[name](**kwargs)
    paths = write_result(result, opts.out_dir / "simulate")
    ctx[f"study:{name}"] = result
    return {"checks": result.checks, "ok": result.ok, "table": format_table(result),
            "params": {k: v for k, v in result.params.items() if k in ("n", "seed", "rhos")},
            "files": [str(p) for p in paths],
            "line": f"{len(result.rows)} rows; "
                    + "; ".join(f"{k}: {'pass' if v else 'FAIL'}"
                                for k, v in result.checks.items())}


def certificates_study(opts: ReportOptions, ctx: Context) -> dict[str, Any]:
    """simulate's certificates study (violations vs dependence; feeds a figure)."""
    return _study("certificates", opts, ctx)


def frontier_study(opts: ReportOptions, ctx: Context) -> dict[str, Any]:
    """simulate's frontier study (tokens per call vs agreement with static)."""
    return _study("frontier", opts, ctx)
