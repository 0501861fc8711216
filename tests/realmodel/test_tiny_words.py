"""The second shipped model: word-problem task, BPE tokenizer, training layout, loading."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import numpy as np
import pytest
import torch

from realmodel.engine import DecodeConfig, decode
from realmodel.model.denoiser import prompt_ids
from realmodel.shipped import (
    SHIPPED,
    TASKS,
    at_equal_accuracy,
    extract_answer,
    generation_defaults,
    heldout_problems,
    load_shipped,
    load_tokenizer,
    problem_prompts,
    shipped_path,
    task_of,
    words,
)
from realmodel.shipped.subword import SPECIALS, train_tokenizer
from realmodel.shipped.train import (
    EMBEDDINGS,
    RECIPES,
    RESTATE,
    RESTATE_STORY,
    TRIED,
    Example,
    TrainConfig,
    encode_batch,
    examples,
    param_groups,
    recipe_of,
    restatement,
    train,
    train_recipe,
)
from theory import Quota

STEP = re.compile(r"(\d+) ([-+x]) (\d+) = (\d+)")


@pytest.fixture(scope="module")
def tiny_words():
    return load_shipped("tiny-words")


def test_every_worked_step_and_answer_of_a_word_problem_is_right():
    rng = np.random.default_rng(0)
    kinds = set()
    for _ in range(2000):
        p = words.sample_problem(rng)
        steps = STEP.findall(p.response)
        assert steps, p.response
        for a, op, b, c in steps:
            a, b, c = int(a), int(b), int(c)
            assert c == {"+": a + b, "-": a - b, "x": a * b}[op], p.response
            assert 0 <= min(a, b, c) and max(a, b, c) < words.LIMIT
        assert extract_answer(p.response) == p.answer == int(steps[-1][3])
        kinds.add(" ".join(p.response.split()[:2]))
    assert len(kinds) == len(words.KINDS)


def test_word_problems_are_seeded():
    a = [words.sample_problem(np.random.default_rng(3)) for _ in range(3)]
    b = [words.sample_problem(np.random.default_rng(3)) for _ in range(3)]
    assert a == b


def test_word_heldout_set_is_committed_distinct_regenerable_and_kept_out_of_training():
    held = words.heldout_problems()
    assert held == words.make_heldout()
    assert len({p.prompt for p in held}) == words.HELDOUT_SIZE
    seen = {p.prompt for p in held}
    stream = TASKS["words"].stream(np.random.default_rng(0))
    assert not any(next(stream).prompt in seen for _ in range(3000))


def test_bpe_tokenizer_is_deterministic_round_trips_and_splits_digits():
    rng = np.random.default_rng(1)
    texts = [s for p in (words.sample_problem(rng) for _ in range(400)) for s in
             (p.prompt, p.response)]
    a, b = train_tokenizer(texts, 600), train_tokenizer(texts, 600)
    assert a.get_vocab() == b.get_vocab() and len(a) == 600
    assert [a.convert_ids_to_tokens(i) for i in range(len(SPECIALS))] == list(SPECIALS)
    for text in texts[:50]:
        ids = a(text, add_special_tokens=False)["input_ids"]
        assert a.decode(ids) == text
    digits = a("Tom has 123 cups.", add_special_tokens=False)["input_ids"]
    tokens = a.convert_ids_to_tokens(digits)
    assert tokens[tokens.index("1"):tokens.index("1") + 3] == ["1", "2", "3"]


def test_a_vocabulary_the_text_cannot_fill_is_refused():
    with pytest.raises(ValueError, match="supports only"):
        train_tokenizer(["a b c", "a b"], 1000)
    with pytest.raises(ValueError, match="no room"):
        train_tokenizer(["a b"], 10)


def test_training_encodes_prompts_exactly_as_decoding_does(tiny_words):
    problems = heldout_problems("tiny-words")[:3]
    x, key_ok, _, P = encode_batch(problems, tiny_words.tokenizer, 128)
    for row, ok, p, prompt in zip(x, key_ok, problems, problem_prompts(problems, tiny_words),
                                  strict=True):
        ids = [int(i) for i in row[:P][ok[:P]]]
        assert ids == list(prompt.ids) == prompt_ids(tiny_words.tokenizer, p.prompt, chat=True)
        response = [int(i) for i in row[P:]]
        eot = tiny_words.tokenizer.convert_tokens_to_ids("<|eot_id|>")
        end = response.index(eot)
        assert tiny_words.decode_text(response[:end]) == p.response
        assert set(response[end + 1:]) == {tiny_words.specials.eos_id}


def test_every_heldout_prompt_and_answer_fits_the_trained_shape(tiny_words):
    g = generation_defaults("tiny-words")
    assert (g["gen_length"], g["block_length"]) == (128, 32)
    tok = tiny_words.tokenizer
    lengths = []
    for p in heldout_problems("tiny-words"):
        lengths.append(len(tok(p.response, add_special_tokens=False)["input_ids"]))
        assert len(prompt_ids(tok, p.prompt, chat=True)) <= TASKS["words"].prompt_tokens
    assert (min(lengths), max(lengths)) == (52, 103)  # docs/shipped.md; + <|eot_id|> < 128


def test_tiny_words_loads_offline_with_its_bpe_and_chat_template(tiny_words):
    assert task_of("tiny-words").name == "words"
    assert tiny_words.vocab_size == len(tiny_words.tokenizer) == 4096
    assert tiny_words.specials.mask_id == SPECIALS.index("<|mdm_mask|>")
    ids = tiny_words.encode("Mia has 3 apples.")[0]
    text = tiny_words.tokenizer.decode(ids)
    assert text.startswith("<|startoftext|><|start_header_id|>user<|end_header_id|>")
    assert text.endswith("<|start_header_id|>assistant<|end_header_id|>\n\n")


def test_tiny_words_writes_the_worked_solution_of_each_problems_kind(tiny_words):
    """The committed weights are the trained ones: static decoding opens each held-out
    problem with its kind's sentence and ends with a '#### N' line (what the model has
    learned; docs/shipped.md says what it has not)."""
    from realmodel.shipped import answer_text, extract_answer

    problems = heldout_problems("tiny-words")[:8]
    result = decode(tiny_words, problem_prompts(problems, tiny_words),
                    DecodeConfig(rule=Quota(1), gen_length=128, block_length=32,
                                 cache="dual"), batch_size=8)
    texts = [answer_text(tiny_words, s.generated) for s in result.sequences]
    for text, p in zip(texts, problems, strict=True):
        assert text.split()[:3] == p.response.split()[:3], (text, p.response)
    finished = [t for t in texts if "#### " in t and extract_answer(t) is not None]
    assert len(finished) >= 6, texts  # 7 of 8 on the machine it was trained on


def test_a_subword_folder_needs_its_generation_file(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "tokenizer.json").write_text("{}")
    with pytest.raises(ValueError, match="generation.json"):
        shipped_path(tmp_path)


def test_training_a_words_model_keeps_its_tokenizer_across_stages(tmp_path, monkeypatch):
    from realmodel.shipped import tasks

    monkeypatch.setattr(tasks, "TOKENIZER_PROBLEMS", 300)
    cfg = TrainConfig(task="words", vocab_size=600, steps=2, batch_size=2, d_model=16,
                      n_layers=1, n_heads=2, mlp_hidden_size=32, gen_length=128,
                      block_length=32, warmup=1, threads=1)
    train(cfg, tmp_path / "a")
    train(cfg, tmp_path / "b", init=tmp_path / "a")
    assert json.loads((tmp_path / "b" / "generation.json").read_text())["task"] == "words"
    assert load_tokenizer(tmp_path / "a").get_vocab() == \
        load_tokenizer(tmp_path / "b").get_vocab()
    denoiser = load_shipped(tmp_path / "b")
    assert denoiser.vocab_size == 600 and task_of(tmp_path / "b").name == "words"
    log = json.loads((tmp_path / "b" / "train_log.json").read_text())
    assert {"torch", "tokenizers", "numpy", "python"} <= set(log["versions"])


def test_a_config_must_match_its_task_vocabulary():
    with pytest.raises(ValueError, match="needs vocab_size"):
        TrainConfig(task="words")
    with pytest.raises(ValueError, match="takes no vocab_size"):
        TrainConfig(vocab_size=100)
    with pytest.raises(ValueError, match="unknown task"):
        TrainConfig(task="poems")


def test_the_train_command_offers_every_recipe():
    from paradec.commands.train import MODELS

    assert MODELS == tuple(RECIPES) and set(RECIPES) == set(SHIPPED)
    assert set(TRIED) <= set(RECIPES)


def test_every_stage_of_every_recipe_is_a_valid_config():
    for model in RECIPES:
        for name in ("shipped", *TRIED.get(model, {})):
            base, stages = recipe_of(model, name)
            configs = [replace(base, **changes) for changes in stages]
            assert configs and all(c.task == base.task for c in configs)


def test_the_chain_recipe_is_the_logged_stage_order():
    base, stages = recipe_of("tiny-words", "chain")
    configs = [replace(base, **changes) for changes in stages]
    assert base.weight_tying and not base.embedding_decay
    assert sum(c.stop or c.steps for c in configs) == 17_000
    assert [c.seed for c in configs] == list(range(10))  # a fresh data seed per stage
    copying, drills = configs[:3], configs[3:]
    assert all(c.restate > 0 and c.drill == 0 for c in copying) and not copying[0].shuffle
    assert all(c.drill > 0 and c.restate == 0.1 for c in drills)
    assert [c.drill_listed for c in configs[-2:]] == [0.0, 0.0]
    assert (configs[-1].drill_like_problems, configs[-1].lr, configs[-1].blockwise) == \
        (0.5, 5e-4, 0.5)


def test_the_chain_recipe_trains_its_ten_stages_in_order(tmp_path, monkeypatch):
    from realmodel.shipped import tasks

    monkeypatch.setattr(tasks, "TOKENIZER_PROBLEMS", 300)
    base, stages = recipe_of("tiny-words", "chain")
    small = replace(base, vocab_size=600, d_model=16, n_layers=1, n_heads=2,
                    mlp_hidden_size=32, batch_size=2, threads=1)
    short = [{**changes, "steps": 2, "warmup": 1, "stop": None} for changes in stages]
    train_recipe(tmp_path, model="tiny-words", base=small, recipe=short)
    logs = [json.loads((folder / "train_log.json").read_text()) for folder in
            [*(tmp_path / f"stage{i}" for i in range(1, 10)), tmp_path]]
    assert logs[0]["init"] is None
    assert [log["init"] for log in logs[1:]] == [str(tmp_path / f"stage{i}")
                                                  for i in range(1, 10)]
    assert [log["config"]["seed"] for log in logs] == list(range(10))
    assert logs[-1]["config"]["drill_like_problems"] == 0.5
    assert load_tokenizer(tmp_path).get_vocab() == \
        load_tokenizer(tmp_path / "stage1").get_vocab()


def test_speed_at_equal_accuracy_picks_the_fastest_setting_at_least_as_accurate():
    rows = [{"rule": "threshold", "label": "t1", "accuracy": 0.9, "tokens_per_call": 2.0},
            {"rule": "threshold", "label": "t2", "accuracy": 0.8, "tokens_per_call": 4.0},
            {"rule": "frechet", "label": "f1", "accuracy": 0.85, "tokens_per_call": 3.0},
            {"rule": "frechet", "label": "f2", "accuracy": 0.95, "tokens_per_call": 1.0},
            {"rule": "tight", "label": "g", "accuracy": 0.8, "tokens_per_call": 5.0}]
    out = at_equal_accuracy(rows, ("frechet", "tight"), "threshold")
    assert [(r["label"], r["match"] and r["match"]["label"]) for r in out] == \
        [("f1", "t1"), ("f2", None), ("g", "t2")]
    assert out[0]["ratio"] == 1.5 and out[1]["ratio"] is None and out[2]["ratio"] == 1.25
    with pytest.raises(ValueError, match="accuracies"):
        at_equal_accuracy([{**rows[0], "accuracy": None}], ("frechet",), "threshold")


def test_report_publishes_a_second_shipped_model_under_its_own_docs_folder():
    from pathlib import Path

    from paradec.experiments.options import ReportOptions

    assert ReportOptions().docs_dir == Path("docs")
    assert ReportOptions(model="tiny-words").docs_dir == Path("docs") / "tiny-words"
    assert ReportOptions(model="tiny-words", dtype="bfloat16").docs_dir is None
    with pytest.raises(ValueError, match="unknown cache"):
        ReportOptions(cache="triple")


def test_forward_of_tiny_words_is_finite(tiny_words):
    ids = torch.tensor([tiny_words.encode("Ava has 5 cups.")[0] + [3] * 8])
    positions = torch.arange(ids.shape[1])[None]
    with torch.no_grad():
        logits = tiny_words.forward(ids, positions)
    assert logits.shape == (1, ids.shape[1], 4096) and torch.isfinite(logits).all()


def test_retraining_a_words_model_gives_the_same_bits(tmp_path, monkeypatch):
    from realmodel.shipped import tasks

    monkeypatch.setattr(tasks, "TOKENIZER_PROBLEMS", 300)
    cfg = TrainConfig(task="words", vocab_size=600, steps=3, batch_size=4, d_model=16,
                      n_layers=1, n_heads=2, mlp_hidden_size=32, gen_length=128,
                      block_length=32, warmup=1, threads=1, weight_tying=True,
                      embedding_decay=False, restate=0.5, drill=0.25, drill_listed=0.5,
                      drill_like_problems=0.5, blockwise=0.5)
    for name in ("a", "b"):
        train(cfg, tmp_path / name)
    for file in ("model.safetensors", "tokenizer.json"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()


def test_a_restatement_repeats_the_story_and_the_stream_mixes_it_at_its_share():
    problems = [words.sample_problem(np.random.default_rng(i)) for i in range(20)]
    rng = np.random.default_rng(5)
    moved = 0
    for p in problems:
        ex = restatement(p, rng)
        assert isinstance(ex, Example) and ex.prompt == RESTATE + ex.response
        assert sorted(ex.response.split()) == sorted(p.prompt.split())
        moved += ex.response != p.prompt
    assert moved >= 19  # a story of 12+ words keeps its order with chance < 1/12!
    state = rng.bit_generator.state
    assert restatement(problems[0], rng, shuffle=False) == \
        Example(RESTATE_STORY + problems[0].prompt, problems[0].prompt)
    assert rng.bit_generator.state == state  # the verbatim exercise draws nothing
    # restate = 0 draws nothing more: the stream is the task's own, problem for problem
    rng = np.random.default_rng(3)
    plain = examples(iter(problems), rng, 0.0)
    assert list(plain) == problems
    assert rng.random() == np.random.default_rng(3).random()
    n, share = 4000, 0.25
    rng = np.random.default_rng(0)
    stream = examples((words.sample_problem(rng) for _ in range(n)), rng, share)
    k = sum(isinstance(e, Example) for e in stream)
    sd = (n * share * (1 - share)) ** 0.5  # binomial; 5 sd: a false alarm once in 1.7e6
    assert abs(k - n * share) < 5 * sd, k


def test_restated_and_drill_prompts_fit_the_trained_prompt_room(tiny_words):
    from realmodel.shipped.tasks import task_named

    rng = np.random.default_rng(1)
    room = task_named("words").prompt_tokens
    for _ in range(500):
        for ex in (restatement(words.sample_problem(rng), rng), words.drill(rng),
                   words.drill(rng, listed=0.0), words.drill(rng, like_problems=1.0)):
            assert len(prompt_ids(tiny_words.tokenizer, ex.prompt, chat=True)) <= room
            assert len(tiny_words.tokenizer(ex.response)["input_ids"]) < 128


def test_a_drill_works_the_listed_steps_in_the_solutions_notation():
    rng = np.random.default_rng(0)
    ops = {"+": 0, "-": 0, "x": 0}
    for _ in range(1000):
        ex = words.drill(rng)
        assert isinstance(ex, Example) and ex.prompt.startswith(words.DRILL)
        steps = STEP.findall(ex.response)
        assert len(steps) == words.DRILL_SIZE
        assert ex.response == " ".join(f"{a} {op} {b} = {c}." for a, op, b, c in steps)
        assert ex.prompt == words.DRILL + ", ".join(f"{a} {op} {b}" for a, op, b, _ in steps) + "."
        for a, op, b, c in steps:
            a, b, c = int(a), int(b), int(c)
            assert c == {"+": a + b, "-": a - b, "x": a * b}[op], ex.response
            assert 0 < min(a, b, c) and max(a, b, c) < words.LIMIT
            assert op != "x" or (2 <= a <= 9 and 2 <= b <= 9)
            ops[op] += 1
    n = 1000 * words.DRILL_SIZE  # uniform over three ops; 5 binomial sd
    assert all(abs(k - n / 3) < 5 * (n * 2 / 9) ** 0.5 for k in ops.values()), ops


def test_an_unlisted_drill_lists_no_steps_and_drills_are_listed_at_their_share():
    """A prompt that lists the steps lets a model key each result on the list (it does:
    docs/shipped.md); an unlisted drill's results follow from the response alone."""
    rng = np.random.default_rng(7)
    drills = [words.drill(rng, small=0.25, listed=0.3) for _ in range(2000)]
    listed = [ex.prompt.startswith(words.DRILL) for ex in drills]
    assert all(ok or ex.prompt == words.DRILL_UNLISTED
               for ok, ex in zip(listed, drills, strict=True))
    assert all(len(STEP.findall(ex.response)) == words.DRILL_SIZE for ex in drills)
    n, k = len(drills), sum(listed)
    assert abs(k - 0.3 * n) < 5 * (n * 0.3 * 0.7) ** 0.5, k  # binomial, 5 sd
    assert not any(d in words.DRILL_UNLISTED for d in "0123456789")
    # listed = 1 draws exactly what the drill drew before the option existed
    a, b = np.random.default_rng(3), np.random.default_rng(3)
    assert [words.drill(a, small=0.5) for _ in range(50)] == [
        words.drill(b, small=0.5, listed=1.0) for _ in range(50)]
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="drill_listed"):
            TrainConfig(task="words", vocab_size=600, drill=0.3, drill_listed=bad)


def test_a_drill_like_problems_works_one_step_of_each_of_six_sampled_problems():
    for seed in range(20):
        ex = words.drill(np.random.default_rng(seed), listed=0.0, like_problems=1.0)
        rng = np.random.default_rng(seed)
        rng.random(), rng.random()  # the listed and the like-problems draws
        expected = []
        for _ in range(words.DRILL_SIZE):
            worked = words.WORKED_STEP.findall(words.sample_problem(rng).response)
            expected.append(worked[int(rng.integers(len(worked)))])
        assert words.WORKED_STEP.findall(ex.response) == expected
        assert ex.prompt == words.DRILL_UNLISTED
        for a, op, b, c in expected:
            assert int(c) == {"+": int(a) + int(b), "-": int(a) - int(b),
                              "x": int(a) * int(b)}[op]
    # a zero share draws exactly what the drill drew before the option existed
    a, b = np.random.default_rng(3), np.random.default_rng(3)
    assert [words.drill(a, small=0.5, listed=0.5) for _ in range(50)] == [
        words.drill(b, small=0.5, listed=0.5, like_problems=0.0) for _ in range(50)]
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="drill_like_problems"):
            TrainConfig(task="words", vocab_size=600, drill=0.3, drill_like_problems=bad)


def test_small_drills_have_one_digit_sums_and_differences_at_their_share():
    rng = np.random.default_rng(2)
    steps = [s for _ in range(500) for s in STEP.findall(words.drill(rng, small=0.5).response)]
    plus_minus = [(int(a), int(b)) for a, op, b, _ in steps if op != "x"]
    k, n = sum(a < 10 and b < 10 for a, b in plus_minus), len(plus_minus)
    # a full draw is one-digit too with probability q: a in [2, 98), then b in [1, 100 - a)
    # for a sum (one-digit for 9 values) or in [1, a) for a difference (always)
    q = sum(9 / (99 - a) + 1 for a in range(2, 10)) / 96 / 2
    p = 0.5 + 0.5 * q
    assert abs(k - p * n) < 5 * (n * p * (1 - p)) ** 0.5, (k, n, p)  # binomial, 5 sd
    # small = 0 draws exactly what the plain drill draws
    a, b = np.random.default_rng(3), np.random.default_rng(3)
    assert [words.drill(a) for _ in range(50)] == [words.drill(b, small=0.0) for _ in range(50)]
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="drill_small"):
            TrainConfig(task="words", vocab_size=600, drill=0.3, drill_small=bad)


def test_the_stream_mixes_drills_and_restatements_at_their_shares():
    n, restate, drill = 4000, 0.1, 0.3
    rng = np.random.default_rng(0)
    stream = list(examples((words.sample_problem(rng) for _ in range(n)), rng, restate,
                           True, drill, words.drill))
    drilled = sum(isinstance(e, Example) and e.prompt.startswith(words.DRILL) for e in stream)
    restated = sum(isinstance(e, Example) and e.prompt.startswith(RESTATE) for e in stream)
    for k, share in ((drilled, drill), (restated, restate)):
        assert abs(k - n * share) < 5 * (n * share * (1 - share)) ** 0.5, (k, share)
    # a zero drill share leaves a restating stream draw for draw as it was
    problems = [words.sample_problem(np.random.default_rng(i)) for i in range(50)]
    a, b = (list(examples(iter(problems), np.random.default_rng(4), 0.25, True, *extra))
            for extra in ((), (0.0, words.drill)))
    assert a == b
    with pytest.raises(ValueError, match="make_drill"):
        next(examples(iter(problems), np.random.default_rng(4), 0.0, True, 0.5))


@pytest.mark.parametrize("restate, drill", [(0.0, -0.1), (0.0, 1.0), (0.5, 0.5),
                                            (0.0, float("nan"))])
def test_a_drill_share_outside_the_room_restate_leaves_is_refused(restate, drill):
    with pytest.raises(ValueError, match="drill"):
        TrainConfig(task="words", vocab_size=600, restate=restate, drill=drill)


def test_a_task_without_a_drill_refuses_a_drill_share():
    with pytest.raises(ValueError, match="no drill"):
        TrainConfig(drill=0.2)


@pytest.mark.parametrize("decay", [True, False])
def test_embedding_decay_chooses_whether_the_embedding_and_head_are_decayed(decay):
    from realmodel.model.llada import LLaDAConfig, LLaDAModel

    model = LLaDAModel(LLaDAConfig(d_model=16, n_layers=1, n_heads=2, mlp_hidden_size=32,
                                   vocab_size=40, max_sequence_length=64,
                                   mask_token_id=3, eos_token_id=2, pad_token_id=0))
    cfg = TrainConfig(d_model=16, n_layers=1, n_heads=2, mlp_hidden_size=32,
                      embedding_decay=decay)
    decayed, kept = param_groups(model, cfg)
    assert decayed["weight_decay"] == cfg.weight_decay and kept["weight_decay"] == 0
    names = {id(p): n for n, p in model.named_parameters()}
    in_decay = {names[id(p)] for p in decayed["params"]}
    in_kept = {names[id(p)] for p in kept["params"]}
    assert in_decay | in_kept == set(names.values()) and not in_decay & in_kept
    assert all(p.ndim >= 2 for p in decayed["params"])
    assert (set(EMBEDDINGS) <= in_decay) is decay and (set(EMBEDDINGS) <= in_kept) is not decay
    assert "model.transformer.blocks.0.q_proj.weight" in in_decay


@pytest.mark.parametrize("share", [-0.1, 1.0, float("nan")])
def test_a_restatement_share_outside_zero_one_is_refused(share):
    with pytest.raises(ValueError, match="restate"):
        TrainConfig(restate=share)


def test_stop_ends_a_run_part_way_along_its_schedule(tmp_path, monkeypatch):
    """A run stopped after 2 of 4 steps is the first half of the 4-step run: same losses,
    and its log says 2 steps were done."""
    from realmodel.shipped import tasks

    monkeypatch.setattr(tasks, "TOKENIZER_PROBLEMS", 300)
    cfg = TrainConfig(task="words", vocab_size=600, steps=4, batch_size=2, d_model=16,
                      n_layers=1, n_heads=2, mlp_hidden_size=32, gen_length=128,
                      block_length=32, warmup=1, threads=1, log_every=1, restate=0.5,
                      shuffle=False)
    train(cfg, tmp_path / "full")
    train(TrainConfig(**{**cfg.__dict__, "stop": 2}), tmp_path / "half")
    full, half = (json.loads((tmp_path / n / "train_log.json").read_text())
                  for n in ("full", "half"))
    assert [e["loss"] for e in half["curve"]] == [e["loss"] for e in full["curve"][:2]]
    assert half["steps_done"] == 2 and full["steps_done"] == 4
    for bad in (0, 5, 2.0, True):
        with pytest.raises(ValueError, match="stop"):
            TrainConfig(steps=4, stop=bad)
