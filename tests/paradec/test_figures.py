"""Each figure's compute step gives the right numbers on small inputs; each plot step
writes a PNG."""

import numpy as np
import pytest

from paradec.figures import FIGURES, style
from paradec.figures.accuracy_vs_speed import compute_accuracy_vs_speed, plot_accuracy_vs_speed
from paradec.figures.bonus import bonus_arrays, compute_bonus, plot_bonus
from paradec.figures.freedave_subset import compute_freedave_subset, plot_freedave_subset
from paradec.figures.freedave_vs_K import compute_freedave_vs_K, plot_freedave_vs_K
from paradec.figures.margins_along_profile import (
    compute_margins_along_profile,
    plot_margins_along_profile,
)
from paradec.figures.reliability import compute_reliability, plot_reliability
from paradec.figures.violations_vs_dependence import (
    compute_violations_vs_dependence,
    plot_violations_vs_dependence,
)
from theory import Frechet, TightCertificate, commit, profile_from_confidences

PNG = b"\x89PNG\r\n\x1a\n"


def _row(label, rule, value, tpc, acc):
    return {"label": label, "rule": rule, "value": value, "tokens_per_call": tpc,
            "accuracy": acc, "accuracy_se": 0.01, "answer_agreement": acc,
            "answer_agreement_se": 0.01, "token_agreement": acc}


def _is_png(path):
    data = path.read_bytes()
    return data[:8] == PNG and len(data) > 5000


def test_accuracy_vs_speed_groups_rows_by_rule_sorted_by_tokens_per_call(tmp_path):
    rows = [_row("static", "quota", 1, 1.0, 0.95), _row("threshold(tau=0.7)", "threshold",
            0.7, 6.0, 0.8), _row("threshold(tau=0.9)", "threshold", 0.9, 4.0, 0.9),
            _row("quota(k=2)", "quota", 2, 2.0, 0.93)]
    data = compute_accuracy_vs_speed(rows)
    assert data["static"]["accuracy"] == 0.95 and data["has_accuracy"]
    assert [p["value"] for p in data["curves"]["threshold"]] == [0.9, 0.7]
    assert [p["tokens_per_call"] for p in data["curves"]["quota"]] == [1.0, 2.0]
    assert _is_png(plot_accuracy_vs_speed(style.jsonable(data), tmp_path / "a.png"))


def test_accuracy_vs_speed_needs_exactly_one_static_row():
    with pytest.raises(ValueError, match="static"):
        compute_accuracy_vs_speed([_row("quota(k=2)", "quota", 2, 2.0, 0.9)])


def test_freedave_predicted_calls_equal_measured_calls_on_the_shipped_model(small_context,
                                                                               tmp_path):
    data = compute_freedave_vs_K(small_context["freedave_rows"])
    static = small_context["static_result"].sequence_steps
    assert data["static_calls"] == static
    for r in data["rows"]:
        assert r["identical"]
        assert r["predicted_calls"] == r["measured_calls"]
        assert r["acceptance_predicted"] == r["acceptance_measured"]
        assert sum(a * c for a, c in zip(r["acceptance_measured"]["lengths"],
                                         r["acceptance_measured"]["counts"], strict=True)) == static
    assert data["rows"][0]["K"] == 1 and data["rows"][0]["measured_calls"] == static
    assert _is_png(plot_freedave_vs_K(style.jsonable(data), tmp_path / "f.png"))


def test_bonus_extra_tokens_are_never_negative_and_match_the_rules(small_context, tmp_path):
    trace = small_context["trace"]
    a = bonus_arrays(trace, delta=0.1)
    assert np.all(a["n_tight"] >= a["n_frechet"]) and np.all(a["n_frechet"] >= a["n_factor"])
    assert np.all(a["heterogeneity"] >= 0) and np.all(a["m"] >= 2)
    data = compute_bonus(trace, delta=0.1)
    extra = data["extra_frechet_over_factor"]
    assert sum(extra["counts"]) == data["steps"] == len(a["m"])
    assert data["mean_n"]["n_frechet"] == pytest.approx(float(np.mean(a["n_frechet"])))
    assert _is_png(plot_bonus(style.jsonable(data), tmp_path / "b.png"))


def test_margins_along_profile_mark_the_n_each_certificate_commits(small_context, tmp_path):
    data = compute_margins_along_profile(small_context["trace"], seed=0, steps=3, delta=0.1)
    assert len(data["steps"]) == 3
    for st in data["steps"]:
        G, Gs = np.asarray(st["G"]), np.asarray(st["G_star"])
        assert np.all(Gs >= G - 1e-12)
        p = profile_from_confidences(st["c_sorted"])
        assert st["n_frechet"] == int(commit(Frechet(0.1), p).n[0])
        assert st["n_tight"] == int(commit(TightCertificate(0.1), p).n[0])
    again = compute_margins_along_profile(small_context["trace"], seed=0, steps=3)
    assert [s["step"] for s in again["steps"]] == [s["step"] for s in data["steps"]]
    assert _is_png(plot_margins_along_profile(style.jsonable(data), tmp_path / "m.png"))


def test_reliability_bins_count_every_observation(small_context, tmp_path):
    data = compute_reliability(small_context["trace"], bins=10)
    conf = data["confidence"]
    steps = list(small_context["trace"].steps())
    assert int(np.sum(conf["count"])) == conf["n"] == sum(len(s.c) for s in steps)
    assert 0.0 <= conf["ece"] <= 1.0
    assert data["margins"]["frechet"]["n"] == conf["n"]
    assert _is_png(plot_reliability(style.jsonable(data), tmp_path / "r.png"))


def test_violation_curves_keep_rates_and_certified_flags(tmp_path):
    rows = [{"rho": rho, "rule": rule, "label": label, "certified": cert,
             "violation_rate": rate, "violation_rate_se": 0.01, "violation_rate_ci_low": 0.0,
             "violation_rate_ci_high": rate + 0.02, "multi_commits": 100}
            for rho in (0.5, 0.0)
            for rule, label, cert, rate in (("frechet", "frechet(delta=0.0)", True, 0.0),
                                            ("entropy", "entropy(gamma=2.0)", False, rho / 5))]
    data = compute_violations_vs_dependence(rows)
    curves = {c["label"]: c for c in data["curves"]}
    assert curves["entropy(gamma=2.0)"]["rho"] == [0.0, 0.5]
    assert curves["entropy(gamma=2.0)"]["rate"] == [0.0, 0.1]
    assert data["certified_max_rate"] == 0.0 and curves["frechet(delta=0.0)"]["certified"]
    assert _is_png(plot_violations_vs_dependence(style.jsonable(data), tmp_path / "v.png"))


def test_freedave_subset_keeps_each_methods_calls_and_counts_every_violation(tmp_path):
    from simulate.studies import freedave_subset

    rows = freedave_subset(2, 0, rhos=(0.5, 0.75), rules=(("tight", 0.0),), models=2, V=5,
                           gen_length=8, block_length=4, show_progress=False).rows
    data = compute_freedave_subset(style.jsonable(rows))
    at = {(r["rho"], r["method"]): r for r in rows}
    (tight,) = data["rules"]
    assert data["rho"] == [0.5, 0.75] and tight["label"] == "tight(delta=0.0)"
    for method in ("rule", "exact", "subset"):
        assert tight["calls"][method] == [at[(rho, method)]["calls"] for rho in data["rho"]]
    assert data["static_calls"] == [8.0, 8.0]
    assert data["certificate_violations"] == 0 and data["certified_sets"] == sum(
        at[(rho, "subset")]["certified"] for rho in data["rho"])
    assert _is_png(plot_freedave_subset(style.jsonable(data), tmp_path / "s.png"))


def test_every_figure_module_has_compute_and_plot():
    import importlib

    for name in FIGURES:
        module = importlib.import_module(f"paradec.figures.{name}")
        assert callable(getattr(module, f"compute_{name}"))
        assert callable(getattr(module, f"plot_{name}"))


def test_jsonable_turns_arrays_and_nan_into_json_values():
    assert style.jsonable({"a": np.array([1.0, np.nan]), 2: np.int64(3)}) == \
        {"a": [1.0, None], "2": 3}


def test_a_figure_module_runs_alone_on_the_embedded_defaults(tmp_path):
    from paradec.figures import _defaults

    code = _defaults.main("margins_along_profile", ("trace",),
                          lambda ctx, seed: compute_margins_along_profile(ctx["trace"], seed),
                          plot_margins_along_profile,
                          ["--problems", "3", "--out", str(tmp_path)])
    assert code == 0
    assert _is_png(tmp_path / "margins_along_profile.png")
    assert style.load_json(tmp_path / "margins_along_profile.json")["seed"] == 0
