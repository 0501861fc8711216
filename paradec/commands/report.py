"""``paradec report``: the main job on the embedded defaults.

Runs, in order: the theory certificates (the paper's worked example, the ordering
tight >= Fréchet >= factor(f = 1 - delta) on a large random batch, the closed-form tight
certificate against the LP worst case, the sympy proofs), small Monte Carlo studies of
simulate/ (zero violations of certified rules; tokens per call against agreement with
static decoding), then the shipped trained model on held-out problems (every rule against
static decoding, FreeDave's calls predicted from the static trace). Prints a summary,
writes ``<out>/summary.json`` and each study's table, and exits 1 if any guarantee failed.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
import time
from collections.abc import Callable
from typing import Any


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("report", help="run the main job on the embedded defaults",
                              description=__doc__.split("\n")[0])
    p.add_argument("--out", default="runs/report", help="output folder (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="seed of every random part")
    p.add_argument("--rows", type=int, default=100_000,
                   help="random profiles in the ordering check (default: %(default)s)")
    p.add_argument("--lp-instances", type=int, default=200,
                   help="random marginal matrices solved by LP (default: %(default)s)")
    p.add_argument("--n", type=int, default=None, help="sequences per configuration in "
                   "the simulate studies (default: each study's own)")
    p.add_argument("--problems", type=int, default=200,
                   help="held-out problems decoded by the shipped model (default: %(default)s)")
    p.set_defaults(run=run)


def worked_example(args: argparse.Namespace) -> dict[str, Any]:
    from theory import Factor, Frechet, TightCertificate, commit, profile_from_confidences

    p = profile_from_confidences([0.99, 0.95, 0.82, 0.78, 0.74])
    n = {rule.label(): int(commit(rule, p).n[0])
         for rule in (Factor(0.7), Frechet(0.3), TightCertificate(0.3))}
    ok = n["factor(f=0.7)"] == 2 and n["frechet(delta=0.3)"] == 4
    return {"commits": n, "ok": ok,
            "line": f"factor(0.7) commits {n['factor(f=0.7)']}, Fréchet(0.3) commits "
                    f"{n['frechet(delta=0.3)']}, tight(0.3) commits {n['tight(delta=0.3)']}"}


def ordering(args: argparse.Namespace) -> dict[str, Any]:
    import numpy as np

    from theory import Factor, Frechet, TightCertificate, commit, profile_from_logits

    rng = np.random.default_rng(args.seed)
    rows, m, V = args.rows, 32, 8
    scale = rng.uniform(0.5, 10.0, size=(rows, m, 1))
    profile = profile_from_logits(rng.normal(size=(rows, m, V)) * scale)
    broken, mean_n = 0, {}
    for delta in (0.0, 0.1, 0.3, 0.5):
        n_f = commit(Factor(1.0 - delta), profile).n
        n_g = commit(Frechet(delta), profile).n
        n_t = commit(TightCertificate(delta), profile).n
        broken += int(np.sum((n_t < n_g) | (n_g < n_f)))
        mean_n[delta] = (float(n_f.mean()), float(n_g.mean()), float(n_t.mean()))
    ok = broken == 0
    d = mean_n[0.0]
    return {"rows": rows, "violations": broken, "mean_n": mean_n, "ok": ok,
            "line": f"{rows} rows x 4 deltas: {broken} rows break tight >= Fréchet >= factor; "
                    f"mean n at delta 0: factor {d[0]:.2f}, Fréchet {d[1]:.2f}, tight {d[2]:.2f}"}


def lp_agreement(args: argparse.Namespace) -> dict[str, Any]:
    from theory.bruteforce import tight_certificate_survey

    s = tight_certificate_survey(args.lp_instances, args.seed)
    ok = s.max_abs_error <= 1e-9 and s.clipped_bound_attained <= s.above_budget
    return {"instances": s.instances, "within_budget": s.within_budget,
            "max_abs_error": s.max_abs_error, "lps_solved": s.lps_pruned, "ok": ok,
            "line": f"{s.within_budget} marginal matrices with sum r <= 1: closed form vs LP "
                    f"max |error| {s.max_abs_error:.2e} ({s.lps_pruned} LPs)"}


def proofs(args: argparse.Namespace) -> dict[str, Any]:
    from theory import proofs as pr

    checks = {"Cor 4.2": pr.prove_corollary_4_2(), "Prop 4.3": pr.prove_proposition_4_3(),
              "G_n monotone": pr.prove_frechet_margin_monotone(clip=True),
              "G*_n monotone": pr.prove_tight_margin_monotone(clip=True)}
    ok = all(checks.values())
    return {"checks": checks, "ok": ok,
            "line": ", ".join(f"{k}: {'proved' if v else 'FAILED'}" for k, v in checks.items())}


def study(name: str) -> Callable[[argparse.Namespace], dict[str, Any]]:
    def run_study(args: argparse.Namespace) -> dict[str, Any]:
        from simulate.studies import STUDIES, format_table, write_result

        kwargs: dict[str, Any] = {"seed": args.seed, "show_progress": False}
        if args.n is not None:
            kwargs["n"] = args.n
        result = STUDIES[name](**kwargs)
        paths = write_result(result, pathlib.Path(args.out) / "simulate")
        return {"checks": result.checks, "ok": result.ok, "table": format_table(result),
                "files": [str(p) for p in paths],
                "line": f"{len(result.rows)} rows, checks: "
                        + ", ".join(f"{k} {'pass' if v else 'FAIL'}"
                                    for k, v in result.checks.items())}
    return run_study


REPORT_RULES = (("quota", 1), ("quota", 4), ("threshold", 0.9), ("factor", 1.0),
                ("frechet", 0.5), ("tight", 0.5), ("entropy", 0.1))


def shipped_model(args: argparse.Namespace) -> dict[str, Any]:
    """The shipped trained model on held-out problems: static decoding against one setting
    of every rule, and FreeDave's calls predicted from the static run's trace."""
    import torch

    from realmodel.engine import DecodeConfig
    from realmodel.freedave import predict_calls
    from realmodel.shipped import (
        DEFAULT_MODEL,
        evaluate,
        generation_defaults,
        heldout_problems,
        load_shipped,
        problem_prompts,
    )
    from realmodel.trace import TraceWriter, provenance, read_trace
    from theory import Quota, make_rule

    torch.manual_seed(args.seed)
    denoiser = load_shipped(DEFAULT_MODEL)
    shape = generation_defaults(DEFAULT_MODEL)
    problems = heldout_problems()[:args.problems]
    rows = []
    for name, value in REPORT_RULES:
        config = DecodeConfig(rule=make_rule(name, value), **shape)
        rows.append(evaluate(denoiser, problems, config, batch_size=100).to_dict())
    static = rows[0]
    for row in rows:
        row["calls_ratio_vs_static"] = static["calls"] / row["calls"]
    path = pathlib.Path(args.out) / "tiny-arith-static.parquet"
    config = DecodeConfig(rule=Quota(1), **shape)
    from realmodel.engine import decode

    with TraceWriter(path, provenance(denoiser, config, batch_size=100)) as writer:
        decode(denoiser, problem_prompts(problems, denoiser), config, batch_size=100,
               trace=writer)
    freedave = {K: predict_calls(read_trace(path), K)["total"] for K in (2, 4, 8)}
    table = "\n".join(f"{r['label']:<22} accuracy {r['accuracy']:.3f} ± {r['accuracy_se']:.3f}"
                      f"  calls/seq {r['calls']:6.2f}  tokens/call {r['tokens_per_call']:.2f}"
                      for r in rows)
    n_static = static["calls"] * len(problems)
    table += "\nFreeDave (identical output to static; calls predicted from the trace): " + \
        ", ".join(f"K={K}: {n_static / c:.2f}x fewer calls" for K, c in freedave.items())
    ok = static["accuracy"] >= 0.8
    return {"rows": rows, "freedave_calls": freedave, "ok": ok, "table": table,
            "line": f"{len(problems)} held-out problems, static accuracy "
                    f"{static['accuracy']:.3f} (the shipped model must reach 0.8)"}


SECTIONS: list[tuple[str, Callable[[argparse.Namespace], dict[str, Any]]]] = [
    ("worked example (Fast-dLLM++)", worked_example),
    ("ordering of certified rules", ordering),
    ("tight certificate vs LP", lp_agreement),
    ("sympy proofs", proofs),
    ("simulate: certificates", study("certificates")),
    ("simulate: frontier", study("frontier")),
    ("shipped model tiny-arith", shipped_model),
]


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    if args.rows < 1 or args.lp_instances < 1:
        raise ValueError("--rows and --lp-instances must be >= 1")
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    summary: dict[str, Any] = {"seed": args.seed, "sections": {}}
    for title, section in tqdm(SECTIONS, desc="paradec report", unit="part", file=sys.stderr):
        t0 = time.perf_counter()
        result = section(args)
        result["seconds"] = round(time.perf_counter() - t0, 2)
        summary["sections"][title] = result
    from paradec import __version__

    summary["paradec_version"] = __version__
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    failed = [t for t, r in summary["sections"].items() if not r["ok"]]
    for title, result in summary["sections"].items():
        print(f"[{'ok' if result['ok'] else 'FAILED'}] {title}: {result['line']}")
        if "table" in result:
            print("    " + result["table"].replace("\n", "\n    "))
    print(f"wrote {out / 'summary.json'}")
    if failed:
        print(f"paradec report: failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0
