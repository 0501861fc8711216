"""Fuzz: ``paradec certify`` with bad argv, values and files exits 2 with a one-line
message naming the problem, and valid input still exits 0."""

from __future__ import annotations

import io
import math
import tempfile
import zipfile
from pathlib import Path

import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st

from tests.fuzz.cli import assert_usage_error, run_cli
from theory import domains

TOKENS = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr),
                   st.sampled_from(["abc", "", " ", "1e400", "0x1", "nan", "-inf", "1,5", "½"]))


def _expected(tokens: list[str]) -> str | None:
    """The phrase certify's error must contain, or None when the input is valid."""
    text = ",".join(tokens)
    try:
        values = [float(t) for t in text.split(",") if t.strip()]
    except ValueError:
        return "comma-separated numbers"
    if not values:
        return "is empty"
    if any(math.isnan(v) for v in values):
        return "NaN"
    if any(not 0 <= v <= 1 for v in values):
        return "[0, 1]"
    return None


@given(st.lists(TOKENS, max_size=6))
@example(["0.99", "0.95", "0.82", "0.78", "0.74"])
@example(["1.0", "1.0"])
@example(["0.4"])
@example(["-0.5", "0.3"])
def test_certify_names_bad_confidences_and_accepts_good_ones(tokens):
    result = run_cli(["certify", "--confidences=" + ",".join(tokens), "--json"])
    phrase = _expected(tokens)
    if phrase is None:
        assert result[0] == 0, result
    else:
        assert_usage_error(result, phrase)


PARAMS = {"--tau": domains.TAU, "--factor": domains.FACTOR, "--delta": domains.DELTA,
          "--gamma": domains.GAMMA}


@given(st.sampled_from(sorted(PARAMS)),
       st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.floats(-2.0, 2.0)))
@example("--tau", 1.0)
@example("--factor", 0.0)
@example("--delta", -1.0)
def test_certify_names_out_of_domain_rule_parameters(flag, value):
    result = run_cli(["certify", "--confidences=0.9,0.8", "--entropy=0.3,0.5",
                      f"{flag}={value!r}", "--json"])
    domain = PARAMS[flag]
    if domain.contains(value):
        assert result[0] == 0, result
    else:
        assert_usage_error(result, f"{domain.name} = ", "outside its domain")


@given(st.one_of(st.integers(-10**20, 10**20).map(str),
                 st.sampled_from(["1.5", "one", "", "1e3", "nan"])))
@example("0")
@example("3")
def test_certify_names_a_bad_quota(k):
    result = run_cli(["certify", "--confidences=0.9,0.8", f"--k={k}"])
    try:
        value = int(k)
    except ValueError:
        assert_usage_error(result, "--k", "invalid int value")
        return
    if value >= 1:
        assert result[0] == 0, result
    else:
        assert_usage_error(result, "k = ")


@st.composite
def npz_inputs(draw):
    """(bytes of a file, the phrase its error names, or None when it is valid)."""
    kind = draw(st.sampled_from(["junk", "empty", "zip", "no c", "extra", "shape", "nan",
                                 "object", "valid", "valid"]))
    if kind == "junk":
        return draw(st.binary(max_size=200)), "cannot read"
    if kind == "empty":
        return b"", "cannot read"
    buffer = io.BytesIO()
    rows, m = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    c = np.asarray(draw(st.lists(st.floats(0.5, 1.0), min_size=rows * m,
                                 max_size=rows * m))).reshape(rows, m)
    arrays, phrase = {"c": c}, None
    if kind == "zip":
        with zipfile.ZipFile(buffer, "w") as z:
            z.writestr("c.npy", b"not an npy")
        buffer.seek(0)
        return buffer.read(), "cannot read"
    if kind == "no c":
        arrays, phrase = {"confidence": c}, "no array 'c'"
    elif kind == "extra":
        arrays["tau"], phrase = np.ones(1), "unexpected array 'tau'"
    elif kind == "shape":
        arrays["c"], phrase = c.reshape(-1), "rows x m"
    elif kind == "nan":
        c[0, 0], phrase = np.nan, "NaN"
    elif kind == "object":
        arrays["c"], phrase = c.astype(object), "cannot read"
    np.savez(buffer, **arrays)
    buffer.seek(0)
    return buffer.read(), phrase


@given(npz_inputs())
def test_certify_names_a_bad_input_file(case):
    data, phrase = case
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "batch.npz"
        path.write_bytes(data)
        result = run_cli(["certify", "--input", str(path), "--json"])
    if phrase is None:
        assert result[0] == 0, result
    else:
        assert_usage_error(result, phrase)


def test_certify_names_missing_and_folder_inputs(tmp_path):
    assert_usage_error(run_cli(["certify", "--input", str(tmp_path / "none.npz")]),
                       "no such input file")
    assert_usage_error(run_cli(["certify", "--input", str(tmp_path)]), "cannot read")
    assert_usage_error(run_cli(["certify", "--marginals", str(tmp_path / "x.npy"),
                                "--exact"]), "no such marginals file")


FLAGS = ["--confidences", "--runner-up", "--entropy", "--k", "--tau", "--factor", "--delta",
         "--gamma", "--input", "--marginals", "--exact", "--json", "--bogus", "-x"]
VALUES = st.one_of(TOKENS, st.lists(TOKENS, min_size=1, max_size=3).map(",".join),
                   st.text(max_size=8))


@given(st.lists(st.one_of(st.sampled_from(FLAGS), VALUES), max_size=8))
@example(["--confidences", "0.0", "\r0"])  # a line break in the user's text: still one line
@example(["--confidences", "0.5\u2028"])
def test_certify_never_shows_a_traceback(argv):
    code, _, err = run_cli(["certify", *argv])
    assert "Traceback" not in err
    assert code in (0, 2), (code, err)
    if code == 2:
        assert_usage_error((code, "", err))
