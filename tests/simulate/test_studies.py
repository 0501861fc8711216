"""The Monte Carlo studies and the ``paradec simulate`` command."""

import argparse
import json
import subprocess
import sys

import pytest

from paradec.commands import simulate as command
from simulate.studies import STUDIES, format_table, write_result

TINY = {"certificates": {"rhos": (0.5,), "rules": (("threshold", 0.3), ("frechet", 0.0))},
        "frontier": {"rhos": (0.5,), "sweep": {"quota": (1, 2), "tight": (0.0,)}},
        "bonus": {"rhos": (0.5,), "sigmas": (1.0,), "spread_lows": (0.5,)},
        "conservatism": {"rhos": (0.5,), "rules": (("tight", 0.0), ("threshold", 0.5))},
        "freedave_subset": {"rhos": (0.5,), "rules": (("tight", 0.0),)}}
SHAPE = {"models": 2, "V": 5, "gen_length": 8, "block_length": 4, "show_progress": False}


def _run(name, seed=0, n=4):
    return STUDIES[name](n, seed, **TINY[name], **SHAPE)


@pytest.mark.parametrize("name", sorted(STUDIES))
def test_each_study_writes_its_table_with_seed_parameters_and_version(name, tmp_path):
    result = _run(name)
    assert result.rows and result.ok, result.checks
    csv_path, json_path = write_result(result, tmp_path)
    doc = json.loads(json_path.read_text())
    assert doc["params"]["seed"] == 0 and doc["params"]["n"] == 4
    assert doc["meta"]["paradec"] and doc["meta"]["numpy"]
    header = csv_path.read_text().splitlines()[0].split(",")
    assert header == list(result.rows[0]) and len(doc["rows"]) == len(result.rows)
    assert any(c.endswith("_se") for c in header)
    assert format_table(result).count("\n") == len(result.rows)


@pytest.mark.parametrize("name", ["certificates", "conservatism"])
def test_equal_seeds_give_equal_bytes_and_other_seeds_other_tables(name, tmp_path):
    paths = [write_result(_run(name, seed), tmp_path / str(i))[0]
             for i, seed in enumerate((3, 3, 5))]
    first, again, other = (p.read_bytes() for p in paths)
    assert first == again and first != other


def test_certificates_counts_violations_only_where_the_theory_allows_them():
    result = STUDIES["certificates"](16, 2, rhos=(0.5,), models=4, V=6, gen_length=12,
                                     block_length=6, show_progress=False,
                                     rules=(("threshold", 0.3), ("tight", 0.0)))
    loose, tight = result.rows
    assert not loose["certified"] and tight["certified"]
    assert tight["violations"] == 0 and tight["multi_commits"] > 0
    assert loose["violations"] > 0 and 0 < loose["violation_rate"] <= 1
    assert loose["violation_rate_ci_low"] <= loose["violation_rate"] <= loose[
        "violation_rate_ci_high"]


def _parse(argv):
    parser = argparse.ArgumentParser(prog="paradec")
    command.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["simulate", *argv])


def test_the_command_runs_a_study_and_writes_its_files(tmp_path, capsys):
    args = _parse(["bonus", "--n", "2", "--seed", "5", "--out", str(tmp_path), "--no-progress"])
    assert args.run(args) == 0
    out = capsys.readouterr().out
    assert "extra_from_heterogeneity" in out and "check PASS" in out
    doc = json.loads((tmp_path / "bonus.json").read_text())
    assert doc["params"]["seed"] == 5 and (tmp_path / "bonus.csv").exists()


def test_the_command_refuses_a_bad_n():
    args = _parse(["bonus", "--n", "0"])
    with pytest.raises(ValueError, match="--n"):
        args.run(args)


def test_the_paradec_entry_point_lists_simulate(tmp_path):
    from paradec.cli import main

    assert main(["simulate", "bonus", "--n", "1", "--out", str(tmp_path), "--no-progress"]) == 0


def test_simulate_never_loads_torch():
    code = ("import sys, simulate, simulate.studies, simulate.strategies, "
            "paradec.commands.simulate; print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
