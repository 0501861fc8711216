"""Figure ``reliability``: reliability diagrams of a trace.

Left: confidence c of every (logged step, masked position) against agreement of its
predicted token with the token the run finally wrote there (10 equal bins; ECE).
Right: the Fréchet margin G_n and the tight margin G*_n of every confidence prefix at
every logged state against the observed joint agreement of that prefix, with the mean
joint lower bound L_n per bin. Computed by ``realmodel.replay.calibration``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

from paradec.figures import style

__all__ = ["compute_reliability", "plot_reliability"]


def compute_reliability(trace: Any, bins: int = 10) -> dict[str, Any]:
    """``{"confidence": reliability table, "margins": {"frechet", "tight"} tables}``
    (realmodel.replay.calibration.calibration_summary)."""
    from realmodel.replay.calibration import calibration_summary

    return calibration_summary(trace, bins)


def plot_reliability(data: dict[str, Any], path: str | Path) -> Path:
    """Two reliability panels; marker area grows with log(count)."""
    fig, (ax_c, ax_m) = style.figure(2)
    t = data["confidence"]
    count = np.asarray(t["count"], float)
    size = 12 + 18 * np.log10(1 + count)
    ax_c.plot([0, 1], [0, 1], color="black", lw=0.8, ls="--", label="perfect calibration")
    conf, agree = style.floats(t["mean_confidence"]), style.floats(t["agreement"])
    ax_c.plot(conf, agree, color="#1f77b4", lw=1)
    ax_c.scatter(conf, agree, s=size, color="#1f77b4", zorder=3,
                 label=f"bins (area ~ log count; n = {t['n']}, ECE {t['ece']:.3f})")
    ax_c.set_xlim(0, 1.02)
    ax_c.set_ylim(0, 1.02)
    ax_c.set_xlabel("confidence c of the predicted token (bin mean)")
    ax_c.set_ylabel("agreement with the final token (share)")
    ax_c.set_title("confidence reliability")
    ax_c.legend(loc="upper left")
    for key, rule, name, mk in (("frechet", "frechet", "Fréchet G_n", "o"),
                                ("tight", "tight", "tight G*_n", "x")):
        m = data["margins"][key]
        size = 2 * (12 + 18 * np.log10(1 + np.asarray(m["count"], float)))
        colors = {"facecolors": "none", "edgecolors": style.rule_color(rule)} if mk == "o" \
            else {"color": style.rule_color(rule)}
        margin = style.floats(m["mean_margin"])
        ax_m.scatter(margin, style.floats(m["joint_agreement"]), s=size, marker=mk, lw=1.5,
                     label=f"{name} (n = {m['n']} prefixes)", zorder=3, **colors)
        ax_m.plot(margin, style.floats(m["mean_L"]), color=style.rule_color(rule), ls=":", lw=1.2,
                  label=f"mean L_n in {name} bins")
    ax_m.axvline(0, color="black", lw=0.8)
    ax_m.set_xlim(-1.05, 1.05)
    ax_m.set_ylim(0, 1.02)
    ax_m.set_xlabel("margin of the confidence prefix (bin mean)")
    ax_m.set_ylabel("joint agreement of the prefix with the final tokens")
    ax_m.set_title("margins vs observed joint agreement")
    ax_m.legend(loc="upper left", fontsize=7.5)
    return style.save(fig, path)


if __name__ == "__main__":
    from paradec.figures._defaults import main

    sys.exit(main("reliability", ("trace",),
                  lambda ctx, seed: compute_reliability(ctx["trace"]), plot_reliability))
