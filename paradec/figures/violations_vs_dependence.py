"""Figure ``violations_vs_dependence``: how often a rule commits a tuple that is not the
joint mode, vs the dependence strength rho of the simulator's chains.

Input: the rows of simulate's ``certificates`` study (``simulate.studies.certificates``:
rho, rule, label, certified, violation_rate with its cluster-robust standard error and
95% interval). Certified rules (factor f <= 1, Fréchet and tight with delta >= 0) must
sit at 0 at every rho (their interval's upper end shows how many commits back that).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

from paradec.figures import style

__all__ = ["compute_violations_vs_dependence", "plot_violations_vs_dependence"]


def compute_violations_vs_dependence(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """``{"curves": [{label, rule, certified, rho, rate, se, ci_low, ci_high,
    multi_commits}]}``, one curve per rule setting, rho ascending."""
    if not rows:
        raise ValueError("no certificates study rows")
    curves: dict[str, dict[str, Any]] = {}
    for r in sorted(rows, key=lambda r: r["rho"]):
        c = curves.setdefault(r["label"], {"label": r["label"], "rule": r["rule"],
                                           "certified": bool(r["certified"]), "rho": [],
                                           "rate": [], "se": [], "ci_low": [], "ci_high": [],
                                           "multi_commits": []})
        c["rho"].append(r["rho"])
        c["rate"].append(r["violation_rate"])
        c["se"].append(r["violation_rate_se"])
        c["ci_low"].append(r["violation_rate_ci_low"])
        c["ci_high"].append(r["violation_rate_ci_high"])
        c["multi_commits"].append(r["multi_commits"])
    certified_max = max((max(c["rate"]) for c in curves.values() if c["certified"]),
                        default=0.0)
    return {"curves": list(curves.values()), "certified_max_rate": certified_max}


def plot_violations_vs_dependence(data: dict[str, Any], path: str | Path) -> Path:
    """Left: uncertified rules (rate ± se); right: certified rules at 0 with the upper end
    of their 95% interval."""
    fig, (ax_u, ax_c) = style.figure(2)
    styles = ["-", "--", ":", "-."]
    seen: dict[str, int] = {}
    for c in data["curves"]:
        ax = ax_c if c["certified"] else ax_u
        i = seen.get(c["rule"] + str(c["certified"]), 0)
        seen[c["rule"] + str(c["certified"])] = i + 1
        color = style.rule_color(c["rule"])
        rate, se = style.floats(c["rate"]), style.floats(c["se"])
        label = c["label"]
        if not c["certified"] and "delta=-" in label:
            label += ": δ < 0, no certificate"
        if not c["certified"] and not np.any(np.nan_to_num(rate) > 0):
            label += " (none seen)"  # its curve lies under the others at 0
        ax.errorbar(c["rho"], rate, yerr=se, marker="o", ms=4, capsize=2,
                    ls=styles[i % len(styles)], color=color, label=label)
        if c["certified"]:
            ax.plot(c["rho"], style.floats(c["ci_high"]), ls="none", marker="_", ms=10, color=color)
    ax_u.set_title("uncertified rules: violations once positions depend (ρ > 0)")
    ax_c.set_title("certified rules: 0 violations (ticks: 95% upper bound)")
    for ax in (ax_u, ax_c):
        ax.set_xlabel("dependence strength ρ of the simulated chains")
        ax.set_ylabel("violation rate (share of multi-token commits\nthat are not the joint mode)")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, fontsize=7.5)
    high = [float(np.nanmax(style.floats(c["ci_high"]))) for c in data["curves"]
            if c["certified"]]
    top = max(high) * 1.4 if high and max(high) > 0 else 0.01
    ax_c.set_ylim(-0.08 * top, top)
    return style.save(fig, path)


if __name__ == "__main__":
    from paradec.figures._defaults import main

    sys.exit(main("violations_vs_dependence", ("study:certificates",),
                  lambda ctx, seed: compute_violations_vs_dependence(
                      ctx["study:certificates"].rows),
                  plot_violations_vs_dependence))
