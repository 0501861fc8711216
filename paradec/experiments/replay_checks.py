"""Report section on the static trace: exact replay, counterfactual rules, calibration, fits.

- :func:`check_replay`: replaying the logged rule must reproduce every logged decision
  (the report fails otherwise).
- counterfactual replay of the sweep's rules on the logged states (labelled so: after the
  first step where a rule's decision differs, the states are ones it would not reach).
- calibration (realmodel.replay.calibration): reliability of the confidences against the
  final tokens (ECE) and margins of every confidence prefix against joint agreement.
- fits of simulate's profile generators (realmodel.replay.fit).
"""

from __future__ import annotations

from typing import Any

from paradec.experiments.options import ReportOptions

__all__ = ["check_replay", "replay_section"]

Context = dict[str, Any]


def check_replay(trace: Any) -> dict[str, Any]:
    """Replay the logged rule on ``trace`` (a realmodel Trace): ``ok`` iff every logged step's
    decision is reproduced. Returns steps, mismatches and the first mismatching
    (sequence, step) or None."""
    from realmodel.replay import LOGGED, replay

    rep = replay(trace, LOGGED)
    bad = [(r.sequence, r.step) for r in rep.records if not r.same_as_logged]
    return {"rule": rep.label, "steps": len(rep.records), "mismatches": len(bad),
            "first_mismatch": bad[0] if bad else None, "ok": not bad and bool(rep.records)}


def replay_section(opts: ReportOptions, ctx: Context) -> dict[str, Any]:
    """Exact replay check, counterfactual summaries, calibration and profile fits."""
    from paradec._json import jsonable
    from paradec.experiments.model import sweep_rules
    from realmodel.replay import replay_all
    from realmodel.replay.calibration import calibration_summary
    from realmodel.replay.fit import fit_trace

    trace = ctx["trace"]
    exact = check_replay(trace)
    counterfactual = []
    for rep in replay_all(trace, sweep_rules(opts.sweep)[1:]):
        s = rep.summary()
        counterfactual.append({k: s[k] for k in (
            "rule", "steps", "factual_steps", "sequences_diverging", "mean_tokens_per_step",
            "token_agreement", "joint_agreement", "approx_calls")})
    calibration = calibration_summary(trace)  # the reliability figure's data, computed once
    reliability, prefix = calibration["confidence"], calibration["margins"]
    fits = {k: f.describe() for k, f in fit_trace(trace).items()}
    ctx["reliability"] = calibration  # reused by the figures section
    line = (f"logged rule {exact['rule']} replayed on {exact['steps']} steps: "
            f"{exact['mismatches']} mismatches; ECE {reliability['ece']:.4f} over "
            f"{reliability['n']} (step, position) confidences")
    return jsonable({"exact": exact, "counterfactual": counterfactual,
                   "reliability": {k: reliability[k] for k in
                                   ("edges", "mean_confidence", "agreement", "count", "ece",
                                    "n")},
                   "prefix_calibration": prefix, "fits": fits, "ok": exact["ok"],
                   "line": line})
