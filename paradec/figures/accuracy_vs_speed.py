"""Figure ``accuracy_vs_speed``: accuracy and agreement with static decoding vs tokens per
call, one curve per rule over its parameter sweep, static decoding marked.

Input: the report's sweep rows (:func:`paradec.experiments.model.sweep`), each with label,
rule, value, tokens_per_call, accuracy (None without reference answers), accuracy_se,
answer_agreement(_se), token_agreement. The first row labelled ``static`` is the
reference; the quota curve starts at it (k = 1).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from paradec.figures import style

__all__ = ["compute_accuracy_vs_speed", "plot_accuracy_vs_speed"]

_KEYS = ("label", "value", "tokens_per_call", "accuracy", "accuracy_se", "answer_agreement",
         "answer_agreement_se", "token_agreement")


def compute_accuracy_vs_speed(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """``{"static": point, "curves": {rule: [points sorted by tokens per call]},
    "has_accuracy": bool}``; a point holds the keys of :data:`_KEYS`."""
    static = [r for r in rows if r["label"] == "static"]
    if len(static) != 1:
        raise ValueError(f"need exactly one static row, got {len(static)}")
    curves: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        curves.setdefault(r["rule"], []).append({k: r[k] for k in _KEYS})
    for points in curves.values():
        points.sort(key=lambda p: p["tokens_per_call"])
    return {"static": {k: static[0][k] for k in _KEYS}, "curves": curves,
            "has_accuracy": static[0]["accuracy"] is not None}


def plot_accuracy_vs_speed(data: dict[str, Any], path: str | Path) -> Path:
    """Left: accuracy (or answer agreement) vs tokens per call; right: answer and token
    agreement with static decoding."""
    fig, (ax_a, ax_g) = style.figure(2)
    panels = [(ax_a, "accuracy" if data["has_accuracy"] else "answer_agreement"),
              (ax_g, "answer_agreement")]
    for ax, key in panels:
        for rule, points in data["curves"].items():
            x = [p["tokens_per_call"] for p in points]
            y = [p[key] for p in points]
            err = [p[f"{key}_se"] or 0.0 for p in points]
            ax.errorbar(x, y, yerr=err, marker="o", ms=4, lw=1.4, capsize=2,
                        color=style.rule_color(rule), label=style.RULE_NAMES.get(rule, rule))
        s = data["static"]
        ax.plot([s["tokens_per_call"]], [s[key]], marker="*", ms=14, color="black",
                ls="none", label="static (k = 1)", zorder=5)
        ax.set_xlabel("tokens per forward call (generated tokens / calls)")
    ax_g.plot([p["tokens_per_call"] for pts in data["curves"].values() for p in pts],
              [p["token_agreement"] for pts in data["curves"].values() for p in pts],
              ls="none", marker="x", ms=4, color="#555555", label="token agreement (all rules)")
    ax_a.set_ylabel("accuracy on held-out problems (exact match)" if data["has_accuracy"]
                    else "answer agreement with static decoding")
    ax_a.set_title("accuracy vs speed" if data["has_accuracy"] else "agreement vs speed")
    ax_g.set_ylabel("agreement with static decoding (fraction)")
    ax_g.set_title("same answer as static (o), same token (x)")
    ax_a.legend(loc="lower left")
    ax_g.legend(loc="lower left")
    return style.save(fig, path)


if __name__ == "__main__":
    from paradec.figures._defaults import main

    sys.exit(main("accuracy_vs_speed", ("sweep_rows",),
                  lambda ctx, seed: compute_accuracy_vs_speed(ctx["sweep_rows"]),
                  plot_accuracy_vs_speed))
