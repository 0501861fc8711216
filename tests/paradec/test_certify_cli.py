"""`paradec certify`: the worked example, batched input, exact LP mode, and bad input."""

import json

import numpy as np
import pytest

from paradec.cli import main

EXAMPLE = "0.99,0.95,0.82,0.78,0.74"


def certify_json(capsys, *argv):
    assert main(["certify", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_certify_reproduces_the_papers_worked_example(capsys):
    out = certify_json(capsys, "--confidences", EXAMPLE, "--factor", "0.7", "--delta", "0.3")
    assert out["commits"]["factor(f=0.7)"] == 2
    assert out["commits"]["frechet(delta=0.3)"] == 4
    assert out["margins"]["G"][3] == pytest.approx(0.32)


def test_certify_table_is_printed_by_default(capsys):
    assert main(["certify", "--confidences", EXAMPLE]) == 0
    text = capsys.readouterr().out
    assert "frechet(delta=0.0)" in text and "G*_n" in text


def test_certify_batch_gives_n_per_row_for_every_rule(tmp_path, capsys):
    c = np.array([[0.99, 0.95, 0.82, 0.78, 0.74], [0.5, 0.4, 0.3, 0.2, 0.1]])
    H = np.full_like(c, 0.01)
    valid = np.array([[True] * 5, [True, False, False, False, False]])
    path = tmp_path / "batch.npz"
    np.savez(path, c=c, H=H, valid=valid)
    out = certify_json(capsys, "--input", str(path), "--delta", "0.3", "--factor", "0.7")
    assert set(out) == {"quota", "threshold", "factor", "frechet", "tight", "entropy"}
    assert out["frechet"] == [4, 1] and out["factor"] == [2, 1] and out["entropy"] == [5, 1]


def test_certify_batch_with_an_all_invalid_row_commits_nothing_there(tmp_path, capsys):
    path = tmp_path / "b.npz"
    np.savez(path, c=np.array([[0.9, 0.8], [0.7, 0.6]]),
             valid=np.array([[True, True], [False, False]]))
    out = certify_json(capsys, "--input", str(path))
    assert all(ns[1] == 0 for ns in out.values())


@pytest.mark.parametrize("argv, message", [
    (["--confidences", "0.9,nan"], "NaN"),
    (["--confidences", "0.9,1.2"], "[0, 1]"),
    (["--confidences", "0.9,0.8", "--runner-up", "0.05"], "shape"),
    (["--confidences", "0.6,0.8", "--runner-up", "0.7,0.1"], "c < s"),
    (["--confidences", "0.9,abc"], "comma-separated"),
    (["--confidences", ","], "empty"),
    (["--confidences", "0.9", "--delta", "2"], "delta"),
    (["--confidences", "0.9", "--factor", "-1"], "f = -1.0"),
    (["--input", "/nonexistent/file.npz"], "no such input file"),
])
def test_certify_rejects_bad_input_with_a_message_naming_the_problem(capsys, argv, message):
    assert main(["certify", *argv]) == 2
    assert message in capsys.readouterr().err


def test_certify_rejects_npz_without_c_or_with_empty_rows(tmp_path, capsys):
    np.savez(tmp_path / "a.npz", s=np.zeros((1, 2)))
    np.savez(tmp_path / "b.npz", c=np.zeros((2, 0)))
    (tmp_path / "c.npz").write_bytes(b"not a zip")
    assert main(["certify", "--input", str(tmp_path / "a.npz")]) == 2
    assert "no array 'c'" in capsys.readouterr().err
    assert main(["certify", "--input", str(tmp_path / "b.npz")]) == 2
    assert "non-empty" in capsys.readouterr().err
    assert main(["certify", "--input", str(tmp_path / "c.npz")]) == 2
    assert "cannot read" in capsys.readouterr().err
