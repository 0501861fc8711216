"""Dream-family checkpoints: the folder format, logits equal to transformers' Qwen2 with a
bidirectional mask (shifted by one position), padding invariance, every cache and FreeDave
through the one engine, and named errors for foreign or broken folders."""

import json
import shutil

import pytest
import torch

from realmodel.engine import DecodeConfig, Engine, decode
from realmodel.engine.prompts import Prompt
from realmodel.freedave import FreeDaveConfig, freedave_decode, predict_calls
from realmodel.model.checkpoint import INDEX_NAME
from realmodel.model.dream import (
    DREAM_7B,
    DreamDenoiser,
    dream_config,
    dream_parameter_count,
    load_dream,
    random_dream,
    save_dream,
)
from realmodel.model.llada import LLaDAModel
from realmodel.models import load_denoiser
from realmodel.trace import TraceWriter, provenance, read_trace
from tests.tolerance import assert_close, llada_path
from theory import make_rule

transformers = pytest.importorskip("transformers")

CACHES = ["none", "prefix", "dual"]
GEN = torch.Generator().manual_seed(11)
PROMPTS = [Prompt(ids=torch.randint(4, 120, (n,), generator=GEN).tolist(), name=f"d{n}")
           for n in (5, 9, 3)]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    path = tmp_path_factory.mktemp("dream") / "tiny-dream"
    return save_dream(random_dream(seed=4), path, max_shard_bytes=60_000)


@pytest.fixture(scope="module")
def denoiser(folder):
    return load_denoiser(str(folder))


def _qwen2(folder):
    """transformers' Qwen2ForCausalLM on the folder's own safetensors (Qwen2 names)."""
    from safetensors.torch import load_file

    raw = json.loads((folder / "config.json").read_text())
    cfg = transformers.Qwen2Config(
        vocab_size=raw["vocab_size"], hidden_size=raw["hidden_size"],
        intermediate_size=raw["intermediate_size"], num_hidden_layers=raw["num_hidden_layers"],
        num_attention_heads=raw["num_attention_heads"],
        num_key_value_heads=raw["num_key_value_heads"], rms_norm_eps=raw["rms_norm_eps"],
        max_position_embeddings=raw["max_position_embeddings"],
        rope_parameters={"rope_type": "default", "rope_theta": raw["rope_theta"]},
        tie_word_embeddings=False, attn_implementation="sdpa")
    model = transformers.Qwen2ForCausalLM(cfg)
    state = {}
    for shard in sorted(folder.glob("*.safetensors")):
        state.update(load_file(str(shard)))
    result = model.load_state_dict(state, strict=False)
    assert result.missing_keys == [] and result.unexpected_keys == []
    return model.eval()


def test_dream_logits_equal_transformers_qwen2_with_a_bidirectional_mask(folder, denoiser):
    ids = torch.randint(4, 120, (2, 19), generator=torch.Generator().manual_seed(2))
    keep = torch.ones(2, 19, dtype=torch.bool)
    keep[1, :6] = False  # left padding in row 1
    positions = (keep.long().cumsum(1) - 1).clamp(min=0)
    allowed = keep[:, None, :] | ~keep[:, :, None]  # padding keys hidden from real queries
    with torch.no_grad():
        ours = denoiser.forward(ids, positions, key_ok=keep, head=(7, 19))
        theirs = _qwen2(folder)(input_ids=ids, position_ids=positions,
                                attention_mask={"full_attention": allowed[:, None]}).logits
    # Dream's shift: the logits of position i are the network's output at i - 1
    assert_close(ours, theirs[:, 6:18], llada_path(denoiser.model.config, 19))


def test_the_7b_config_has_the_parameters_an_independent_count_gives():
    config = dream_config(DREAM_7B)
    with torch.device("meta"):
        model = LLaDAModel(config)
    n = sum(p.numel() for p in model.parameters())
    assert n == dream_parameter_count(DREAM_7B)
    assert 7.6e9 < n < 7.7e9  # Qwen2.5-7B: 7.62B parameters
    assert (config.d_model, config.n_layers, config.kv_heads, config.qkv_bias) == \
        (3584, 28, 4, True)


def test_a_7b_shaped_folder_loads_on_the_meta_device_with_every_tensor_named(tmp_path):
    shape = {**DREAM_7B, "num_hidden_layers": 1}  # one layer keeps the test small
    with torch.device("meta"):
        model = LLaDAModel(dream_config(shape))
    names = sorted(n for n, _ in model.named_parameters())
    assert "model.transformer.blocks.0.q_proj.bias" in names
    assert "model.transformer.blocks.0.attn_out.bias" not in names  # o_proj has no bias


def test_a_prompt_alone_equals_the_same_prompt_in_a_padded_batch(denoiser):
    config = DecodeConfig(gen_length=16, block_length=8, cache="dual")
    alone = [decode(denoiser, [p], config).sequences[0].generated for p in PROMPTS]
    batched = decode(denoiser, PROMPTS, config, batch_size=3)
    assert [s.generated for s in batched.sequences] == alone


@pytest.mark.parametrize("cache", CACHES)
def test_the_block_start_is_predicted_from_the_position_before_it_in_every_cache(denoiser,
                                                                                  cache):
    """A cached step computes what a full forward computes at the first step after a
    refresh: the shifted prediction of the block's first column included."""
    engine = Engine(denoiser, DecodeConfig(gen_length=16, block_length=8, cache=cache))
    state = engine.start(PROMPTS[:1])
    engine.begin_block(state, 1)
    full = engine.forward(state, refresh=True)
    if cache != "none":
        cached = engine.forward(state, refresh=False)
        assert_close(cached, full, llada_path(denoiser.model.config, state.x.shape[1]))


@pytest.mark.parametrize("cache", CACHES)
@pytest.mark.parametrize("name, value", [("quota", 1), ("frechet", 0.1), ("threshold", 0.5)])
def test_freedave_on_dream_equals_the_rules_decoding_with_predicted_calls(denoiser, cache,
                                                                          name, value,
                                                                          tmp_path):
    config = DecodeConfig(rule=make_rule(name, value), gen_length=16, block_length=8,
                          cache=cache)
    path = tmp_path / "rule.parquet"
    with TraceWriter(path, provenance(denoiser, config, batch_size=1)) as writer:
        alone = decode(denoiser, PROMPTS, config, trace=writer)
    trace = read_trace(path)
    for K, verify, batch_size in ((2, "batch", 1), (4, "tree-attention", 3), (8, "batch", 3)):
        run = freedave_decode(Engine(denoiser, config), FreeDaveConfig(K, verify=verify),
                              PROMPTS, batch_size=batch_size).result
        assert [s.generated for s in run.sequences] == [s.generated for s in alone.sequences]
        assert [s.steps for s in run.sequences] == predict_calls(trace, K)["per_sequence"]


def test_tiny_random_dream_is_built_in_memory_and_shifts_its_logits():
    den = load_denoiser("tiny-random-dream")
    assert isinstance(den, DreamDenoiser) and den.logit_shift == 1
    assert den.model.config.qkv_bias and den.model.config.kv_heads == 2
    ids = torch.arange(4, 14)[None]
    pos = torch.arange(10)[None]
    with torch.no_grad():
        every = den.forward(ids, pos)
        part = den.forward(ids, pos, head=(1, 10))
    assert torch.equal(every[:, 1:], part) and torch.equal(every[:, 0], every[:, 1])
    with pytest.raises(ValueError, match="first query position has no prediction"):
        den.forward(ids, pos, head=(0, 10))


def test_a_sharded_dream_folder_round_trips_with_qwen2_names(folder):
    index = json.loads((folder / INDEX_NAME).read_text())
    assert len(set(index["weight_map"].values())) > 1
    assert "model.layers.0.self_attn.q_proj.bias" in index["weight_map"]
    assert "lm_head.weight" in index["weight_map"]
    raw = json.loads((folder / "config.json").read_text())
    assert raw["model_type"] == "Dream" and raw["architectures"] == ["DreamModel"]
    again = load_dream(folder)
    original = random_dream(seed=4)
    for (a, x), (b, y) in zip(again.state_dict().items(), original.state_dict().items(),
                              strict=True):
        assert a == b and torch.equal(x, y)


def _broken(folder, tmp_path, edit):
    target = tmp_path / "broken"
    shutil.copytree(folder, target)
    edit(target)
    return target


def _set_config(**changes):
    def edit(path):
        raw = json.loads((path / "config.json").read_text())
        raw.update(changes)
        (path / "config.json").write_text(json.dumps(raw))
    return edit


def _drop_tensor(path):
    from safetensors.torch import load_file, save_file

    index = json.loads((path / INDEX_NAME).read_text())
    shard = index["weight_map"]["model.layers.1.self_attn.k_proj.bias"]
    tensors = load_file(str(path / shard))
    del tensors["model.layers.1.self_attn.k_proj.bias"]
    save_file(tensors, str(path / shard))


@pytest.mark.parametrize("edit, error, match", [
    (_set_config(hidden_size=32), ValueError, r"has shape .* config.json implies"),
    (_set_config(rope_scaling={"type": "yarn", "factor": 4.0}), ValueError, "rope_scaling"),
    (_set_config(hidden_act="gelu"), ValueError, "hidden_act"),
    (_drop_tensor, ValueError, r"lacks 1 tensors, e.g. \['model.layers.1.self_attn.k_proj.bias"),
    (lambda p: (p / INDEX_NAME).unlink(), FileNotFoundError, "model.safetensors"),
])
def test_a_broken_dream_folder_gets_an_error_naming_the_problem(folder, tmp_path, edit, error,
                                                                match):
    with pytest.raises(error, match=match):
        load_denoiser(str(_broken(folder, tmp_path, edit)))


def test_a_folder_claiming_dream_without_its_fields_is_refused(tmp_path):
    path = tmp_path / "foreign"
    path.mkdir()
    (path / "config.json").write_text(json.dumps({"model_type": "Dream", "hidden_size": 8}))
    with pytest.raises(ValueError, match="lacks num_hidden_layers"):
        load_denoiser(str(path))


def test_decode_cli_on_a_dream_folder_with_frechet_dual_cache_freedave_and_trace(folder,
                                                                                 tmp_path,
                                                                                 capsys):
    from tests.realmodel.test_freedave import _cli

    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text("".join(json.dumps({"input_ids": p.ids}) + "\n" for p in PROMPTS))
    common = ["--model", str(folder), "--rule", "frechet", "--delta", "0.1", "--cache", "dual",
              "--block", "8", "--gen-length", "16", "--prompts", str(prompts), "--batch-size",
              "3", "--json", "--progress", "off"]
    assert _cli([*common, "--trace", str(tmp_path / "r.parquet")]) == 0
    alone = json.loads(capsys.readouterr().out)
    assert _cli([*common, "--trace", str(tmp_path / "t.parquet"), "--freedave", "4"]) == 0
    fast = json.loads(capsys.readouterr().out)
    assert [s["generated"] for s in fast["sequences"]] == \
        [s["generated"] for s in alone["sequences"]]
    trace = read_trace(tmp_path / "t.parquet")
    assert trace.provenance["model"]["architecture"].startswith("DreamModel")
    assert predict_calls(read_trace(tmp_path / "r.parquet"), 4)["per_sequence"] == \
        [s["calls"] for s in fast["sequences"]]


def test_a_folder_with_the_real_7b_config_is_read_and_asks_for_its_weights(tmp_path):
    path = tmp_path / "dream-7b"
    path.mkdir()
    (path / "config.json").write_text(json.dumps(DREAM_7B))
    with pytest.raises(FileNotFoundError, match="model.safetensors"):
        load_denoiser(str(path))


def test_text_prompts_use_qwen2s_chat_format_through_tokenizer_json(folder, tmp_path):
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import Whitespace

    words = ["[UNK]", "system", "You", "are", "a", "helpful", "assistant", ".", "user",
             "what", "is", "2", "+", "?"]
    vocab = {w: i for i, w in enumerate(words)}  # the special tokens get 14 and 15
    tok = Tokenizer(WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = Whitespace()
    tok.add_special_tokens(["<|im_start|>", "<|im_end|>"])
    target = tmp_path / "with-tokenizer"
    shutil.copytree(folder, target)
    tok.save(str(target / "tokenizer.json"))
    den = load_denoiser(str(target))
    ids, suffix = den.encode("what is 2 + 2 ?")  # no chat template: Qwen2's format
    start, end = tok.token_to_id("<|im_start|>"), tok.token_to_id("<|im_end|>")
    assert ids[0] == start and ids.count(start) == 3 and ids.count(end) == 2
    assert ids[-1] == vocab["assistant"]  # the assistant turn is opened
    assert den.specials.eot_id == end and suffix == []
    plain = load_denoiser(str(target), chat=False).encode("what is 2 + 2 ?")[0]
    assert plain == [vocab[w] for w in "what is 2 + 2 ?".split()]
    (target / "tokenizer_config.json").write_text(json.dumps(
        {"chat_template": "{% for m in messages %}<|im_start|>{{ m['content'] }}<|im_end|>"
                          "{% endfor %}"}))
    own = load_denoiser(str(target)).encode("what is 2 + 2 ?")[0]  # the folder's template
    assert own == [start, *plain, end]


@pytest.mark.parametrize("options", [dict(steps=8), dict(eos="forbid"),
                                     dict(rule=make_rule("tight", 0.0))])
def test_the_schedule_eos_options_and_every_freedave_mode_run_on_dream(denoiser, options):
    from theory.freedave.auto import CallCost

    config = DecodeConfig(gen_length=16, block_length=8, cache="dual", **options)
    alone = decode(denoiser, PROMPTS, config, batch_size=3)
    for fd in (FreeDaveConfig(4), FreeDaveConfig(8, auto=True, cost=CallCost(1.0, 0.0)),
               FreeDaveConfig(4, accept="subset")):
        run = freedave_decode(Engine(denoiser, config), fd, PROMPTS, batch_size=3).result
        if fd.accept == "exact":
            assert [s.generated for s in run.sequences] == \
                [s.generated for s in alone.sequences]
        assert run.calls <= alone.calls
