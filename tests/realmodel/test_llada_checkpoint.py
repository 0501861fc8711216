"""LLaDA module: on-disk round trip, equality with transformers' EuroBertForMaskedLM."""

import json

import pytest
import torch

from realmodel.model.checkpoint import (
    INDEX_NAME,
    SINGLE_NAME,
    empty_llada,
    eurobert_config,
    eurobert_state_dict,
    fingerprint,
    load_llada,
    read_config,
    save_llada,
)
from realmodel.model.llada import LLaDAConfig, LLaDAModel
from realmodel.model.tiny import random_llada, tiny_config
from tests.tolerance import assert_close, float_tolerance, llada_path

transformers = pytest.importorskip("transformers")


def _eurobert(model):
    ref = transformers.EuroBertForMaskedLM(eurobert_config(model.config))
    ref.config._attn_implementation = "sdpa"
    result = ref.load_state_dict(eurobert_state_dict(model.state_dict()), strict=False)
    assert result.unexpected_keys == []
    assert result.missing_keys == []
    return ref.eval()


@pytest.mark.parametrize("shape", [dict(), dict(n_kv_heads=2), dict(d_model=64, n_heads=2)])
def test_sharded_checkpoint_round_trips_and_matches_eurobert(tmp_path, shape):
    model = random_llada(tiny_config(**shape), seed=1, logit_scale=4.0)
    folder = save_llada(model, tmp_path / "ckpt", max_shard_bytes=40_000)
    index = json.loads((folder / INDEX_NAME).read_text())
    assert len(set(index["weight_map"].values())) > 1
    assert set(index["weight_map"]) == set(model.state_dict())
    loaded = load_llada(folder)
    ids = torch.randint(0, model.config.vocab_size, (2, 23), generator=torch.Generator()
                        .manual_seed(0))
    with torch.no_grad():
        ours = model(ids)
        again = loaded(ids)
        theirs = _eurobert(loaded)(input_ids=ids).logits
    assert torch.equal(ours, again)
    assert_close(theirs, ours, llada_path(model.config, ids.shape[1]))


def test_single_file_checkpoint_loads_in_bf16(tmp_path):
    model = random_llada(tiny_config(), seed=2)
    folder = save_llada(model, tmp_path / "one")
    assert (folder / SINGLE_NAME).is_file() and not (folder / INDEX_NAME).exists()
    loaded = load_llada(folder, dtype=torch.bfloat16)
    assert all(p.dtype == torch.bfloat16 for p in loaded.parameters())
    ids = torch.arange(10)[None]
    with torch.no_grad():
        exact = model(ids)
        low = loaded(ids)
    assert low.dtype == torch.bfloat16
    assert_close(low, exact, llada_path(model.config, ids.shape[1]))
    # and the bound is not vacuous: it is below the logits' own spread
    assert float_tolerance(torch.bfloat16, llada_path(model.config, 10), 1.0) < 0.5


def test_padding_mask_matches_eurobert_attention_mask():
    model = random_llada(tiny_config(), seed=3, logit_scale=4.0)
    ids = torch.randint(4, 96, (2, 12), generator=torch.Generator().manual_seed(1))
    keep = torch.ones(2, 12, dtype=torch.bool)
    keep[1, :5] = False
    allowed = keep[:, None, :] | ~keep[:, :, None]
    with torch.no_grad():
        ours = model(ids, allowed=allowed)
        theirs = _eurobert(model)(input_ids=ids, attention_mask=keep.long()).logits
    assert_close(theirs[keep], ours[keep], llada_path(model.config, ids.shape[1]))


def test_left_padding_with_shifted_positions_equals_unpadded_forward():
    model = random_llada(tiny_config(), seed=4, logit_scale=4.0)
    ids = torch.randint(4, 96, (1, 9), generator=torch.Generator().manual_seed(2))
    padded = torch.cat([torch.zeros(1, 4, dtype=torch.long), ids], dim=1)
    keep = padded != 0
    keep[:, :4] = False
    positions = (keep.cumsum(-1) - 1).clamp(min=0)
    allowed = keep[:, None, :] | ~keep[:, :, None]
    with torch.no_grad():
        alone = model(ids)
        inside = model(padded, positions, allowed=allowed)[:, 4:]
    assert_close(inside, alone, llada_path(model.config, padded.shape[1]))


def test_fingerprint_changes_with_the_weights(tmp_path):
    a = save_llada(random_llada(tiny_config(), seed=5), tmp_path / "a")
    b = save_llada(random_llada(tiny_config(), seed=6), tmp_path / "b")
    assert fingerprint(a, full=True) != fingerprint(b, full=True)
    assert fingerprint(a) == fingerprint(a)


def test_unsupported_config_settings_are_refused_by_name(tmp_path):
    raw = tiny_config().to_dict()
    with pytest.raises(ValueError, match="alibi"):
        LLaDAConfig.from_dict({**raw, "alibi": True})
    with pytest.raises(ValueError, match="n_kv_heads"):
        LLaDAConfig.from_dict({**raw, "n_kv_heads": 3})
    (tmp_path / "config.json").write_text(json.dumps({**raw, "model_type": "bert"}))
    with pytest.raises(ValueError, match="model_type"):
        read_config(tmp_path)


def test_missing_and_misshapen_tensors_are_errors(tmp_path):
    model = random_llada(tiny_config(), seed=7)
    folder = save_llada(model, tmp_path / "ckpt", max_shard_bytes=40_000)
    shard = sorted(folder.glob("model-*.safetensors"))[-1]
    shard.unlink()
    with pytest.raises(FileNotFoundError, match="missing"):
        load_llada(folder)
    with pytest.raises(FileNotFoundError, match="config.json"):
        load_llada(tmp_path / "nowhere")
    cfg = tiny_config().to_dict()
    folder2 = save_llada(model, tmp_path / "bad")
    (folder2 / "config.json").write_text(json.dumps({**cfg, "mlp_hidden_size": 100}))
    with pytest.raises(ValueError, match="shape"):
        load_llada(folder2)


# the published LLaDA-8B-Instruct config.json (docs/realmodel.md, "LLaDA checkpoint format")
LLADA_8B_CONFIG = {
    "architectures": ["LLaDAModelLM"], "model_type": "llada", "d_model": 4096, "n_layers": 32,
    "n_heads": 32, "n_kv_heads": 32, "mlp_hidden_size": 12288, "mlp_ratio": 4,
    "vocab_size": 126464, "embedding_size": 126464, "mask_token_id": 126336,
    "eos_token_id": 126081, "pad_token_id": 126081, "rope_theta": 500000.0,
    "rope_full_precision": True, "layer_norm_type": "rms", "rms_norm_eps": 1e-05,
    "activation_type": "silu", "block_type": "llama", "include_bias": False,
    "include_qkv_bias": False, "weight_tying": False, "max_sequence_length": 4096,
    "alibi": False, "attention_layer_norm": False, "bias_for_layer_norm": None,
    "clip_qkv": None, "multi_query_attention": None, "block_group_size": 1, "rope": True,
    "scale_logits": False, "input_emb_norm": False, "use_cache": False,
}


def test_llada_8b_config_gives_the_published_tensor_names_and_parameter_count():
    config = LLaDAConfig.from_dict(LLADA_8B_CONFIG)
    with torch.device("meta"):
        model = LLaDAModel(config)
    state = model.state_dict()
    assert len(state) == 291
    assert sum(t.numel() for t in state.values()) == 8_015_581_184
    assert tuple(state["model.transformer.blocks.31.ff_proj.weight"].shape) == (12288, 4096)
    assert tuple(state["model.transformer.ff_out.weight"].shape) == (126464, 4096)
    assert config.head_dim == 128


def test_an_empty_model_is_built_without_fillers_and_leaves_torch_init_as_it_was(
        monkeypatch):
    """empty_llada skips torch.nn.init's fillers (nothing to fill on the meta device) and
    puts them back, also when building fails."""
    import torch.nn.init as init

    kept = {name: getattr(init, name) for name in ("normal_", "uniform_", "kaiming_uniform_")}
    model = empty_llada(tiny_config())
    assert all(p.is_meta for p in model.parameters())
    assert {name: getattr(init, name) for name in kept} == kept
    from realmodel.model import checkpoint

    def failing(config):
        raise RuntimeError("constructor failed")

    monkeypatch.setattr(checkpoint, "LLaDAModel", failing)
    with pytest.raises(RuntimeError, match="constructor failed"):
        empty_llada(tiny_config())
    assert {name: getattr(init, name) for name in kept} == kept
    x = torch.empty(3)
    init.normal_(x)  # the real filler again: a draw, not a no-op
    assert torch.isfinite(x).all()
