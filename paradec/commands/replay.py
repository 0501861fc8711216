"""``paradec replay``: replay commit rules on a confidence trace.

For every logged step, what each rule would commit at that state (``theory.commit`` on
the step's profile), its margins and bonuses, and whether those tokens agree with what
the logged run finally wrote. The rule that produced the trace (``--rule logged``)
reproduces its decisions exactly; any other rule is counterfactual after the first step
where its decision differs (labelled in the output). Without ``--rule``: the logged rule
and every theory rule over a default parameter sweep.

Example::

    paradec replay runs/llada.parquet
    paradec replay runs/llada.parquet --rule frechet --value 0.1 --value 0.3 \\
        --rule threshold --value 0.9 --calibration --fit --json
"""

from __future__ import annotations

import argparse
import json
import math
from typing import Any

__all__ = ["add_parser", "run"]

_RULES = ("logged", "quota", "threshold", "factor", "frechet", "tight", "entropy")


class _RuleAction(argparse.Action):
    """``--rule NAME`` starts a rule; each ``--value V`` after it adds a parameter."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option: Any = None) -> None:
        specs = list(getattr(namespace, "rules", None) or [])
        if self.dest == "rules":
            specs.append((values, []))
        else:
            if not specs:
                raise argparse.ArgumentError(self, "--value must follow a --rule")
            specs[-1][1].append(values)
        namespace.rules = specs


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "replay", help="replay commit rules on a confidence trace",
        description=__doc__.split("\n")[0].replace("``", "") if __doc__ else None)
    p.add_argument("trace", help="a trace written by paradec decode --trace (.parquet)")
    p.add_argument("--rule", dest="rules", action=_RuleAction, choices=_RULES,
                   help="rule to replay (repeatable; 'logged' is the trace's own rule)")
    p.add_argument("--value", dest="values", action=_RuleAction, type=float,
                   help="parameter of the preceding --rule (repeatable; default: a sweep)")
    p.add_argument("--calibration", action="store_true",
                   help="reliability table of confidences and margin calibration")
    p.add_argument("--bins", type=int, default=10, help="calibration bins (default 10)")
    p.add_argument("--fit", action="store_true",
                   help="fit simulate/'s profile generators to the trace's profiles")
    p.add_argument("--freedave", type=int, metavar="K",
                   help="also predict FreeDave's calls with K drafts from the trace")
    p.add_argument("--draft", choices=("nested", "tree", "stride"), default="nested",
                   help="FreeDave draft shape (with --freedave)")
    p.add_argument("--records", action="store_true",
                   help="with --json: include every per-step record")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=run, rules=None)


def _rules(specs: list[tuple[str, list[float]]] | None) -> list[Any]:
    from realmodel.replay import LOGGED, SWEEP, default_rules
    from theory import make_rule

    if not specs:
        return default_rules()
    rules: list[Any] = []
    for name, values in specs:
        if name == LOGGED:
            if values:
                raise ValueError("--value does not apply to --rule logged")
            rules.append(LOGGED)
            continue
        for v in values or SWEEP[name]:
            if name == "quota":
                if not math.isfinite(v) or v != int(v):
                    raise ValueError(f"--value for quota must be an integer, got {v}")
                v = int(v)
            rules.append(make_rule(name, v))
    return rules


def _record(rec: Any) -> dict[str, Any]:
    return {"sequence": rec.sequence, "step": rec.step, "block": rec.block, "m": rec.m,
            "n": rec.n, "logged_n": rec.logged_n, "positions": rec.positions,
            "tokens": rec.tokens, "agree": rec.agree, "L": rec.L, "G": rec.G,
            "G_star": rec.G_star, "heterogeneity": rec.heterogeneity, "spread": rec.spread,
            "same_as_logged": rec.same_as_logged, "counterfactual": rec.counterfactual}


def run(args: argparse.Namespace) -> int:
    from realmodel.replay import replay_all
    from realmodel.trace import read_trace

    if args.bins < 1:
        raise ValueError(f"--bins must be >= 1, got {args.bins}")
    if args.freedave is not None and args.freedave < 1:
        raise ValueError(f"--freedave K must be >= 1, got {args.freedave}")
    rules = _rules(args.rules)
    trace = read_trace(args.trace)
    replays = replay_all(trace, rules)
    out: dict[str, Any] = {
        "trace": str(args.trace), "complete": trace.complete,
        "model": trace.provenance.get("model", {}).get("id"),
        "logged_rule": trace.provenance["decode"]["rule"].get("label"),
        "steps": len(trace), "sequences": len(trace.sequences()),
        "rules": [r.summary() for r in replays]}
    if args.records:
        out["records"] = {r.label: [_record(x) for x in r.records] for r in replays}
        out["counterfactual_from"] = {r.label: r.counterfactual_from for r in replays}
    if args.calibration:
        from realmodel.replay.calibration import compute_prefix_calibration, compute_reliability

        out["calibration"] = {"reliability": compute_reliability(trace, bins=args.bins),
                              "margins": compute_prefix_calibration(trace, bins=args.bins),
                              "margins_of": "every confidence prefix at every logged state"}
    if args.fit:
        from realmodel.replay.fit import fit_trace

        out["fit"] = {name: f.describe() for name, f in fit_trace(trace).items()}
    if args.freedave is not None:
        from realmodel.freedave import predict_calls

        out["freedave"] = predict_calls(trace, args.freedave, draft=args.draft)
    from paradec._json import jsonable

    out = jsonable(out)
    if args.json:
        print(json.dumps(out))
        return 0
    _print(out)
    return 0


def _fmt(x: Any, spec: str = ".3f") -> str:
    return "-" if x is None else format(x, spec)


def _print(out: dict[str, Any]) -> None:
    print(f"trace {out['trace']}: model {out['model']}, logged rule {out['logged_rule']}, "
          f"{out['sequences']} sequences, {out['steps']} steps"
          + ("" if out["complete"] else " (incomplete run)"))
    print("rule decisions at the logged states; a rule other than the logged one is "
          "counterfactual after its first differing step")
    head = (f"{'rule':<28} {'tok/step':>8} {'factual':>8} {'same':>6} {'agree':>6} "
            f"{'joint':>6} {'calls':>6} {'~calls*':>8}")
    print(head)
    for s in out["rules"]:
        print(f"{s['rule']:<28} {_fmt(s['mean_tokens_per_step'], '8.2f')} "
              f"{s['factual_steps']:>8d} {_fmt(s['same_as_logged'], '6.3f')} "
              f"{_fmt(s['token_agreement'], '6.3f')} {_fmt(s['joint_agreement'], '6.3f')} "
              f"{s['logged_calls']:>6d} {_fmt(s['approx_calls'], '8.1f')}")
    print("* counterfactual approximation: sum over logged steps of n_logged / n_rule "
          "(the rule's decision at each logged state, trajectory held fixed)")
    if "calibration" in out:
        rel = out["calibration"]["reliability"]
        print(f"reliability of confidence vs final token (ECE {_fmt(rel['ece'], '.4f')}):")
        print(f"  {'bin':<13} {'conf':>6} {'agree':>6} {'count':>7}")
        for lo, hi, c, a, k in zip(rel["edges"][:-1], rel["edges"][1:],
                                   rel["mean_confidence"], rel["agreement"], rel["count"],
                                   strict=True):
            print(f"  [{lo:.2f}, {hi:.2f})  {_fmt(c, '6.3f')} {_fmt(a, '6.3f')} {k:>7d}")
        for name, table in out["calibration"]["margins"].items():
            print(f"{name} margin vs joint agreement with the final tokens, "
                  f"{out['calibration']['margins_of']}:")
            for lo, hi, mg, a, k in zip(table["edges"][:-1], table["edges"][1:],
                                        table["mean_margin"], table["joint_agreement"],
                                        table["count"], strict=True):
                if k:
                    print(f"  [{lo:+.2f}, {hi:+.2f})  margin {_fmt(mg, '+.3f')} "
                          f"joint {_fmt(a, '.3f')} n={k}")
    if "fit" in out:
        for name, f in out["fit"].items():
            print(f"fit {name}: {f}")
    if "freedave" in out:
        print(f"freedave: {json.dumps(out['freedave'])}")
