"""Figure ``bonus``: the heterogeneity and spread bonuses along a real static trace, and
the extra tokens they buy.

At every logged step with m >= 2 masked positions (profile sorted by confidence):

- n_factor = n of factor(f = 1 - delta), n_frechet of Fréchet(delta), n_tight of
  tight(delta), all by ``theory.commit``;
- heterogeneity bonus B_n = n r_(n) - sum_{i<=n} r_(i) at n = n_frechet
  (``theory.margins.heterogeneity_bonus``: what Fréchet gains over the factor rule);
- spread bonus r_(n) - max_{i<=n} s_(i) at n = n_tight (``theory.margins.spread_bonus``:
  what the tight certificate gains over Fréchet);
- extra tokens n_frechet - n_factor and n_tight - n_frechet (never negative:
  tight >= Fréchet >= factor(1 - delta)).

``theory.commit_bonuses`` computes the counts and both bonuses.

Bonuses are histogrammed on log10 (zeros counted apart); extras as counts per value.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

from paradec.figures import style

__all__ = ["compute_bonus", "plot_bonus", "bonus_arrays"]

_EDGES = np.linspace(-10.0, 0.0, 41)


def bonus_arrays(trace: Any, delta: float = 0.1) -> dict[str, np.ndarray]:
    """Per step with m >= 2 (arrays (steps,)): m, n_factor, n_frechet, n_tight,
    heterogeneity (at n_frechet) and spread (at n_tight) bonuses
    (:func:`theory.commit_bonuses` on the stacked steps)."""
    from realmodel.replay import stack_steps
    from theory import commit_bonuses

    steps = [st for st in trace.steps() if len(st.c) >= 2]
    if not steps:
        raise ValueError("the trace has no step with two or more masked positions")
    profile, _ = stack_steps(steps)
    b = commit_bonuses(profile, delta)
    return {"m": np.asarray(profile.valid).sum(-1), "n_factor": b["n_factor"],
            "n_frechet": b["n_frechet"], "n_tight": b["n_tight"],
            "heterogeneity": b["heterogeneity_bonus"], "spread": b["spread_bonus"]}


def _log_hist(x: np.ndarray) -> dict[str, Any]:
    pos = x[x > 0]
    counts, _ = np.histogram(np.log10(np.clip(pos, 10.0 ** _EDGES[0], 1.0)), _EDGES)
    return {"edges_log10": _EDGES, "counts": counts, "zeros": int(np.sum(x <= 0)),
            "median": float(np.median(x)), "mean": float(np.mean(x))}


def _extras(x: np.ndarray) -> dict[str, Any]:
    values, counts = np.unique(x, return_counts=True)
    return {"values": values, "counts": counts, "mean": float(np.mean(x)),
            "share_positive": float(np.mean(x > 0))}


def compute_bonus(trace: Any, delta: float = 0.1) -> dict[str, Any]:
    """Histograms and summaries of the bonuses and extra tokens (see the module)."""
    a = bonus_arrays(trace, delta)
    return {"delta": delta, "steps": len(a["m"]),
            "heterogeneity": _log_hist(a["heterogeneity"]), "spread": _log_hist(a["spread"]),
            "extra_frechet_over_factor": _extras(a["n_frechet"] - a["n_factor"]),
            "extra_tight_over_frechet": _extras(a["n_tight"] - a["n_frechet"]),
            "mean_n": {k: float(np.mean(a[k])) for k in ("n_factor", "n_frechet", "n_tight")}}


def plot_bonus(data: dict[str, Any], path: str | Path) -> Path:
    """Left: bonus distributions (log10); right: extra tokens per step."""
    fig, (ax_b, ax_e) = style.figure(2)
    for key, rule, name in (("heterogeneity", "frechet", "heterogeneity bonus B_n"),
                            ("spread", "tight", "spread bonus r_(n) − max s")):
        h = data[key]
        edges = np.asarray(h["edges_log10"])
        ax_b.stairs(h["counts"], edges, color=style.rule_color(rule), lw=1.6,
                    label=f"{name} (median {h['median']:.1e}; {h['zeros']} steps = 0)")
    ax_b.set_xlabel("log10 bonus (probability mass)")
    ax_b.set_ylabel("logged steps (m ≥ 2)")
    ax_b.set_title(f"bonuses along the static trace ({data['steps']} steps)")
    ax_b.legend(loc="upper left")
    width = 0.4
    for off, key, rule, name in ((-width / 2, "extra_frechet_over_factor", "frechet",
                                  "n_Fréchet − n_factor(1−δ)"),
                                 (width / 2, "extra_tight_over_frechet", "tight",
                                  "n_tight − n_Fréchet")):
        e = data[key]
        ax_e.bar(np.asarray(e["values"], float) + off, e["counts"], width=width,
                 color=style.rule_color(rule),
                 label=f"{name} (mean {e['mean']:.2f}, > 0 at {100 * e['share_positive']:.0f}%)")
    ax_e.set_yscale("log")
    ax_e.set_xlabel(f"extra tokens committed at the same state (δ = {data['delta']})")
    ax_e.set_ylabel("logged steps (log scale)")
    ax_e.set_title("extra tokens the bonuses buy")
    ax_e.legend(loc="upper right")
    return style.save(fig, path)


if __name__ == "__main__":
    from paradec.figures._defaults import main

    sys.exit(main("bonus", ("trace",), lambda ctx, seed: compute_bonus(ctx["trace"]),
                  plot_bonus))
