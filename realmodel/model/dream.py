"""Dream-family checkpoints (Dream-v0-7B, Dream-Coder, DiffuCoder) without remote code.

Dream is a Qwen2 network (Qwen2.5-7B for Dream-v0-7B) trained as a masked diffusion LM: the
architecture of paradec's LLaDA module (pre-norm RMSNorm, SwiGLU, RoPE in the rotate-half
convention, grouped-query attention, bidirectional) plus biases on the query, key and value
projections, with Qwen2's tensor names. So a Dream folder loads into
:class:`~realmodel.model.llada.LLaDAModel` (``qkv_bias=True``) through
:func:`~realmodel.model.checkpoint.load_weights`, its names translated by
:func:`~realmodel.model.checkpoint.qwen2_name`: one transformer implementation serves both
families, and every cache mode and FreeDave work on Dream through the one engine.

What differs is where a prediction comes out. Dream was adapted from an autoregressive
model, so the logits for position i are the network's output at position i - 1 (its
generation code shifts them: ``cat([logits[:, :1], logits[:, :-1]], 1)``).
:class:`DreamDenoiser` applies that shift in one place, with ``logit_shift = 1``: the engine
then sees ordinary per-position logits, and a cached forward over a block starts one
position earlier (the engine's :meth:`~realmodel.engine.Engine.forward` widens the query
span by ``logit_shift``), so the block's first position is predicted from the last position
before it, computed in the same step, never from the block-start refresh.

config.json: ``model_type`` "Dream"; the fields read are Qwen2's (``hidden_size``,
``num_hidden_layers``, ``num_attention_heads``, ``num_key_value_heads``,
``intermediate_size``, ``vocab_size``, ``max_position_embeddings``, ``rope_theta``,
``rms_norm_eps``, ``tie_word_embeddings``) and the special ids (``mask_token_id``,
``pad_token_id``, ``eos_token_id``). Settings this module does not implement (RoPE scaling,
sliding windows, another activation) are refused by name. Sources: the public Dream
configs and generation code (Ye et al., "Dream 7B", 2025; github.com/DreamLM/Dream), and
transformers' Qwen2 implementation (the twin the tests compare against).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from realmodel.model.cache import KVCache
from realmodel.model.checkpoint import (
    empty_llada,
    load_weights,
    qwen2_name,
    read_json_object,
    save_weights,
)
from realmodel.model.denoiser import LLaDADenoiser
from realmodel.model.llada import LLaDAConfig, LLaDAModel
from realmodel.model.specials import SpecialTokens
from realmodel.model.tiny import random_llada

__all__ = ["DREAM_MODEL_TYPE", "DREAM_7B", "DreamDenoiser", "dream_config", "dream_to_json",
           "is_dream_folder", "load_dream", "save_dream", "tiny_dream_config", "random_dream",
           "dream_parameter_count", "CHAT_TEMPLATE"]

DREAM_MODEL_TYPE = "Dream"

# Dream-v0-Instruct-7B's config.json (the shape fields and special ids; Qwen2.5-7B).
DREAM_7B: dict[str, Any] = {
    "architectures": ["DreamModel"], "model_type": DREAM_MODEL_TYPE, "hidden_act": "silu",
    "hidden_size": 3584, "intermediate_size": 18944, "num_hidden_layers": 28,
    "num_attention_heads": 28, "num_key_value_heads": 4, "vocab_size": 152064,
    "max_position_embeddings": 131072, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0,
    "rope_scaling": None, "tie_word_embeddings": False, "use_sliding_window": False,
    "attention_dropout": 0.0, "mask_token_id": 151666, "pad_token_id": 151643,
    "eos_token_id": 151643, "bos_token_id": 151643, "torch_dtype": "bfloat16"}

_SHAPE = {"hidden_size": "d_model", "num_hidden_layers": "n_layers",
          "num_attention_heads": "n_heads", "num_key_value_heads": "n_kv_heads",
          "intermediate_size": "mlp_hidden_size", "vocab_size": "vocab_size",
          "max_position_embeddings": "max_sequence_length", "rope_theta": "rope_theta",
          "rms_norm_eps": "rms_norm_eps", "tie_word_embeddings": "weight_tying",
          "mask_token_id": "mask_token_id", "pad_token_id": "pad_token_id",
          "eos_token_id": "eos_token_id"}

# Qwen2's chat format for one user turn with its default system message, used when a
# folder's tokenizer has no chat template of its own.
CHAT_TEMPLATE = ("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
                 "<|im_start|>user\n{prompt}<|im_end|>\n<|im_start|>assistant\n")


def dream_config(raw: dict[str, Any]) -> LLaDAConfig:
    """The transformer shape of a Dream config.json (ValueError naming a bad field)."""
    if raw.get("model_type") != DREAM_MODEL_TYPE:
        raise ValueError(f"config.json has model_type={raw.get('model_type')!r}, expected "
                         f"{DREAM_MODEL_TYPE!r}")
    refused = {"hidden_act": "silu", "rope_scaling": None, "use_sliding_window": False}
    for key, wanted in refused.items():
        if raw.get(key, wanted) != wanted:
            raise ValueError(f"config.json has {key}={raw[key]!r}; paradec's Dream module "
                             f"implements only {key}={wanted!r}")
    missing = [k for k in _SHAPE if k not in raw and k not in ("tie_word_embeddings",
                                                               "num_key_value_heads")]
    if missing:
        raise ValueError(f"config.json of a Dream folder lacks {', '.join(missing)}")
    values = {field: raw[key] for key, field in _SHAPE.items() if key in raw}
    values["weight_tying"] = bool(values.get("weight_tying", False))
    if isinstance(values["eos_token_id"], list):  # some configs list several
        values["eos_token_id"] = values["eos_token_id"][0]
    return LLaDAConfig(**values, qkv_bias=True, rope_full_precision=True)


def dream_to_json(config: LLaDAConfig) -> dict[str, Any]:
    """A Dream config.json for ``config`` (the inverse of :func:`dream_config`)."""
    if not config.qkv_bias:
        raise ValueError("a Dream config has q/k/v biases (qkv_bias=True)")
    out: dict[str, Any] = {"architectures": ["DreamModel"], "model_type": DREAM_MODEL_TYPE,
                           "hidden_act": "silu", "rope_scaling": None,
                           "use_sliding_window": False}
    for key, field in _SHAPE.items():
        out[key] = getattr(config, field)
    out["num_key_value_heads"] = config.kv_heads
    return out


def is_dream_folder(path: Path) -> bool:
    """Whether ``path/config.json`` claims to be a Dream checkpoint."""
    try:
        raw = json.loads((path / "config.json").read_text())
    except (OSError, ValueError):
        return False
    return isinstance(raw, dict) and (raw.get("model_type") == DREAM_MODEL_TYPE
                                      or "DreamModel" in (raw.get("architectures") or []))


def _read(folder: Path) -> LLaDAConfig:
    path = folder / "config.json"
    if not path.is_file():
        raise FileNotFoundError(f"{folder} has no config.json (not a Dream checkpoint folder)")
    return dream_config(read_json_object(path))


def load_dream(folder: str | Path, *, dtype: torch.dtype = torch.float32,
               device: str | torch.device = "cpu") -> LLaDAModel:
    """A Dream folder (config.json, safetensors shards + index, Qwen2 tensor names) as a
    :class:`LLaDAModel` with q/k/v biases, shard by shard onto ``device`` in ``dtype``.
    safetensors only (pickled weights are refused); no remote code."""
    folder = Path(folder)
    config = _read(folder)
    model = empty_llada(config)
    names = {qwen2_name(k): k for k in model.state_dict()}
    return load_weights(model, folder, dtype=dtype, device=device, names=names, kind="Dream")


def save_dream(model: LLaDAModel, folder: str | Path, *,
               max_shard_bytes: int = 5 * 2**30) -> Path:
    """Write ``model`` as a Dream folder (config.json with model_type "Dream", Qwen2
    tensor names, safetensors shards and index as the published checkpoints)."""
    state = {qwen2_name(k): v for k, v in model.state_dict().items()}
    return save_weights(state, dream_to_json(model.config), folder,
                        max_shard_bytes=max_shard_bytes)


def tiny_dream_config(*, d_model: int = 64, n_layers: int = 2, n_heads: int = 4,
                      n_kv_heads: int = 2, vocab_size: int = 128) -> LLaDAConfig:
    """A small Dream shape (GQA, q/k/v biases, rope theta 1e6, RMSNorm eps 1e-6)."""
    return LLaDAConfig(d_model=d_model, n_layers=n_layers, n_heads=n_heads,
                       n_kv_heads=n_kv_heads, vocab_size=vocab_size,
                       mlp_hidden_size=3 * d_model, max_sequence_length=2048,
                       rope_theta=1e6, rms_norm_eps=1e-6, mask_token_id=3, eos_token_id=2,
                       pad_token_id=0, qkv_bias=True)


def random_dream(config: LLaDAConfig | None = None, *, seed: int = 0,
                 logit_scale: float = 4.0, dtype: torch.dtype = torch.float32) -> LLaDAModel:
    """A seeded random Dream-shaped model (:func:`realmodel.model.tiny.random_llada`'s
    weights, biases included)."""
    config = tiny_dream_config() if config is None else config
    if not config.qkv_bias:
        raise ValueError("a Dream shape has q/k/v biases (qkv_bias=True)")
    return random_llada(config, seed=seed, logit_scale=logit_scale, dtype=dtype)


class DreamDenoiser(LLaDADenoiser):
    """A Dream model as a denoiser: shifted logits handled here, everything else LLaDA's."""

    logit_shift = 1

    def __init__(self, model: LLaDAModel, *, tokenizer: Any = None, name: str = "dream",
                 file_hash: str | None = None, chat: bool = True,
                 default_gen_length: int = 256) -> None:
        cfg = model.config
        eot = None
        if tokenizer is not None:
            value = tokenizer.convert_tokens_to_ids("<|im_end|>")
            eot = None if value is None or value == tokenizer.unk_token_id else int(value)
        super().__init__(model, tokenizer=tokenizer, name=name, file_hash=file_hash, chat=chat,
                         specials=SpecialTokens(mask_id=cfg.mask_token_id,
                                                pad_id=cfg.pad_token_id,
                                                eos_id=cfg.eos_token_id, eot_id=eot),
                         default_gen_length=default_gen_length)

    def identity(self) -> dict[str, Any]:
        out = super().identity()
        out["architecture"] = "DreamModel (paradec realmodel.model.dream, Qwen2 + shift)"
        out["config"] = dream_to_json(self.model.config)
        return out

    def forward(self, ids: Tensor, positions: Tensor, *, key_ok: Tensor | None = None,
                attend: Tensor | None = None, cache: KVCache | None = None,
                span: tuple[int, int] | None = None,
                head: tuple[int, int] | None = None) -> Tensor:
        """Logits for query positions ``head``: the network's outputs one position
        earlier. With ``head=None`` every position, the first one copying the network's
        first output as Dream's own code does (no prediction exists for it)."""
        T = ids.shape[1]
        lo, hi = (0, T) if head is None else head
        if head is not None and lo < self.logit_shift:
            raise ValueError("a shifted-logits model predicts position i from position i - 1:"
                             " the first query position has no prediction (the engine "
                             "widens the query span by logit_shift)")
        if head is not None:
            return super().forward(ids, positions, key_ok=key_ok, attend=attend, cache=cache,
                                   span=span, head=(lo - 1, hi - 1))
        out = super().forward(ids, positions, key_ok=key_ok, attend=attend, cache=cache,
                              span=span, head=None)
        return torch.cat((out[:, :1], out[:, :-1]), dim=1)

    def encode(self, prompt: str, suffix: str | None = None) -> tuple[list[int], list[int]]:
        """The folder's own chat template when its tokenizer has one (as for LLaDA), else
        Qwen2's chat format (:data:`CHAT_TEMPLATE`); ``chat=False``: the text as it is."""
        if self.chat and self.tokenizer is not None \
                and not getattr(self.tokenizer, "chat_template", None):
            ids = self.tokenize(CHAT_TEMPLATE.format(prompt=prompt))
            return ids, [] if suffix is None else self.tokenize(suffix)
        if not self.chat and self.tokenizer is not None:
            return self.tokenize(prompt), [] if suffix is None else self.tokenize(suffix)
        return super().encode(prompt, suffix)


def dream_parameter_count(raw: dict[str, Any]) -> int:
    """Parameters of a Dream config counted from the tensor shapes Qwen2 defines (an
    independent count: it does not build the module)."""
    d, L = raw["hidden_size"], raw["num_hidden_layers"]
    heads, kv = raw["num_attention_heads"], raw["num_key_value_heads"]
    head_dim = d // heads
    inner, V = raw["intermediate_size"], raw["vocab_size"]
    attn = d * d + d + 2 * (d * kv * head_dim + kv * head_dim) + d * d  # q (+b), k, v (+b), o
    mlp = 3 * d * inner
    per_layer = attn + mlp + 2 * d  # two RMSNorm weights
    head = 0 if raw.get("tie_word_embeddings") else V * d
    return V * d + L * per_layer + d + head
