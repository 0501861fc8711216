"""LLaDA's on-disk format: config.json, sharded safetensors and their index.

A folder written by :func:`save_llada` has the layout of the published LLaDA-8B-Instruct
checkpoint (``model-00001-of-0000N.safetensors`` + ``model.safetensors.index.json``, or a
single ``model.safetensors``), and :func:`load_llada` reads either without remote code,
shard by shard onto the target device in the target dtype.

:func:`eurobert_state_dict` renames a LLaDA state dict for transformers'
EuroBertForMaskedLM (the key map in docs/realmodel.md, "LLaDA checkpoint format"), the
independent implementation the tests compare against. The names it maps to are the
Llama / Qwen2 names transformers uses, which Dream checkpoints use too
(:func:`qwen2_name`; :mod:`realmodel.model.dream` loads them through :func:`load_weights`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import Tensor

from realmodel.model.llada import LLaDAConfig, LLaDAModel

__all__ = ["save_llada", "save_weights", "load_llada", "load_weights", "read_config",
           "empty_llada",
           "local_tokenizer",
           "read_json_object",
           "fingerprint", "eurobert_config", "eurobert_state_dict", "qwen2_name", "INDEX_NAME",
           "SINGLE_NAME"]

INDEX_NAME = "model.safetensors.index.json"
SINGLE_NAME = "model.safetensors"

_QWEN2_RENAMES = [  # LLaDA's tensor names -> Llama / Qwen2 / EuroBERT names
    (r"^model\.transformer\.wte\.", "model.embed_tokens."),
    (r"^model\.transformer\.ln_f\.", "model.norm."),
    (r"^model\.transformer\.ff_out\.", "lm_head."),
    (r"^model\.transformer\.blocks\.(\d+)\.attn_norm\.", r"model.layers.\1.input_layernorm."),
    (r"^model\.transformer\.blocks\.(\d+)\.ff_norm\.",
     r"model.layers.\1.post_attention_layernorm."),
    (r"^model\.transformer\.blocks\.(\d+)\.([qkv])_proj\.", r"model.layers.\1.self_attn.\2_proj."),
    (r"^model\.transformer\.blocks\.(\d+)\.attn_out\.", r"model.layers.\1.self_attn.o_proj."),
    (r"^model\.transformer\.blocks\.(\d+)\.ff_proj\.", r"model.layers.\1.mlp.gate_proj."),
    (r"^model\.transformer\.blocks\.(\d+)\.up_proj\.", r"model.layers.\1.mlp.up_proj."),
    (r"^model\.transformer\.blocks\.(\d+)\.ff_out\.", r"model.layers.\1.mlp.down_proj."),
]


def save_llada(model: LLaDAModel, folder: str | Path, *,
               max_shard_bytes: int = 5 * 2**30) -> Path:
    """Write ``model`` as a LLaDA checkpoint folder; shards when it exceeds one shard.

    Tensors keep the model's dtype. Returns the folder.
    """
    return save_weights(model.state_dict(), model.config.to_dict(), folder,
                        max_shard_bytes=max_shard_bytes)


def save_weights(state: dict[str, Tensor], config: dict[str, Any], folder: str | Path, *,
                 max_shard_bytes: int = 5 * 2**30) -> Path:
    """Write ``config`` as config.json and ``state`` as safetensors: one
    ``model.safetensors``, or shards ``model-0000i-of-0000N.safetensors`` of at most
    ``max_shard_bytes`` each with ``model.safetensors.index.json``. Returns the folder."""
    if max_shard_bytes < 1:
        raise ValueError(f"max_shard_bytes must be positive, got {max_shard_bytes}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    state = {k: v.detach().contiguous().cpu() for k, v in state.items()}
    shards: list[dict[str, Tensor]] = [{}]
    size = 0
    for name, tensor in state.items():
        nbytes = tensor.numel() * tensor.element_size()
        if shards[-1] and size + nbytes > max_shard_bytes:
            shards.append({})
            size = 0
        shards[-1][name] = tensor
        size += nbytes
    metadata = {"format": "pt"}
    if len(shards) == 1:
        save_file(shards[0], str(folder / SINGLE_NAME), metadata=metadata)
        return folder
    weight_map: dict[str, str] = {}
    for i, shard in enumerate(shards, start=1):
        name = f"model-{i:05d}-of-{len(shards):05d}.safetensors"
        save_file(shard, str(folder / name), metadata=metadata)
        weight_map.update({key: name for key in shard})
    total = sum(t.numel() * t.element_size() for t in state.values())
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    (folder / INDEX_NAME).write_text(json.dumps(index, indent=2) + "\n")
    return folder


def read_json_object(path: Path) -> dict[str, Any]:
    """A JSON object from ``path``; ValueError naming the file when it is not one."""
    try:
        raw = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{path} is not valid JSON: {err}") from None
    if not isinstance(raw, dict):
        raise ValueError(f"{path} must hold a JSON object, got {type(raw).__name__}")
    return raw


def local_tokenizer(path: str | Path) -> Any:
    """The fast tokenizer of a model folder (``tokenizer.json`` with its
    ``tokenizer_config.json`` or ``chat_template.jinja``), or None when it has none."""
    path = Path(path)
    if not (path / "tokenizer.json").is_file():
        return None
    from transformers import PreTrainedTokenizerFast

    kwargs: dict[str, Any] = {}
    config_file = path / "tokenizer_config.json"
    if config_file.is_file():
        raw = read_json_object(config_file)
        kwargs = {k: raw[k] for k in ("bos_token", "eos_token", "pad_token", "mask_token",
                                            "chat_template")
                  if isinstance(raw.get(k), str)}
    if (path / "chat_template.jinja").is_file():
        kwargs["chat_template"] = (path / "chat_template.jinja").read_text()
    return PreTrainedTokenizerFast(tokenizer_file=str(path / "tokenizer.json"), **kwargs)


def read_config(folder: str | Path) -> LLaDAConfig:
    """The :class:`LLaDAConfig` of a checkpoint folder (FileNotFoundError, ValueError)."""
    path = Path(folder) / "config.json"
    if not path.is_file():
        raise FileNotFoundError(f"{folder} has no config.json (not a LLaDA checkpoint folder)")
    raw = read_json_object(path)
    if raw.get("model_type", "llada") != "llada":
        raise ValueError(f"{path} has model_type={raw.get('model_type')!r}, expected 'llada'")
    return LLaDAConfig.from_dict(raw)


PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")


def _shard_files(folder: Path) -> list[Path]:
    """The safetensors shards of ``folder``; pickled weights are refused, never opened."""
    index = folder / INDEX_NAME
    if index.is_file():
        try:
            raw = json.loads(index.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ValueError(f"{index} is not valid JSON: {err}") from None
        weight_map = raw.get("weight_map") if isinstance(raw, dict) else None
        if not isinstance(weight_map, dict) or not weight_map:
            raise ValueError(f"{index} has no weight_map")
        names = sorted({str(name) for name in weight_map.values()})
        for name in names:
            if Path(name).name != name or not name.endswith(".safetensors"):
                raise ValueError(f"{index} names shard {name!r}: shards must be .safetensors "
                                 "files inside the checkpoint folder")
        files = [folder / name for name in names]
    elif (folder / SINGLE_NAME).is_file():
        files = [folder / SINGLE_NAME]
    else:
        pickles = sorted(f.name for f in folder.iterdir() if f.suffix in PICKLE_SUFFIXES)
        if pickles:
            raise ValueError(f"{folder} holds pickled weights ({', '.join(pickles[:3])}) and no "
                             f"{SINGLE_NAME}: paradec loads its checkpoints from safetensors "
                             "only and never unpickles them; convert the weights first")
        raise FileNotFoundError(f"{folder} has neither {INDEX_NAME} nor {SINGLE_NAME}")
    for f in files:
        if not f.is_file():
            raise FileNotFoundError(f"shard {f} named in the index is missing")
    return files


def load_llada(folder: str | Path, *, dtype: torch.dtype = torch.float32,
               device: str | torch.device = "cpu") -> LLaDAModel:
    """Load a LLaDA checkpoint folder into :class:`LLaDAModel` (eval mode).

    The model is built on the meta device and each shard is loaded straight onto
    ``device`` in ``dtype``, so peak memory is one copy of the weights. Every parameter
    must be present with LLaDA's name and shape; unknown tensors are an error.
    """
    folder = Path(folder)
    return load_weights(empty_llada(read_config(folder)), folder, dtype=dtype, device=device)


#: the ``torch.nn.init`` fillers the model's modules call when they are built
_FILLERS = ("normal_", "uniform_", "kaiming_uniform_", "trunc_normal_", "zeros_", "ones_")


@contextmanager
def _no_fillers() -> Iterator[None]:
    """``torch.nn.init``'s fillers as no-ops: on the meta device they fill nothing, and
    the first of them imports torch's Python reference kernels (about 1-2 s of start-up
    on the 2-core build machine; LOG.md)."""
    import torch.nn.init as init

    kept = {name: getattr(init, name) for name in _FILLERS}
    try:
        for name in _FILLERS:
            setattr(init, name, lambda tensor, *args, **kwargs: tensor)
        yield
    finally:
        for name, fn in kept.items():
            setattr(init, name, fn)


def empty_llada(config: LLaDAConfig) -> LLaDAModel:
    """:class:`LLaDAModel` of ``config`` on the meta device (no memory, no random fill),
    for :func:`load_weights` to fill."""
    with torch.device("meta"), _no_fillers():
        return LLaDAModel(config)


def load_weights(model: LLaDAModel, folder: Path, *, dtype: torch.dtype, device: str |
                 torch.device, names: dict[str, str] | None = None,
                 kind: str = "LLaDA") -> LLaDAModel:
    """Fill ``model`` (built on the meta device) from the shards of ``folder``, shard by
    shard onto ``device`` in ``dtype``. ``names`` maps the folder's tensor names to the
    model's (default: the same). Every tensor must be present with the shape the config
    implies; an unknown, missing or misshapen tensor is a ValueError naming it."""
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    if names is None:
        names = {k: k for k in expected}
    seen: set[str] = set()
    for shard in _shard_files(folder):
        try:
            tensors = load_file(str(shard), device=str(device))
        except SafetensorError as err:
            raise ValueError(f"{shard} is not a readable safetensors file ({err})") from None
        unknown = sorted(set(tensors) - set(names))
        if unknown:
            raise ValueError(f"{shard.name} holds tensors {kind} does not have: {unknown[:5]}")
        for name, tensor in tensors.items():
            if tuple(tensor.shape) != expected[names[name]]:
                raise ValueError(f"{shard.name}: {name} has shape {tuple(tensor.shape)}, "
                                 f"config.json implies {expected[names[name]]}")
        model.load_state_dict({names[k]: v.to(dtype) for k, v in tensors.items()},
                              strict=False, assign=True)
        seen.update(tensors)
    missing = sorted(set(names) - seen)
    if missing:
        raise ValueError(f"{folder} lacks {len(missing)} tensors, e.g. {missing[:5]}")
    return model.eval()


def fingerprint(folder: str | Path, *, full: bool = False) -> str:
    """sha256 identifying a checkpoint folder.

    By default it hashes config.json, the index and each shard's name and size (cheap for
    16 GB of weights); ``full=True`` hashes every byte of the shards.
    """
    folder = Path(folder)
    digest = hashlib.sha256()
    digest.update((folder / "config.json").read_bytes())
    if (folder / INDEX_NAME).is_file():
        digest.update((folder / INDEX_NAME).read_bytes())
    for shard in _shard_files(folder):
        digest.update(f"{shard.name}:{shard.stat().st_size}".encode())
        if full:
            with shard.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 24), b""):
                    digest.update(chunk)
    return digest.hexdigest()


def eurobert_config(config: LLaDAConfig) -> Any:
    """transformers' EuroBertConfig with the same architecture as ``config``."""
    from transformers import EuroBertConfig

    return EuroBertConfig(
        vocab_size=config.table_size, hidden_size=config.d_model,
        intermediate_size=config.mlp_hidden_size, num_hidden_layers=config.n_layers,
        num_attention_heads=config.n_heads, num_key_value_heads=config.kv_heads,
        head_dim=config.head_dim, hidden_act="silu", rms_norm_eps=config.rms_norm_eps,
        max_position_embeddings=config.max_sequence_length, attention_bias=False,
        mlp_bias=False, tie_word_embeddings=config.weight_tying,
        rope_parameters={"rope_type": "default", "rope_theta": config.rope_theta},
        mask_token_id=config.mask_token_id, pad_token_id=config.pad_token_id,
        bos_token_id=None, eos_token_id=config.eos_token_id)


def qwen2_name(name: str) -> str:
    """The Llama / Qwen2 name (EuroBERT's and Dream's) of a LLaDA tensor name, e.g.
    ``model.transformer.blocks.0.attn_out.weight -> model.layers.0.self_attn.o_proj.weight``;
    unknown names raise."""
    for pattern, repl in _QWEN2_RENAMES:
        new, hits = re.subn(pattern, repl, name)
        if hits:
            return new
    raise ValueError(f"no Qwen2 name for LLaDA tensor {name!r}")


def eurobert_state_dict(state: dict[str, Tensor]) -> dict[str, Tensor]:
    """Rename LLaDA keys to EuroBertForMaskedLM keys (docs/realmodel.md, "LLaDA checkpoint
    format"); unknown keys raise."""
    return {qwen2_name(name): tensor for name, tensor in state.items()}
