"""Calibration of a trace's confidences and margins against the tokens finally written.

Pure functions returning arrays in dicts (figures are drawn from them elsewhere).

* :func:`compute_reliability`: every (logged step, masked position) is one observation
  (confidence c, and whether that position's predicted token equals the logged run's
  final token there). Equal-width bins on [0, 1]; per bin the mean confidence, the
  empirical agreement and the count; ECE = sum_b (count_b / N) |agree_b - conf_b|.
* :func:`compute_margin_calibration`: per replayed step, the Fréchet margin G_n and the
  tight margin G*_n of the committed set against whether *every* committed token agrees
  with the final tokens (joint agreement); bins on [-1, 1]; per bin also the mean
  joint lower bound L_n = max(0, 1 - sum r).

Agreement with the final token is agreement with what the run itself went on to write,
not correctness against a reference: it is what a rule committing earlier would change.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from realmodel.replay import Replay, stack_steps
from realmodel.trace import Trace

__all__ = ["confidence_observations", "compute_reliability", "compute_margin_calibration",
           "binned"]


def confidence_observations(trace: Trace) -> tuple[np.ndarray, np.ndarray]:
    """(c, agree): flat float64 confidences and bools over every (step, masked position)
    of sequences with a final row."""
    steps = list(trace.steps())
    final = {f["sequence"]: np.asarray(f["generated"]) for f in trace.sequences()}
    profile, positions = stack_steps(steps)
    c, agree = [], []
    for i, st in enumerate(steps):
        gen = final.get(st.sequence)
        if gen is None:
            continue
        k = len(st.c)
        c.append(profile.c[i, :k])
        agree.append(gen[positions[i, :k]] == profile.tokens[i, :k])
    if not c:
        return np.zeros(0), np.zeros(0, bool)
    return np.concatenate(c), np.concatenate(agree)


def binned(x: np.ndarray, y: np.ndarray, edges: np.ndarray) -> dict[str, np.ndarray]:
    """Per bin of ``x`` (right-open, last bin closed; values outside go to the end bins):
    mean x, mean y (NaN for empty bins), count.

    >>> t = binned(np.array([0.1, 0.15, 0.9]), np.array([0, 1, 1]), np.linspace(0, 1, 3))
    >>> t["mean_y"].tolist(), t["count"].tolist()
    ([0.5, 1.0], [2, 1])
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    b = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
    count = np.bincount(b, minlength=len(edges) - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_x = np.bincount(b, x, len(edges) - 1) / count
        mean_y = np.bincount(b, y, len(edges) - 1) / count
    return {"edges": edges, "mean_x": mean_x, "mean_y": mean_y, "count": count}


def compute_reliability(trace: Trace, bins: int = 10) -> dict[str, Any]:
    """Reliability table of confidence vs agreement with the final token.

    Returns edges (bins+1,), mean_confidence, agreement (bins,) float (NaN if empty),
    count (bins,) int, ece (float), n (observations).
    """
    if bins < 1:
        raise ValueError(f"bins must be >= 1, got {bins}")
    c, agree = confidence_observations(trace)
    t = binned(c, agree, np.linspace(0.0, 1.0, bins + 1))
    n = len(c)
    gap = np.where(t["count"] > 0, np.abs(t["mean_y"] - t["mean_x"]), 0.0)
    ece = float(np.sum(t["count"] * gap) / n) if n else float("nan")
    return {"edges": t["edges"], "mean_confidence": t["mean_x"], "agreement": t["mean_y"],
            "count": t["count"], "ece": ece, "n": n}


def compute_margin_calibration(replay: Replay, bins: int = 10) -> dict[str, dict[str, Any]]:
    """Fréchet (``frechet``: G_n) and tight (``tight``: G*_n) margins of each replayed
    step's committed set vs the observed joint agreement of that set, binned on [-1, 1].

    Each table: edges (bins+1,), mean_margin, mean_L, joint_agreement (bins,), count.
    """
    if bins < 1:
        raise ValueError(f"bins must be >= 1, got {bins}")
    live = replay.column("n") > 0 if replay.records else np.zeros(0, bool)
    joint = replay.column("joint_agree").astype(float)[live] if replay.records \
        else np.zeros(0)
    L = replay.column("L")[live] if replay.records else np.zeros(0)
    edges = np.linspace(-1.0, 1.0, bins + 1)
    out: dict[str, dict[str, Any]] = {}
    for name, field in (("frechet", "G"), ("tight", "G_star")):
        g = replay.column(field)[live] if replay.records else np.zeros(0)
        t = binned(g, joint, edges)
        mean_L = binned(g, L, edges)["mean_y"]
        out[name] = {"edges": edges, "mean_margin": t["mean_x"], "mean_L": mean_L,
                     "joint_agreement": t["mean_y"], "count": t["count"], "n": int(len(g))}
    return out
