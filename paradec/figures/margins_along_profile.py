"""Figure ``margins_along_profile``: the Fréchet margin G_n and the tight margin G*_n along
the sorted profile (n = 1..m) at a few real logged steps, the zero line, the threshold
delta and the n each certificate commits.

G_n = max(0, 1 - sum_{i<=n} r_(i)) - r_(n) (``theory.margins.frechet_margin``) and
G*_n = max(0, 1 - sum_{i<=n} r_(i)) - max_{i<=n} s_(i) (``theory.margins.tight_margin``),
r sorted ascending; Fréchet(delta) commits the largest n with G_n > delta, tight(delta)
the largest with G*_n > delta (``theory.commit``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

from paradec.figures import style

__all__ = ["compute_margins_along_profile", "plot_margins_along_profile"]


def compute_margins_along_profile(trace: Any, seed: int = 0, steps: int = 4,
                                  delta: float = 0.1, min_m: int = 4) -> dict[str, Any]:
    """Margins of ``steps`` logged steps drawn (``np.random.default_rng(seed)``) among
    those with at least ``min_m`` masked positions where Fréchet(delta) stops before m
    (the informative ones; all steps with >= min_m positions if too few), in trace order."""
    from theory import Frechet, TightCertificate, commit, margins, sorted_profile

    pool = [st for st in trace.steps() if len(st.c) >= min_m]
    if not pool:
        raise ValueError(f"the trace has no step with >= {min_m} masked positions")
    stops = [st for st in pool if int(commit(Frechet(delta), st.profile()).n[0]) < len(st.c)]
    if len(stops) >= steps:
        pool = stops
    rng = np.random.default_rng(seed)
    pick = sorted(rng.choice(len(pool), size=min(steps, len(pool)), replace=False).tolist())
    out = []
    for i in pick:
        st = pool[i]
        p = st.profile()
        sp = sorted_profile(p)
        r, s = sp.r[0], sp.s[0]
        out.append({"sequence": st.sequence, "step": st.step, "block": st.block,
                    "m": len(st.c), "c_sorted": sp.c[0], "r_sorted": r,
                    "G": margins.frechet_margin(r), "G_star": margins.tight_margin(r, s),
                    "n_frechet": int(commit(Frechet(delta), p).n[0]),
                    "n_tight": int(commit(TightCertificate(delta), p).n[0])})
    return {"delta": delta, "seed": seed, "steps": out}


def plot_margins_along_profile(data: dict[str, Any], path: str | Path) -> Path:
    """One panel per step: G_n and G*_n vs n, zero line, delta line, chosen n marked."""
    k = len(data["steps"])
    ncols = 2 if k > 1 else 1
    nrows = (k + ncols - 1) // ncols
    fig, axes = style.figure(ncols, nrows, height=3.2)
    axes = np.atleast_1d(axes).ravel()
    delta = data["delta"]
    for ax, st in zip(axes, data["steps"], strict=False):
        n = np.arange(1, st["m"] + 1)
        ax.plot(n, st["G"], marker="o", ms=4, color=style.rule_color("frechet"),
                label="Fréchet G_n")
        ax.plot(n, st["G_star"], marker="s", ms=3, ls="--", color=style.rule_color("tight"),
                label="tight G*_n")
        ax.axhline(0.0, color="black", lw=0.8)
        ax.axhline(delta, color="#777777", lw=0.8, ls=":", label=f"δ = {delta}")
        for key, rule, mk in (("n_frechet", "frechet", "v"), ("n_tight", "tight", "^")):
            ax.axvline(st[key], color=style.rule_color(rule), lw=1.0, alpha=0.6)
            ax.plot([st[key]], [1.02], marker=mk, ms=8, color=style.rule_color(rule),
                    clip_on=False, ls="none",
                    label=f"{'Fréchet' if rule == 'frechet' else 'tight'} commits n = {st[key]}")
        ax.set_ylim(-1.05, 1.08)
        ax.set_xticks(n)
        ax.set_xlabel("n (positions by confidence, most confident first)")
        ax.set_ylabel("margin (probability)")
        ax.set_title(f"sequence {st['sequence']}, step {st['step']} (block {st['block']}, "
                     f"m = {st['m']})")
        ax.legend(loc="lower left", fontsize=7.5)
    for ax in axes[k:]:
        ax.set_visible(False)
    return style.save(fig, path)


if __name__ == "__main__":
    from paradec.figures._defaults import main

    sys.exit(main("margins_along_profile", ("trace",),
                  lambda ctx, seed: compute_margins_along_profile(ctx["trace"], seed),
                  plot_margins_along_profile))
