"""The shipped model: offline loading, LLaDA format round trip, tokenizer, task, eval, CLI."""

from __future__ import annotations

import argparse
import importlib
import json
import re
from dataclasses import replace

import numpy as np
import pytest
import torch
from hypothesis import example, given
from hypothesis import strategies as st

from realmodel.engine import DecodeConfig
from realmodel.model.checkpoint import load_llada, save_llada
from realmodel.shipped import (
    SHIPPED,
    CharTokenizer,
    EvalRow,
    evaluate,
    extract_answer,
    generation_defaults,
    heldout_problems,
    load_shipped,
    problem_prompts,
    run_sweep,
    sample_problems,
    shipped_path,
    sweep_rules,
)
from realmodel.shipped.task import HELDOUT_SIZE, make_heldout, solve
from theory import Frechet, Quota, Threshold


@pytest.fixture(scope="module")
def shipped():
    return load_shipped()


def test_every_shipped_model_is_small_and_in_llada_format():
    for name, folder in SHIPPED.items():
        files = {p.name for p in folder.iterdir()}
        assert {"config.json", "model.safetensors", "generation.json"} <= files
        assert "vocab.json" in files or {"tokenizer.json", "tokenizer_config.json"} <= files
        size = sum(p.stat().st_size for p in folder.iterdir())
        assert size < 25 * 2**20, f"{name} is {size} bytes"


def test_shipped_checkpoint_round_trips_through_llada_format(shipped, tmp_path):
    save_llada(shipped.model, tmp_path)
    again = load_llada(tmp_path)
    ids = torch.tensor([[1, 5, 14, 6, 16, 3, 3, 3]])
    with torch.no_grad():
        torch.testing.assert_close(again(ids), shipped.model(ids), rtol=0, atol=0)
    assert again.config == shipped.model.config


def test_unknown_model_name_is_refused():
    with pytest.raises(ValueError, match="unknown model"):
        shipped_path("no-such-model")


@given(st.text(alphabet="0123456789+-=;# ", max_size=40))
@example("")
def test_tokenizer_round_trips_every_text(text):
    tok = CharTokenizer()
    ids = tok(text)["input_ids"]
    assert ids[0] == tok.bos_token_id
    assert tok.decode(ids, skip_special_tokens=True) == text


def test_tokenizer_saves_loads_and_refuses_unknown_characters(tmp_path):
    tok = CharTokenizer()
    tok.save(tmp_path)
    assert CharTokenizer.load(tmp_path).tokens == tok.tokens
    assert tok.convert_tokens_to_ids("[MASK]") == 3
    with pytest.raises(ValueError, match="not in the vocabulary"):
        tok.encode("2*3")


def _value(chain: str) -> int:
    """Value of "07+08-09" by an independent route (regex over signed terms)."""
    return sum(int(t) for t in re.findall(r"[+-]?\d+", chain))


def test_generator_is_seeded_and_worked_steps_are_right():
    a = sample_problems(np.random.default_rng(7), 200)
    assert a == sample_problems(np.random.default_rng(7), 200)
    for p in a:
        assert _value(p.prompt[:-1]) == p.answer
        for step in p.response.split(";")[:-1]:
            lhs, rhs = step.split("=")
            assert _value(lhs) == int(rhs) >= 0


@pytest.mark.parametrize(("text", "expected"), [("3+4=7;#7", 7), ("#-2", -2), ("#12 ", 12)])
def test_scorer_reads_the_number_after_the_last_hash(text, expected):
    assert extract_answer(text) == expected


@given(st.integers(0, 99))
def test_scorer_recovers_the_answer_of_any_written_response(n):
    assert extract_answer(f"1+2=3;#{n}") == n


def test_scorer_rejects_missing_or_malformed_answers():
    assert extract_answer("3+4=7;") is None
    assert extract_answer("#7;") is None
    assert extract_answer("#") is None
    with pytest.raises(ValueError):
        solve([1, 2], "*")


def test_heldout_set_is_committed_distinct_and_regenerable():
    held = heldout_problems()
    assert len(held) == HELDOUT_SIZE >= 500
    assert len({p.prompt for p in held}) == len(held)
    assert held == make_heldout()


def test_static_decoding_of_the_shipped_model_is_accurate(shipped):
    shape = generation_defaults("tiny-arith")
    row = evaluate(shipped, heldout_problems()[:20], DecodeConfig(rule=Quota(1), **shape),
                   batch_size=20)
    assert row.accuracy >= 0.8  # an untrained model scores about 0
    assert row.calls == shape["gen_length"] and row.tokens_per_call == 1.0


def test_a_threshold_rule_needs_fewer_calls_than_static(shipped):
    shape = generation_defaults("tiny-arith")
    row = evaluate(shipped, heldout_problems()[:10], DecodeConfig(rule=Threshold(0.5), **shape),
                   batch_size=10)
    assert row.calls < shape["gen_length"] and row.tokens_per_call > 1.0


def test_sweep_rules_expands_names_and_refuses_unknown_ones():
    assert sweep_rules(["static"]) == [Quota(1)]
    assert sweep_rules(["threshold"], [0.9, 0.9]) == [Threshold(0.9)]
    assert len(sweep_rules(["all"])) > 10
    with pytest.raises(ValueError, match="unknown rule"):
        sweep_rules(["greedy"])
    assert sweep_rules(["all"], sweep={"frechet": (0.3,)}) == [Quota(1), Frechet(0.3)]


TIMING = {"tokens_per_second", "wall_seconds", "wall_ratio"}


def test_a_sweep_against_static_compares_every_row_with_the_static_run(shipped):
    shape = generation_defaults("tiny-arith")
    problems = heldout_problems()[:6]
    rows = [row for row, _ in run_sweep(shipped, problem_prompts(problems, shipped),
                                        [Quota(1), Threshold(0.5)], DecodeConfig(**shape),
                                        problems=problems, batch_size=6, against_static=True)]
    static, fast = rows
    assert static["label"] == "static" and static["calls_ratio"] == 1.0
    assert static["token_agreement"] == static["answer_agreement"] == 1.0
    assert fast["calls_ratio"] == static["calls"] / fast["calls"] > 1.0
    alone = evaluate(shipped, problems, DecodeConfig(rule=Threshold(0.5), **shape),
                     batch_size=6).to_dict()
    assert {k: v for k, v in EvalRow.of(fast).to_dict().items() if k not in TIMING} == \
        {k: v for k, v in alone.items() if k not in TIMING}


def test_a_sweep_against_static_starts_with_static_decoding(shipped):
    with pytest.raises(ValueError, match="starts with Quota"):
        next(run_sweep(shipped, [], [Threshold(0.5)], DecodeConfig(), against_static=True))


def test_training_a_few_steps_reduces_the_loss(tmp_path):
    from realmodel.shipped.train import TrainConfig, train

    cfg = TrainConfig(steps=80, batch_size=16, d_model=32, n_layers=1, n_heads=2,
                      mlp_hidden_size=64, lr=1e-2, warmup=5, log_every=10, threads=1)
    train(cfg, tmp_path)
    curve = json.loads((tmp_path / "train_log.json").read_text())["curve"]
    assert curve[-1]["loss"] < 0.8 * curve[0]["loss"]
    denoiser = load_shipped(tmp_path)
    assert denoiser.vocab_size == len(CharTokenizer())


def test_the_recipe_trains_its_stages_each_from_the_previous_one(tmp_path):
    from realmodel.shipped.train import TrainConfig, train_recipe

    base = TrainConfig(steps=3, batch_size=4, d_model=16, n_layers=1, n_heads=2,
                       mlp_hidden_size=32, warmup=1, threads=1)
    train_recipe(tmp_path, base=base, recipe=({}, {"lr": 1e-4, "seed": 1}))
    log = json.loads((tmp_path / "train_log.json").read_text())
    assert log["init"] == str(tmp_path / "stage1") and log["config"]["seed"] == 1
    assert (tmp_path / "stage1" / "model.safetensors").is_file()


def test_a_resumed_recipe_keeps_its_finished_stages_and_trains_the_rest(tmp_path,
                                                                         monkeypatch):
    train_module = importlib.import_module("realmodel.shipped.train")  # the module, not
    # realmodel.shipped's train function
    base = train_module.TrainConfig(steps=3, batch_size=4, d_model=16, n_layers=1, n_heads=2,
                                    mlp_hidden_size=32, warmup=1, threads=1)
    recipe = ({}, {"lr": 1e-4, "seed": 1})
    full, part = tmp_path / "full", tmp_path / "part"
    train_module.train_recipe(full, base=base, recipe=recipe)
    train_module.train_recipe(part, base=base, recipe=recipe[:1])  # stage 1 only, elsewhere
    (part / "model.safetensors").rename(tmp_path / "stage1.safetensors")
    (part / "stage1").mkdir()
    for name in [p.name for p in part.iterdir() if p.is_file()]:
        (part / name).rename(part / "stage1" / name)
    (tmp_path / "stage1.safetensors").rename(part / "stage1" / "model.safetensors")
    runs = []
    real = train_module.train
    monkeypatch.setattr(train_module, "train",
                        lambda cfg, out, **kw: runs.append(out) or real(cfg, out, **kw))
    train_module.train_recipe(part, base=base, recipe=recipe, resume=True)
    assert runs == [part]  # stage 1 kept, stage 2 trained from it
    for folder in ("stage1", "."):
        assert (full / folder / "model.safetensors").read_bytes() == \
            (part / folder / "model.safetensors").read_bytes()
    runs.clear()
    train_module.train_recipe(part, base=base, recipe=recipe, resume=True)
    assert runs == []  # everything finished: nothing trained again
    final = (part / "model.safetensors").read_bytes()
    with pytest.raises(ValueError, match="not a run of this recipe's stage"):
        train_module.train_recipe(part, base=base, recipe=({}, {"lr": 2e-4, "seed": 1}),
                                  resume=True)
    assert runs == [] and (part / "model.safetensors").read_bytes() == final  # untouched
    log_path = part / "stage1" / "train_log.json"  # stage 1 as if cut off after a step
    log_path.write_text(json.dumps({**json.loads(log_path.read_text()), "steps_done": 1}))
    train_module.train_recipe(part, base=base, recipe=recipe, resume=True)
    assert runs == [part / "stage1", part]  # a retrained stage retrains every later one


def test_a_stage_is_finished_only_at_its_last_step_from_the_same_start(tmp_path):
    from realmodel.shipped.train import TrainConfig, finished, train

    cfg = TrainConfig(steps=4, batch_size=2, d_model=16, n_layers=1, n_heads=2,
                      mlp_hidden_size=32, warmup=1, threads=1, save_every=2)
    assert not finished(tmp_path / "a", cfg, None)
    train(replace(cfg, stop=2), tmp_path / "a")
    assert finished(tmp_path / "a", replace(cfg, stop=2), None)
    assert not finished(tmp_path / "a", cfg, None)  # 2 of 4 steps
    assert not finished(tmp_path / "a", replace(cfg, stop=2), tmp_path / "elsewhere")
    assert finished(tmp_path / "a", replace(cfg, stop=2, threads=2), None)
    (tmp_path / "a" / "train_log.json").write_text("{not json")
    assert not finished(tmp_path / "a", replace(cfg, stop=2), None)


def test_train_command_resumes_in_place_with_the_recipe_it_names(tmp_path, monkeypatch,
                                                                  capsys):
    from paradec.commands import train as train_command

    out = tmp_path / "run"
    out.mkdir()
    (out / "train_log.json").write_text('{"steps_done": 3, "train_seconds": 1.5}')
    calls = []
    monkeypatch.setattr(importlib.import_module("realmodel.shipped.train"), "train_recipe",
                        lambda path, **kw: calls.append((path, kw)))
    assert _cli(train_command, ["train", "--out", str(out), "--resume", "--model",
                                "tiny-words", "--recipe", "chain", "--quiet"]) == 0
    (path, kw), = calls
    assert path == str(out) and kw["resume"] and len(kw["recipe"]) == 10
    assert (out / "train_log.json").is_file()  # worked in place, nothing moved aside
    assert "saved" in capsys.readouterr().out


def _cli(module, argv):
    parser = argparse.ArgumentParser()
    module.add_parser(parser.add_subparsers())
    args = parser.parse_args(argv)
    return args.run(args)


def test_eval_command_prints_json_rows_with_the_documented_keys(capsys):
    from paradec.commands import eval as eval_command

    assert _cli(eval_command, ["eval", "--rule", "threshold", "--values", "0.9",
                               "--limit", "4", "--json"]) == 0
    row = json.loads(capsys.readouterr().out.strip().splitlines()[0])
    assert {"accuracy", "calls", "tokens_per_call", "tokens_per_second"} <= set(row)
    assert row["n"] == 4 and row["model"] == "tiny-arith"


@pytest.mark.parametrize("flag", [False, True])
def test_eval_command_passes_forbid_mask_to_the_decoder(flag, monkeypatch, capsys):
    import realmodel.shipped
    from paradec.commands import eval as eval_command

    seen = []
    real = realmodel.shipped.run_sweep

    def spy(denoiser, prompts, rules, config, **kwargs):
        seen.append(config.forbid_mask)
        return real(denoiser, prompts, rules, config, **kwargs)

    monkeypatch.setattr(realmodel.shipped, "run_sweep", spy)
    argv = ["eval", "--limit", "2", "--json"] + (["--forbid-mask"] if flag else [])
    assert _cli(eval_command, argv) == 0
    assert seen == [flag] and json.loads(capsys.readouterr().out)["n"] == 2


def test_eval_command_refuses_values_without_a_single_rule():
    from paradec.commands import eval as eval_command

    with pytest.raises(ValueError, match="--values"):
        _cli(eval_command, ["eval", "--rule", "all", "--values", "0.9"])
