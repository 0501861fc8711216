"""``paradec certify``: what every commit rule commits on a confidence profile, and why.

Three inputs:
  --confidences 0.99,0.95,...   one profile; per-rule commits, margins and bonuses
  --input FILE.npz              a batch (arrays c, optional s, H, valid): n per row per rule
  --marginals FILE.npy --exact  an explicit n x V marginal matrix: LP worst case vs closed form
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser("certify", help="apply every commit rule to a confidence profile",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--confidences", help="comma-separated confidences c_i of one step")
    src.add_argument("--input", help="npz with c (rows x m), optional s, H, valid")
    src.add_argument("--marginals", help="npy with an n x V marginal matrix (use with --exact)")
    p.add_argument("--runner-up", help="comma-separated runner-up probabilities s_i")
    p.add_argument("--entropy", help="comma-separated entropies H_i (nats)")
    p.add_argument("--k", type=int, default=1, help="quota rule: tokens per step (default 1)")
    p.add_argument("--tau", type=float, default=0.9, help="threshold rule (default 0.9)")
    p.add_argument("--factor", type=float, default=1.0, help="factor rule f (default 1.0)")
    p.add_argument("--delta", type=float, default=0.0,
                   help="Fréchet and tight certificate margin (default 0.0)")
    p.add_argument("--gamma", type=float, default=0.1, help="entropy-bound rule (default 0.1)")
    p.add_argument("--exact", action="store_true",
                   help="with --marginals: exact worst case over all couplings by LP")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(run=run)


def _floats(text: str, what: str) -> list[float]:
    try:
        values = [float(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise ValueError(f"{what} must be comma-separated numbers, got {text!r}") from None
    if not values:
        raise ValueError(f"{what} is empty")
    return values


def _rules(args: argparse.Namespace, with_entropy: bool) -> list[Any]:
    from theory import EntropyBound, Factor, Frechet, Quota, Threshold, TightCertificate

    rules = [Quota(args.k), Threshold(args.tau), Factor(args.factor), Frechet(args.delta),
             TightCertificate(args.delta)]
    if with_entropy:
        rules.append(EntropyBound(args.gamma))
    return rules


def run(args: argparse.Namespace) -> int:
    if args.marginals is not None:
        return _run_marginals(args)
    if args.exact:
        raise ValueError("--exact needs --marginals FILE.npy")
    if args.input is not None:
        return _run_batch(args)
    return _run_single(args)


def _run_single(args: argparse.Namespace) -> int:
    from theory import commit, profile_from_confidences, sorted_profile
    from theory.margins import (
        factor_core,
        frechet_margin,
        heterogeneity_bonus,
        spread_bonus,
        tight_margin,
    )

    c = _floats(args.confidences, "--confidences")
    s = None if args.runner_up is None else _floats(args.runner_up, "--runner-up")
    H = None if args.entropy is None else _floats(args.entropy, "--entropy")
    profile = profile_from_confidences(c, s, H)
    rules = _rules(args, with_entropy=H is not None)
    commits = {rule.label(): int(commit(rule, profile).n[0]) for rule in rules}
    sp = sorted_profile(profile)
    order, r, sr = sp.order[0], sp.r, sp.s
    table = {
        "c_sorted": sp.c[0].tolist(), "position": order.tolist(),
        "G": frechet_margin(r)[0].tolist(), "G_star": tight_margin(r, sr)[0].tolist(),
        "factor_core": factor_core(r)[0].tolist(),
        "heterogeneity_bonus": heterogeneity_bonus(r)[0].tolist(),
        "spread_bonus": spread_bonus(r, sr)[0].tolist(),
    }
    if args.json:
        print(json.dumps({"commits": commits, "margins": table}, indent=2))
        return 0
    print("rule                     commits n")
    for label, n in commits.items():
        print(f"{label:<24} {n:>9}")
    if H is None:
        print("(entropy rule skipped: give --entropy to run it)")
    print("\n  n  pos   c_(n)        G_n          G*_n         F_n          B_n       spread")
    for i in range(len(order)):
        print(f"{i + 1:>3} {table['position'][i]:>4} {table['c_sorted'][i]:.6f} "
              + " ".join(f"{table[k][i]:>12.6f}" for k in
                         ("G", "G_star", "factor_core", "heterogeneity_bonus", "spread_bonus")))
    return 0


def _load_npz(path: str) -> dict[str, Any]:
    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except FileNotFoundError:
        raise FileNotFoundError(f"no such input file: {path}") from None
    except Exception as err:  # zip or npy corruption: name the file
        raise ValueError(f"cannot read {path} as an npz archive: {err}") from None
    if "c" not in arrays:
        raise ValueError(f"{path} has no array 'c' (found: {sorted(arrays)})")
    for key, value in arrays.items():
        if key not in {"c", "s", "H", "valid"}:
            raise ValueError(f"{path}: unexpected array {key!r}; expected c, s, H, valid")
        if not isinstance(value, np.ndarray):  # a zip member that is not an .npy file
            raise ValueError(f"cannot read {path}: member {key!r} is not an npy array")
    c = arrays["c"]
    if c.ndim != 2 or 0 in c.shape:
        raise ValueError(f"{path}: c must be a non-empty rows x m array, got shape {c.shape}")
    return arrays


def _run_batch(args: argparse.Namespace) -> int:
    from theory import commit, profile_from_confidences

    arrays = _load_npz(args.input)
    profile = profile_from_confidences(arrays["c"], arrays.get("s"), arrays.get("H"),
                                       arrays.get("valid"))
    rules = _rules(args, with_entropy="H" in arrays)
    if "H" not in arrays:
        print("paradec certify: entropy rule skipped (no H in input)", file=sys.stderr)
    result = {rule.name: commit(rule, profile).n.tolist() for rule in rules}
    if args.json:
        print(json.dumps(result))
    else:
        for name, ns in result.items():
            print(f"{name:<10} {' '.join(str(n) for n in ns)}")
    return 0


def _run_marginals(args: argparse.Namespace) -> int:
    import numpy as np

    from theory.bruteforce import worst_case_margin
    from theory.certificates import tight_certificate

    if not args.exact:
        raise ValueError("--marginals is used with --exact")
    try:
        p = np.load(args.marginals, allow_pickle=False)
    except FileNotFoundError:
        raise FileNotFoundError(f"no such marginals file: {args.marginals}") from None
    except Exception as err:
        raise ValueError(f"cannot read {args.marginals} as an npy array: {err}") from None
    p = np.asarray(p, dtype=np.float64)
    if p.ndim != 2 or 0 in p.shape:
        raise ValueError(f"marginals must be an n x V matrix, got shape {p.shape}")
    worst = worst_case_margin(p)
    r_sum = float(np.sum(1.0 - p.max(axis=1)))
    tight = tight_certificate(p) if r_sum <= 1.0 else None
    top: list[dict[str, Any]] = [{"tuple": [int(v) for v in z], "p": float(q)}
                                 for z, q in worst.joint.top(5)]
    out: dict[str, Any] = {"lp_margin": worst.margin, "tight_margin": tight,
           "competitor": list(map(int, worst.competitor)),
           "extremal_top": top}
    if tight is None:
        out["note"] = f"sum of residuals {r_sum:.6g} > 1: the closed form does not apply"
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print(f"LP worst-case margin   {worst.margin:.12f}")
        print("closed form (tight)    " + ("n/a (sum r > 1)" if tight is None
                                          else f"{tight:.12f}"))
        for item in top:
            print(f"  {tuple(item['tuple'])}  {item['p']:.6f}")
    return 0
