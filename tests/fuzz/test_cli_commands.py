"""Fuzz: bad argv to ``paradec decode, replay, simulate, eval, train`` exits 2 with a
one-line message naming the problem, before any model is trained or decoded."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from realmodel.model.checkpoint import save_llada
from realmodel.model.tiny import random_llada, tiny_config
from tests.fuzz.cli import assert_usage_error, run_cli
from theory import RULES


@pytest.fixture(scope="module")
def trace(tmp_path_factory) -> str:
    """A small real trace: tiny-random, 4 built-in prompts, 8 tokens each."""
    path = tmp_path_factory.mktemp("trace") / "tiny.parquet"
    code, _, err = run_cli(["decode", "--model", "tiny-random", "--rule", "threshold",
                            "--tau", "0.5", "--gen-length", "8", "--trace", str(path)])
    assert code == 0, err
    return str(path)


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict[str, Path]:
    """Model folders that are broken in one way each."""
    root = tmp_path_factory.mktemp("models")
    good = save_llada(random_llada(tiny_config(d_model=32, n_heads=2, vocab_size=64), seed=0),
                      root / "good")
    made: dict[str, Path] = {"good": good}

    def folder(name: str) -> Path:
        made[name] = root / name
        made[name].mkdir()
        return made[name]

    folder("empty")
    (folder("bad json") / "config.json").write_text("{not json")
    (folder("json list") / "config.json").write_text("[1, 2]")
    config = json.loads((good / "config.json").read_text())
    (folder("config only") / "config.json").write_text(json.dumps(config))
    pickled = folder("pickle only")
    (pickled / "config.json").write_text(json.dumps(config))
    (pickled / "pytorch_model.bin").write_bytes(b"\x80\x04not really")
    trunc = folder("truncated")
    (trunc / "config.json").write_text(json.dumps(config))
    data = (good / "model.safetensors").read_bytes()
    (trunc / "model.safetensors").write_bytes(data[: len(data) // 2])
    escape = folder("index escapes")
    (escape / "config.json").write_text(json.dumps(config))
    (escape / "model.safetensors.index.json").write_text(
        json.dumps({"weight_map": {"a": "../good/model.safetensors"}}))
    typed = folder("string d_model")
    (typed / "config.json").write_text(json.dumps({**config, "d_model": "32"}))
    (typed / "model.safetensors").write_bytes(data)
    wrong = folder("wrong shapes")
    (wrong / "config.json").write_text(json.dumps({**config, "d_model": 64}))
    (wrong / "model.safetensors").write_bytes(data)
    made["a file"] = root / "file.json"
    made["a file"].write_text("{}")
    made["missing"] = root / "missing"
    return made


MODEL_ERRORS = {
    "missing": "not a folder", "a file": "not a folder", "empty": "has no config.json",
    "bad json": "is not valid JSON", "json list": "must hold a JSON object",
    "config only": "has neither", "pickle only": "never unpickles",
    "truncated": "not a readable safetensors file", "index escapes": "shards must be",
    "string d_model": "d_model must be a positive integer", "wrong shapes": "has shape",
}


@pytest.mark.parametrize("kind", sorted(MODEL_ERRORS))
def test_decode_names_what_is_wrong_with_a_model_folder(kind, folders, tmp_path):
    result = run_cli(["decode", "--model", str(folders[kind]), "--rule", "quota",
                      "--trace", str(tmp_path / "t.parquet")])
    assert_usage_error(result, MODEL_ERRORS[kind])


def test_decode_still_loads_the_good_folder(folders, tmp_path):
    prompts = tmp_path / "p.jsonl"
    prompts.write_text(json.dumps({"input_ids": [10, 11, 12]}) + "\n")
    code, _, err = run_cli(["decode", "--model", str(folders["good"]), "--rule", "quota",
                            "--prompts", str(prompts), "--gen-length", "4",
                            "--trace", str(tmp_path / "t.parquet")])
    assert code == 0, err


def test_decode_lists_every_model_name_for_an_unknown_model(tmp_path):
    from realmodel.shipped import SHIPPED

    line = assert_usage_error(run_cli(["decode", "--model", "/nope", "--rule", "quota",
                                       "--trace", str(tmp_path / "t.parquet")]), "not one of")
    for name in ("tiny-random", "antiberty", *SHIPPED):
        assert name in line, (name, line)


PARAM_FLAGS = {"k": "quota", "tau": "threshold", "f": "factor", "delta": "frechet",
               "gamma": "entropy"}


@pytest.mark.parametrize("value", ["nan", "inf"])
def test_decode_names_a_non_finite_quota(value):
    result = run_cli(["decode", "--model", "/nonexistent/model", "--rule", "quota",
                      f"--k={value}", "--trace", "/nonexistent/t.parquet"])
    assert_usage_error(result, "k must be an integer")


@given(st.sampled_from(sorted(RULES)), st.sampled_from(sorted(PARAM_FLAGS)),
       st.floats(allow_nan=True, allow_infinity=True))
@example("quota", "k", 0.0)
@example("quota", "k", 2.5)
@example("threshold", "tau", 1.5)
@example("factor", "f", -1.0)
def test_decode_names_a_bad_rule_parameter_before_loading_a_model(trace, rule, flag, value):
    out = Path(trace).with_name("never-written.parquet")  # a writable folder, also as non-root
    result = run_cli(["decode", "--model", "/nonexistent/model", "--rule", rule,
                      f"--{flag}={value!r}", "--trace", str(out)])
    cls = RULES[rule]
    if flag != cls.parameter:
        assert_usage_error(result, f"--{flag} is not a parameter of the {rule} rule")
        return
    line = assert_usage_error(result)
    if rule == "quota" and (not math.isfinite(value) or value != int(value)):
        assert "k must be an integer" in line or "--k must be an integer" in line, line
        return
    try:
        cls(int(value) if rule == "quota" else value)
    except ValueError:
        assert f"{cls.parameter} = " in line, line
    else:  # a valid rule: the failure is the missing model, named
        assert "--model '/nonexistent/model'" in line, line


@pytest.mark.parametrize(("argv", "phrase"), [
    (["--batch-size", "0"], "--batch-size must be >= 1"),
    (["--gen-length", "-3"], "--gen-length must be >= 1"),
    (["--block", "7"], "not a multiple of block_length=7"),
    (["--temperature", "nan"], "temperature must be finite"),
    (["--device", "tpu:9"], "unknown device 'tpu:9'"),
    (["--dtype", "float8"], "invalid choice: 'float8'"),
    (["--draft", "tree"], "--draft, --verify and --freedave-accept need --freedave K"),
    (["--freedave-accept", "subset"], "--freedave-accept need --freedave K"),
    (["--steps", "3", "--block", "8"], "steps=3 must be a positive multiple"),
    (["--fastdllm-quirks"], "--fastdllm-quirks applies to the factor rule only"),
    (["--gen-length", "4000"], "exceeds the context of model"),
    (["--prompts", "/nonexistent.jsonl"], "prompt file /nonexistent.jsonl does not exist"),
])
def test_decode_names_bad_options(argv, phrase, tmp_path):
    result = run_cli(["decode", "--model", "tiny-random", "--rule", "quota",
                      "--trace", str(tmp_path / "t.parquet"), *argv])
    assert_usage_error(result, phrase)


def test_decode_refuses_a_prompt_longer_than_the_context(tmp_path):
    prompts = tmp_path / "long.jsonl"
    prompts.write_text(json.dumps({"input_ids": [5] * 2040}) + "\n")
    result = run_cli(["decode", "--model", "tiny-random", "--rule", "quota", "--prompts",
                      str(prompts), "--gen-length", "16", "--trace", str(tmp_path / "t.parquet")])
    assert_usage_error(result, "= 2056 exceeds the context", "2048 positions")
    assert not any(tmp_path.glob("t.parquet*")), "a refused run must not leave a trace"


@pytest.mark.parametrize(("argv", "phrase"), [
    (["--n", "0"], "--n must be >= 1"), (["--n", "-7"], "--n must be >= 1"),
    (["--seed", "-1"], "--seed must be >= 0"), (["--n", "x"], "invalid int value"),
])
def test_simulate_names_bad_options(argv, phrase, tmp_path):
    assert_usage_error(run_cli(["simulate", "bonus", "--out", str(tmp_path), *argv]), phrase)
    assert not any(tmp_path.iterdir())


def test_simulate_names_an_unknown_study():
    assert_usage_error(run_cli(["simulate", "nope"]), "invalid choice: 'nope'")


@given(st.sampled_from(["quota", "threshold", "factor", "frechet", "tight", "entropy"]),
       st.floats(allow_nan=True, allow_infinity=True))
@example("quota", 2.0)
@example("frechet", 0.1)
def test_replay_checks_rule_values_and_accepts_valid_ones(trace, rule, value):
    result = run_cli(["replay", trace, "--rule", rule, f"--value={value!r}", "--json"])
    try:
        if rule == "quota" and value != int(value):
            raise ValueError
        RULES[rule](int(value) if rule == "quota" else value)
    except (ValueError, OverflowError):
        assert_usage_error(result)
        return
    assert result[0] == 0, result


@pytest.mark.parametrize("content", [b"", b"PAR1", b"\x00" * 64, b"PAR1" + b"x" * 60 + b"PAR1"])
def test_replay_names_a_corrupt_trace(content, tmp_path):
    path = tmp_path / "bad.parquet"
    path.write_bytes(content)
    assert_usage_error(run_cli(["replay", str(path)]), str(path), "not a readable Parquet")


@pytest.mark.parametrize(("argv", "phrase"), [
    (["--bins", "0"], "--bins must be >= 1"), (["--freedave", "0"], "--freedave K must be"),
    (["--value", "3"], "--value must follow a --rule"),
    (["--rule", "logged", "--value", "1"], "--value does not apply to --rule logged"),
])
def test_replay_names_bad_options(argv, phrase, trace):
    assert_usage_error(run_cli(["replay", trace, *argv]), phrase)


def test_replay_names_a_missing_trace(tmp_path):
    assert_usage_error(run_cli(["replay", str(tmp_path / "none.parquet")]), "no trace at")


@pytest.mark.parametrize(("argv", "phrase"), [
    (["--limit", "0"], "--limit must be positive"),
    (["--threads", "0"], "--threads must be positive"),
    (["--batch-size", "0"], "--batch-size must be positive"),
    (["--block-length", "-2"], "--block-length must be positive"),
    (["--rule", "static", "--values", "0.5"], "--values needs exactly one rule name"),
    (["--rule", "bogus"], "unknown rule 'bogus'"),
    (["--rule", "frechet", "--values", "7"], "delta = 7.0 is outside"),
    (["--model", "/nonexistent/model"], "unknown model"),
])
def test_eval_names_bad_options(argv, phrase):
    assert_usage_error(run_cli(["eval", "--limit", "1", *argv]), phrase)


@pytest.mark.parametrize(("argv", "phrase"), [
    (["--steps", "0"], "--steps must be positive"),
    (["--lr", "nan"], "--lr must be finite and > 0"),
    (["--lr", "-1"], "--lr must be finite and > 0"),
    (["--seed", "-1"], "--seed must be >= 0"),
    (["--threads", "0"], "--threads must be positive"),
    (["--batch-size", "0"], "--batch-size must be positive"),
    (["--init", "/nonexistent/init"], "--init /nonexistent/init is not a folder"),
    (["--recipe", "chain"], "tiny-arith has no recipe 'chain'; it has shipped"),
    (["--model", "tiny-words", "--recipe", "nope"], "it has shipped, chain"),
    (["--model", "tiny-words", "--recipe", "chain", "--steps", "3"],
     "--recipe chain runs its own stages"),
    (["--resume", "--overwrite"], "pass one of them"),
    (["--resume", "--steps", "3"], "--resume continues a recipe run"),
])
def test_train_names_bad_options_before_training(argv, phrase, tmp_path):
    out = tmp_path / "model"
    assert_usage_error(run_cli(["train", "--out", str(out), "--quiet", *argv]), phrase)
    assert not out.exists()


def test_train_refuses_an_output_path_that_is_a_file(tmp_path):
    out = tmp_path / "model"
    out.write_text("")
    assert_usage_error(run_cli(["train", "--out", str(out), "--steps", "1"]),
                       "exists and is not a folder")


@given(st.sampled_from(["decode", "replay", "simulate", "eval", "train", "certify", "nope"]),
       st.lists(st.sampled_from(["--bogus", "--k", "--n", "--limit", "--rule", "x", "-1",
                                 "nan", "--json", "--seed", "1.5"]), max_size=5))
def test_argparse_errors_are_one_line_with_exit_code_2(command, argv):
    result = run_cli([command, "--bogus-flag", *argv])
    assert_usage_error(result)


def test_decode_refuses_a_zero_generation_length():
    result = run_cli(["decode", "--model", "tiny-random", "--rule", "quota", "--k=1",
                      "--gen-length=0", "--trace", "/nonexistent/t.parquet"])
    assert_usage_error(result, "--gen-length must be >= 1")



def test_train_resume_refuses_a_folder_of_another_run_and_leaves_it(tmp_path):
    out = tmp_path / "model"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert_usage_error(run_cli(["train", "--out", str(out), "--resume", "--quiet"]),
                       "not a run of this recipe's stage", "--overwrite")
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
