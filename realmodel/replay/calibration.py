"""Calibration of a trace's confidences and margins against the tokens finally written.

Pure functions returning arrays in dicts (figures are drawn from them elsewhere).

* :func:`compute_reliability`: every (logged step, masked position) is one observation
  (confidence c, and whether that position's predicted token equals the logged run's
  final token there). Equal-width bins on [0, 1]; per bin the mean confidence, the
  empirical agreement and the count; ECE = sum_b (count_b / N) |agree_b - conf_b|.
* :func:`compute_margin_calibration`: per replayed step, the Fréchet margin G_n and the
  tight margin G*_n of the committed set against whether *every* committed token agrees
  with the final tokens (joint agreement); bins on [-1, 1]; per bin also the mean
  joint lower bound L_n = max(0, 1 - sum r). For the logged rule this is trivial (at
  temperature 0 a committed token is never changed, so joint agreement is 1); it is
  informative for another rule's (counterfactual) committed sets.
* :func:`compute_prefix_calibration`: the same for every confidence prefix (n = 1..m)
  at every logged state, the sets any prefix rule could commit there.

Agreement with the final token is agreement with what the run itself went on to write,
not correctness against a reference: it is what a rule committing earlier would change.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from realmodel.replay import Replay, stack_steps
from realmodel.trace import Trace
from theory import margins, sorted_profile

__all__ = ["confidence_observations", "compute_reliability", "calibration_summary",
           "compute_margin_calibration",
           "compute_prefix_calibration", "prefix_observations", "binned"]


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
    if not replay.records:
        empty = np.zeros(0)
        return _margin_tables(empty, empty, empty, empty.astype(bool), bins)
    live = replay.column("n") > 0
    return _margin_tables(replay.column("G")[live], replay.column("G_star")[live],
                          replay.column("L")[live], replay.column("joint_agree")[live], bins)


def prefix_observations(trace: Trace) -> dict[str, np.ndarray]:
    """Every confidence prefix of every logged state (sequences with a final row): flat
    arrays n, L, G (Fréchet G_n), G_star (tight G*_n) and joint (bool: the top-n tokens
    all equal the final tokens). Order: confidence descending, ties by position."""
    steps = list(trace.steps())
    final = {f["sequence"]: np.asarray(f["generated"]) for f in trace.sequences()}
    keep = [st for st in steps if st.sequence in final]
    names = ("n", "L", "G", "G_star", "joint")
    if not keep:
        return {k: np.zeros(0) for k in names}
    profile, positions = stack_steps(keep)
    sp = sorted_profile(profile)
    r, s, sv = sp.r, sp.s, sp.valid  # padding sorts last; only valid prefixes are kept
    gen = np.stack([np.pad(final[st.sequence], (0, 1), constant_values=-1) for st in keep])
    agree = sp.gather(np.take_along_axis(gen, positions, -1) == profile.tokens)
    joint = np.cumprod(agree, axis=-1).astype(bool)
    n = np.broadcast_to(np.arange(1, r.shape[-1] + 1), r.shape)
    return {"n": n[sv], "L": margins.joint_lower_bound(r)[sv],
            "G": margins.frechet_margin(r)[sv], "G_star": margins.tight_margin(r, s)[sv],
            "joint": joint[sv]}


def compute_prefix_calibration(trace: Trace, bins: int = 10) -> dict[str, dict[str, Any]]:
    """Fréchet and tight margins of every confidence prefix at every logged state vs the
    observed joint agreement of that prefix with the final tokens, binned on [-1, 1].

    Tables as :func:`compute_margin_calibration`'s (keys ``frechet``, ``tight``).
    """
    if bins < 1:
        raise ValueError(f"bins must be >= 1, got {bins}")
    obs = prefix_observations(trace)
    return _margin_tables(obs["G"], obs["G_star"], obs["L"], obs["joint"], bins)


def _margin_tables(G: np.ndarray, G_star: np.ndarray, L: np.ndarray, joint: np.ndarray,
                   bins: int) -> dict[str, dict[str, Any]]:
    edges = np.linspace(-1.0, 1.0, bins + 1)
    out: dict[str, dict[str, Any]] = {}
    for name, g in (("frechet", G), ("tight", G_star)):
        t = binned(g, joint.astype(float), edges)
        out[name] = {"edges": edges, "mean_margin": t["mean_x"],
                     "mean_L": binned(g, L, edges)["mean_y"], "joint_agreement": t["mean_y"],
                     "count": t["count"], "n": int(len(g))}
    return out


def calibration_summary(trace: Trace, bins: int = 10) -> dict[str, Any]:
    """``{"bins", "confidence": compute_reliability, "margins": compute_prefix_calibration}``
    (what the report's replay section and the reliability figure show)."""
    return {"bins": bins, "confidence": compute_reliability(trace, bins),
            "margins": compute_prefix_calibration(trace, bins)}
