"""``paradec replay`` end to end on a tiny-random trace, and bad input (exit status 2)."""

import json

import pyarrow.parquet as pq
import pytest

from paradec.cli import main
from realmodel.trace import METADATA_KEY


@pytest.fixture(scope="module")
def trace_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "t.parquet"
    assert main(["decode", "--model", "tiny-random", "--rule", "threshold", "--tau", "0.5",
                 "--block", "8", "--gen-length", "16", "--batch-size", "2", "--limit", "2",
                 "--trace", str(path), "--progress", "off"]) == 0
    return path


def test_default_replay_covers_the_logged_rule_and_every_rule_sweep(trace_path, capsys):
    capsys.readouterr()
    assert main(["replay", str(trace_path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    names = [s["rule"] for s in out["rules"]]
    assert names[0] == "logged threshold(tau=0.5)"
    for rule in ("quota", "threshold", "factor", "frechet", "tight", "entropy"):
        assert sum(n.startswith(rule + "(") for n in names) == 3
    logged = out["rules"][0]
    assert logged["same_as_logged"] == 1.0 and logged["sequences_diverging"] == 0
    assert logged["approx_calls"] == logged["logged_calls"] == out["steps"]


def test_rules_values_records_calibration_and_fit(trace_path, capsys):
    capsys.readouterr()
    assert main(["replay", str(trace_path), "--rule", "frechet", "--value", "0.1",
                 "--value", "0.3", "--rule", "quota", "--value", "2", "--rule", "logged",
                 "--calibration", "--bins", "5", "--fit", "--records", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [s["rule"] for s in out["rules"]] == [
        "frechet(delta=0.1)", "frechet(delta=0.3)", "quota(k=2)", "logged threshold(tau=0.5)"]
    assert len(out["records"]["quota(k=2)"]) == out["steps"]
    assert set(out["counterfactual_from"]["quota(k=2)"]) == {"0", "1"}
    rel = out["calibration"]["reliability"]
    assert len(rel["count"]) == 5 and sum(rel["count"]) == rel["n"] > 0
    assert 0.0 <= rel["ece"] <= 1.0
    assert set(out["calibration"]["margins"]) == {"frechet", "tight"}
    assert {"lognormal", "two_level"} <= set(out["fit"])


def test_the_text_output_labels_counterfactual_numbers(trace_path, capsys):
    capsys.readouterr()
    assert main(["replay", str(trace_path), "--rule", "quota", "--value", "1",
                 "--calibration"]) == 0
    text = capsys.readouterr().out
    assert "counterfactual" in text and "quota(k=1)" in text and "ECE" in text


def test_bad_input_exits_2_with_a_clear_message(trace_path, tmp_path, capsys):
    junk = tmp_path / "junk.parquet"
    junk.write_text("not parquet")
    table = pq.read_table(trace_path)
    meta = json.loads(table.schema.metadata[METADATA_KEY])
    old = tmp_path / "old.parquet"
    pq.write_table(table.replace_schema_metadata(
        {METADATA_KEY: json.dumps({**meta, "schema_version": 99})}), old)
    cases = [([str(tmp_path / "none.parquet")], "no trace at"),
             ([str(junk)], "not a readable Parquet"),
             ([str(old)], "schema version 99"),
             ([str(trace_path), "--rule", "quota", "--value", "1.5"], "integer"),
             ([str(trace_path), "--rule", "threshold", "--value", "2"], "tau"),
             ([str(trace_path), "--rule", "logged", "--value", "2"], "does not apply"),
             ([str(trace_path), "--bins", "0"], "bins")]
    for argv, message in cases:
        capsys.readouterr()
        assert main(["replay", *argv]) == 2, argv
        err = capsys.readouterr().err
        assert "paradec replay: error:" in err and message in err, (argv, err)


@pytest.mark.parametrize("draft", ["nested", "tree"])
def test_replay_predicts_the_calls_of_a_real_freedave_decode(tmp_path, capsys, draft):
    common = ["--model", "tiny-random", "--rule", "quota", "--k", "1", "--block", "8",
              "--gen-length", "16", "--cache", "dual", "--limit", "2", "--progress", "off",
              "--json"]
    assert main(["decode", *common, "--trace", str(tmp_path / "static.parquet")]) == 0
    capsys.readouterr()
    assert main(["decode", *common, "--freedave", "4", "--draft", draft,
                 "--trace", str(tmp_path / "fd.parquet")]) == 0
    real = json.loads(capsys.readouterr().out)
    assert main(["replay", str(tmp_path / "static.parquet"), "--rule", "logged",
                 "--freedave", "4", "--draft", draft, "--json"]) == 0
    predicted = json.loads(capsys.readouterr().out)["freedave"]
    assert predicted["per_sequence"] == [s["calls"] for s in real["sequences"]]
