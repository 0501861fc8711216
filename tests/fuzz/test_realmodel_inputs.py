"""Fuzz: prompt files, configs, token ids and the model's context in realmodel."""

from __future__ import annotations

import dataclasses
import json
import math
import tempfile
from pathlib import Path

import pytest
import torch
from hypothesis import example, given
from hypothesis import strategies as st

from realmodel import DecodeConfig, LLaDAConfig, LLaDADenoiser, Prompt, decode, read_prompts
from realmodel.model.tiny import random_llada, tiny_config
from theory import Quota, Threshold

CONTEXT = 24  # positions of the small model below


@pytest.fixture(scope="module")
def denoiser() -> LLaDADenoiser:
    config = dataclasses.replace(tiny_config(d_model=32, n_heads=2, vocab_size=64),
                                 max_sequence_length=CONTEXT)
    return LLaDADenoiser(random_llada(config, seed=0), name="tiny-24", default_gen_length=4)


IDS = st.lists(st.integers(4, 60), max_size=4)
JUNK = st.one_of(st.none(), st.booleans(), st.floats(allow_nan=False), st.text(max_size=3),
                 st.lists(st.one_of(st.integers(-3, 70), st.floats(0, 5), st.text(max_size=2),
                                    st.booleans()), max_size=3),
                 st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


def _ok_ids(value: object) -> bool:
    return isinstance(value, list) and all(
        isinstance(t, int) and not isinstance(t, bool) and t >= 0 for t in value)


@st.composite
def prompt_lines(draw):
    """(line text, whether read_prompts must accept it) for a tokenizer-less model."""
    kind = draw(st.sampled_from(["good", "good", "junk field", "junk text field", "text",
                                 "json scalar", "both", "neither", "prompt"]))
    if kind == "text":
        return draw(st.text(min_size=1, max_size=12).filter(
            lambda t: t.strip() and "\n" not in t)), False
    if kind == "json scalar":
        return json.dumps(draw(st.one_of(st.integers(), st.lists(st.integers(), max_size=2),
                                         st.text(max_size=4)))), False
    item: dict[str, object] = {"input_ids": draw(IDS)}
    if draw(st.booleans()):
        item["suffix_ids"] = draw(IDS)
    if draw(st.booleans()):
        item["answer_ids"] = draw(IDS)
    if kind == "both":
        item["prompt"] = "2+2"
    elif kind == "neither":
        del item["input_ids"]
    elif kind == "prompt":  # text prompts need a tokenizer this model lacks
        item = {"prompt": draw(st.text(max_size=6))}
    elif kind == "junk field":
        key = draw(st.sampled_from(["input_ids", "suffix_ids", "answer_ids"]))
        item[key] = draw(JUNK)
        ok = _ok_ids(item[key]) or (key != "input_ids" and item[key] is None)
        return json.dumps(item), ok
    elif kind == "junk text field":  # one type per field: text, or null for absent
        key = draw(st.sampled_from(["suffix", "answer", "name"]))
        item[key] = draw(JUNK | st.integers())
        return json.dumps(item), item[key] is None or isinstance(item[key], str)
    return json.dumps(item), kind == "good"


@given(st.lists(prompt_lines(), min_size=1, max_size=5), st.booleans())
@example([('{"input_ids": [1.5]}', False)], False)
@example([('{"input_ids": [true]}', False)], False)
@example([('{"input_ids": [5, 6], "suffix_ids": 7}', False)], False)
@example([('{"input_ids": [-1]}', False)], False)
@example([('{"input_ids": [5], "answer": 12}', False)], False)
@example([('{"input_ids": [5], "answer_ids": [-3]}', False)], False)
def test_read_prompts_names_the_bad_line(denoiser, lines, blank_lines):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "prompts.jsonl"
        text = [line for line, _ in lines]
        if blank_lines:
            text = [x for line in text for x in ("", line)]
        path.write_text("\n".join(text) + "\n")
        bad = [i for i, (_, ok) in enumerate(lines) if not ok]
        if not bad:
            assert len(read_prompts(path, denoiser)) == len(lines)
            return
        with pytest.raises(ValueError) as err:
            read_prompts(path, denoiser)
    number = bad[0] + 1 if not blank_lines else 2 * bad[0] + 2
    message = str(err.value)
    assert f"prompts.jsonl:{number}" in message or "has no tokenizer" in message, message


@pytest.mark.parametrize(("line", "field", "got"), [
    ('{"prompt": 5}', "'prompt' must be text", "a number (5)"),
    ('{"prompt": null}', "'prompt' must be text", "null"),
    ('{"prompt": ["a"]}', "'prompt' must be text", "a list"),
    ('{"prompt": "1+1=", "suffix": 3}', "'suffix' must be text", "a number (3)"),
    ('{"prompt": "1+1=", "answer": 2}', "'answer' must be text", "a number (2)"),
    ('{"input_ids": [5], "name": true}', "'name' must be text", "a boolean"),
    ('{"input_ids": "5 6"}', "'input_ids' must be a list of integer token ids", "text"),
    ('{"input_ids": null}', "'input_ids' must be a list of integer token ids", "null"),
    ('{"input_ids": [5], "suffix_ids": 7}', "'suffix_ids' must be a list", "a number (7)"),
    ('{"input_ids": [5], "answer_ids": {"a": 1}}', "'answer_ids' must be a list", "an object"),
    ('{"input_ids": [5, 2.5]}', "'input_ids' holds 2.5", "not an integer"),
])
def test_read_prompts_names_the_line_and_the_field_of_a_wrong_type(denoiser, tmp_path, line,
                                                                   field, got):
    path = tmp_path / "p.jsonl"
    path.write_text('{"input_ids": [4]}\n' + line + "\n")
    with pytest.raises(ValueError) as err:
        read_prompts(path, denoiser)
    message = str(err.value)
    assert message.startswith(f"{path}:2: ") and field in message and got in message, message


@pytest.mark.parametrize(("content", "phrase"), [
    (b"", "has no prompts"), (b"\n \n", "has no prompts"), (b"\xff\xfe{", "not UTF-8"),
])
def test_read_prompts_names_empty_and_binary_files(denoiser, content, phrase, tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=phrase):
        read_prompts(path, denoiser)


def test_read_prompts_names_missing_files_and_folders(denoiser, tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_prompts(tmp_path / "none.jsonl", denoiser)
    with pytest.raises(ValueError, match="is not a file"):
        read_prompts(tmp_path, denoiser)


@given(st.lists(st.one_of(st.integers(-2, 10), st.floats(0, 5), st.booleans(), st.text(max_size=2),
                          st.none()), max_size=4))
def test_prompt_ids_are_integers_never_rounded(ids):
    ok = all(isinstance(t, int) and not isinstance(t, bool) and t >= 0 for t in ids)
    if ok:
        assert Prompt(ids=tuple(ids)).ids == tuple(ids)
        return
    with pytest.raises(ValueError, match="token id"):
        Prompt(ids=tuple(ids), name="p")


@given(st.integers(0, 2 * CONTEXT), st.integers(1, 2 * CONTEXT), st.integers(0, 3))
@example(CONTEXT - 4, 4, 0)
@example(CONTEXT - 3, 4, 0)
def test_a_sequence_past_the_context_is_refused_and_one_within_decodes(denoiser, P, L, S):
    prompt = Prompt(ids=(5,) * P, suffix=(6,) * S)
    config = DecodeConfig(rule=Threshold(0.0), gen_length=L, block_length=L)
    if P + L + S > CONTEXT:
        with pytest.raises(ValueError, match=f"a sequence of {P + L + S} tokens .* "
                                             f"\\({CONTEXT} positions\\)"):
            decode(denoiser, [prompt], config)
    else:
        assert len(decode(denoiser, [prompt], config).sequences[0].generated) == L


CONFIG_FIELDS = [f.name for f in dataclasses.fields(LLaDAConfig)]


@given(st.sampled_from(CONFIG_FIELDS),
       st.one_of(st.none(), st.booleans(), st.text(max_size=3), st.integers(-5, 5),
                 st.floats(allow_nan=True, allow_infinity=True), st.lists(st.integers(),
                                                                           max_size=1)))
def test_llada_config_names_a_mistyped_field(name, value):
    raw = {**tiny_config(d_model=32, n_heads=2, vocab_size=64).to_dict(), name: value}
    raw.pop("n_kv_heads") if name != "n_kv_heads" else None
    try:
        config = LLaDAConfig.from_dict(raw)
    except ValueError as err:
        assert name in str(err) or "head" in str(err) or "vocabulary" in str(err), str(err)
        return
    assert getattr(config, name) == value or (name == "embedding_size" and value is None)


DECODE_FIELDS = {"gen_length": 8, "block_length": 8, "steps": None, "cache": "none",
                 "temperature": 0.0, "eos": "none", "seed": 0, "stop_at_eos": False}


@given(st.sampled_from(sorted(DECODE_FIELDS)),
       st.one_of(st.none(), st.booleans(), st.text(max_size=4), st.integers(-3, 9),
                 st.floats(allow_nan=True, allow_infinity=True)))
def test_decode_config_names_a_bad_field(name, value):
    try:
        DecodeConfig(**{**DECODE_FIELDS, name: value})
    except ValueError as err:
        assert name.split("_")[0] in str(err) or "block" in str(err), str(err)
        return
    valid_types = {"steps": (int, type(None)), "temperature": (int, float),
                   "cache": (str,), "eos": (str,), "stop_at_eos": (bool,)}
    assert isinstance(value, valid_types.get(name, (int,)))
    assert not (isinstance(value, float) and math.isnan(value))


def test_decode_config_refuses_a_non_rule():
    with pytest.raises(ValueError, match="rule must be a theory rule"):
        DecodeConfig(rule="quota")  # type: ignore[arg-type]
    assert DecodeConfig(rule=Quota(2), gen_length=8, block_length=4).n_blocks == 2


@given(st.sampled_from([torch.bfloat16, torch.float16, torch.float32]))
def test_window_profiles_of_low_precision_logits_are_float64(dtype):
    from realmodel.engine.sampling import window_profile
    from realmodel.model.specials import SpecialTokens

    z = torch.randn(2, 3, 11, generator=torch.Generator().manual_seed(0)).to(dtype) * 8
    p = window_profile(z, torch.ones(2, 3, dtype=torch.bool), SpecialTokens(mask_id=10, pad_id=9))
    assert p.c.dtype == torch.float64 and bool(torch.all(p.c + p.r - 1 < 1e-12))
