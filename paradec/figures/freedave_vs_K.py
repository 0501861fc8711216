# ruff: noqa: N999  (the figure name freedave_vs_K is fixed: docs link freedave_vs_K.png)
"""Figure ``freedave_vs_K``: FreeDave's calls and acceptance lengths vs the draft width K,
predicted from the static trace (``realmodel.freedave.predict_calls``) and measured by
real FreeDave decoding (``realmodel.freedave.freedave_decode``).

Input: the report's FreeDave rows (:func:`paradec.experiments.model.freedave`), each with K,
predicted_calls, measured_calls, static_calls, identical and the acceptance histograms
(accepted static steps per round -> rounds), predicted and measured.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

from paradec.figures import style

__all__ = ["compute_freedave_vs_K", "plot_freedave_vs_K"]


def _hist(h: dict[Any, int]) -> dict[str, Any]:
    lengths = sorted(int(k) for k in h)
    counts = [int(h[k]) if k in h else int(h[str(k)]) for k in lengths]
    total = sum(counts)
    mean = sum(a * c for a, c in zip(lengths, counts, strict=True)) / total if total else 0.0
    return {"lengths": lengths, "counts": counts, "rounds": total, "mean": mean}


def compute_freedave_vs_K(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per K: calls (predicted, measured, static), call speed-up, identical output, and
    acceptance-length histograms with their means (predicted and measured)."""
    if not rows:
        raise ValueError("no FreeDave rows")
    out = []
    for r in sorted(rows, key=lambda r: r["K"]):
        out.append({"K": r["K"], "predicted_calls": r["predicted_calls"],
                    "measured_calls": r["measured_calls"], "static_calls": r["static_calls"],
                    "speedup_predicted": r["static_calls"] / r["predicted_calls"],
                    "speedup_measured": r["static_calls"] / r["measured_calls"],
                    "identical": r["identical"],
                    "acceptance_predicted": _hist(r["acceptance_predicted"]),
                    "acceptance_measured": _hist(r["acceptance_measured"])})
    return {"rows": out, "static_calls": out[0]["static_calls"]}


def plot_freedave_vs_K(data: dict[str, Any], path: str | Path) -> Path:
    """Left: calls vs K (log2 axis), predicted line, measured markers, static line.
    Right: share of rounds by acceptance length for each K, measured bars, predicted dots."""
    fig, (ax_c, ax_a) = style.figure(2)
    rows = data["rows"]
    K = [r["K"] for r in rows]
    ax_c.plot(K, [r["predicted_calls"] for r in rows], lw=2, color=style.rule_color("predicted"),
              label="predicted from the static trace")
    ax_c.plot(K, [r["measured_calls"] for r in rows], marker="o", ms=8, ls="none",
              mfc="none", mew=2, color=style.rule_color("measured"),
              label="measured (FreeDave decoding)")
    ax_c.axhline(data["static_calls"], color="black", ls="--", lw=1,
                 label=f"static decoding ({data['static_calls']} calls)")
    for r in rows:
        ax_c.annotate(f"{r['speedup_measured']:.2f}x", (r["K"], r["measured_calls"]),
                      textcoords="offset points", xytext=(6, 6), fontsize=8)
    ax_c.set_xscale("log", base=2)
    ax_c.set_xticks(K, [str(k) for k in K])
    ax_c.set_ylim(0, data["static_calls"] * 1.1)
    ax_c.set_xlabel("K (draft states verified per forward call)")
    ax_c.set_ylabel("forward calls, all sequences (batch size 1 count)")
    ax_c.set_title("FreeDave calls vs K (identical output to static)")
    ax_c.legend(loc="lower left")
    colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]
    width = 0.8 / max(len(rows), 1)
    for j, r in enumerate(rows):
        meas, pred = r["acceptance_measured"], r["acceptance_predicted"]
        x = np.asarray(meas["lengths"], float) + (j - (len(rows) - 1) / 2) * width
        share = np.asarray(meas["counts"], float) / max(meas["rounds"], 1)
        color = colors[j % len(colors)]
        ax_a.bar(x, share, width=width, color=color, alpha=0.75,
                 label=f"K={r['K']} measured (mean {meas['mean']:.2f})")
        xp = np.asarray(pred["lengths"], float) + (j - (len(rows) - 1) / 2) * width
        ax_a.plot(xp, np.asarray(pred["counts"], float) / max(pred["rounds"], 1), ls="none",
                  marker="_", ms=9, mew=2, color="black")
    ax_a.plot([], [], ls="none", marker="_", ms=9, mew=2, color="black", label="predicted")
    ax_a.set_xlabel("acceptance length (static steps accepted per round)")
    ax_a.set_ylabel("share of rounds")
    ax_a.set_title("acceptance lengths")
    ax_a.set_xticks(range(1, max(K) + 1))
    ax_a.legend(loc="upper center")
    return style.save(fig, path)


if __name__ == "__main__":
    from paradec.figures._defaults import main

    sys.exit(main("freedave_vs_K", ("freedave_rows",),
                  lambda ctx, seed: compute_freedave_vs_K(ctx["freedave_rows"]),
                  plot_freedave_vs_K))
