"""Figure ``freedave_subset``: FreeDave++ (subset acceptance) over a rule on simulate's
exact worlds, against the rule alone, exact FreeDave and static decoding.

Input: the rows of simulate's ``freedave_subset`` study
(``simulate.studies.freedave_subset``: per rho, rule and method the calls per sequence,
the share of subset moves that commit a strict subset of the rule's set, the margin those
moves gain over the rule's set, the share of tokens that differ from the rule's output,
and the certificate counts). Three panels against the dependence dial rho: calls,
strict-subset share, margin gain; the title gives the distance to the rule's output and
the certificate violations.

``python -m paradec.figures.freedave_subset [--out DIR] [--n N] [--seed S] [--study JSON]``
runs the study on its defaults (or reads the JSON ``paradec simulate freedave_subset``
wrote) and writes ``<out>/freedave_subset.png`` and ``.json``. This figure is not part of
``paradec report``; ``--out docs/figures`` replaces the published one.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from paradec.figures import style

__all__ = ["compute_freedave_subset", "plot_freedave_subset", "main"]

METHOD_STYLE = {"rule": ("-", "o", "alone"), "exact": ("--", "s", "exact FreeDave"),
                "subset": (":", "^", "subset FreeDave++")}


def compute_freedave_subset(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """``{"rho", "static_calls", "rules": [{label, rule, calls: {method: [...]}, calls_se,
    strict_rate, margin_gain, dist_rule (each with _se)}], "max_dist_rule",
    "certified_sets", "certificate_violations", "bound_violations"}``, rho ascending; the
    per-rule columns after calls are those of the subset method."""
    if not rows:
        raise ValueError("no freedave_subset study rows")
    rhos = sorted({r["rho"] for r in rows})
    at = {(r["rho"], r["label"], r["method"]): r for r in rows}
    static = [at[(rho, "quota(k=1)", "static")]["calls"] for rho in rhos]
    labels = list(dict.fromkeys(r["label"] for r in rows if r["method"] != "static"))
    rules = []
    for label in labels:
        pick = {m: [at[(rho, label, m)] for rho in rhos] for m in METHOD_STYLE}
        rules.append({"label": label, "rule": pick["rule"][0]["rule"],
                      "calls": {m: [r["calls"] for r in rs] for m, rs in pick.items()},
                      "calls_se": {m: [r["calls_se"] for r in rs] for m, rs in pick.items()},
                      **{k: [r[k] for r in pick["subset"]] for k in
                         ("strict_rate", "strict_rate_se", "margin_gain", "margin_gain_se",
                          "dist_rule", "dist_rule_se")}})
    subset = [r for r in rows if r["method"] == "subset"]
    return {"rho": rhos, "static_calls": static, "rules": rules,
            "max_dist_rule": max(r["dist_rule"] for r in subset),
            "certified_sets": sum(r["certified"] for r in subset),
            "certificate_violations": sum(r["certificate_violations"] for r in rows),
            "bound_violations": sum(r["bound_violations"] for r in rows)}


def plot_freedave_subset(data: dict[str, Any], path: str | Path) -> Path:
    """Calls per sequence (each rule alone, exact and subset FreeDave; static in black),
    the share of subset moves that drop part of the rule's set and their mean margin gain
    G(T) - G(S), each against rho."""
    fig, (ax_c, ax_s, ax_g) = style.figure(3, width=13.0)
    rho = data["rho"]
    ax_c.plot(rho, data["static_calls"], color=style.rule_color("static"), marker="x",
              label="static (quota 1)")
    for r in data["rules"]:
        color = style.rule_color(r["rule"])
        for method, (ls, mk, name) in METHOD_STYLE.items():
            ax_c.errorbar(rho, style.floats(r["calls"][method]),
                          yerr=style.floats(r["calls_se"][method]), ls=ls, marker=mk, ms=4,
                          capsize=2, color=color, label=f"{r['label']} {name}")
        ax_s.errorbar(rho, style.floats(r["strict_rate"]), yerr=style.floats(r["strict_rate_se"]),
                      marker="^", ms=4, capsize=2, color=color, label=r["label"])
        ax_g.errorbar(rho, style.floats(r["margin_gain"]),
                      yerr=style.floats(r["margin_gain_se"]), marker="^", ms=4, capsize=2,
                      color=color, label=r["label"])
    ax_c.set_title("oracle calls per sequence")
    ax_c.set_ylabel("calls per sequence (± se)")
    ax_s.set_title("subset moves dropping part of R's set")
    ax_s.set_ylabel("share of subset FreeDave++ moves (± se)")
    ax_g.set_title("margin gained by a subset move")
    ax_g.set_ylabel("mean G(T) - G(S) over moves (± se)")
    ax_g.axhline(0.0, color="black", lw=0.8)
    worst = data["max_dist_rule"]
    differ = ("no token differs" if worst == 0 else
              f"at most {100 * worst:.2g}% of tokens differ")
    fig.suptitle(f"subset FreeDave++: {differ} from the rule's output; certificate "
                 f"violations: {data['certificate_violations']} in {data['certified_sets']} "
                 "certified committed sets")
    for ax in (ax_c, ax_s, ax_g):
        ax.set_xlabel("dependence strength ρ of the simulated chains")
        ax.set_xticks(rho)
    ax_c.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, fontsize=7)
    ax_s.legend(loc="best", fontsize=7.5)
    ax_g.legend(loc="best", fontsize=7.5)
    return style.save(fig, path)


def main(argv: list[str] | None = None) -> int:
    """Run the study (or read its JSON), then compute and plot; see the module docstring."""
    p = argparse.ArgumentParser(prog="python -m paradec.figures.freedave_subset",
                                description="draw freedave_subset.png")
    p.add_argument("--out", default="runs/figures", help="output folder (default %(default)s)")
    p.add_argument("--n", type=int, default=None, help="sequences per rho (study default)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--study", default=None,
                   help="a freedave_subset.json written by paradec simulate (no new run)")
    args = p.parse_args(argv)
    if args.study is not None:
        rows = style.load_json(args.study)["rows"]
    else:
        from simulate.studies import freedave_subset

        kwargs: dict[str, Any] = {} if args.n is None else {"n": args.n}
        rows = freedave_subset(seed=args.seed, show_progress=False, **kwargs).rows
    out = Path(args.out)
    data = compute_freedave_subset(rows)
    style.save_json(data, out / "freedave_subset.json")
    plot_freedave_subset(data, out / "freedave_subset.png")
    print(f"wrote {out / 'freedave_subset.png'} and {out / 'freedave_subset.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
