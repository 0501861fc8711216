"""Shipped models by name: ``load_shipped("tiny-arith")`` -> a denoiser, no network.

A shipped model is a folder in LLaDA's on-disk format (config.json, model.safetensors)
plus ``vocab.json`` (its :class:`~realmodel.shipped.tokenizer.CharTokenizer`),
``generation.json`` (the generation and block length it was trained for) and
``train_log.json`` (training config, loss curve, timings). The folders live under
``realmodel/shipped/models/`` and are committed to the repository.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from realmodel.model.checkpoint import fingerprint, load_llada
from realmodel.model.denoiser import LLaDADenoiser
from realmodel.shipped.tokenizer import CharTokenizer

__all__ = ["SHIPPED", "DEFAULT_MODEL", "shipped_path", "load_shipped", "generation_defaults",
           "is_shipped"]

_ROOT = Path(__file__).with_name("models")

#: name -> checkpoint folder of every model shipped with paradec.
SHIPPED: dict[str, Path] = {"tiny-arith": _ROOT / "tiny-arith"}
DEFAULT_MODEL = "tiny-arith"


def shipped_path(name: str | Path) -> Path:
    """The folder of a shipped model name, or ``name`` itself when it is a shipped-format
    folder (e.g. the output of ``paradec train``); ValueError otherwise."""
    if str(name) in SHIPPED:
        return SHIPPED[str(name)]
    folder = Path(name)
    if (folder / "vocab.json").is_file() and (folder / "config.json").is_file():
        return folder
    raise ValueError(f"unknown model {str(name)!r}: not a shipped model "
                     f"({', '.join(SHIPPED)}) nor a folder with config.json and vocab.json")


def is_shipped(name: str | Path) -> bool:
    try:
        shipped_path(name)
    except ValueError:
        return False
    return True


def generation_defaults(name: str | Path) -> dict[str, Any]:
    """``{"gen_length": L, "block_length": b}`` the model was trained for."""
    path = shipped_path(name) / "generation.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path.parent} has no generation.json")
    raw = json.loads(path.read_text())
    return {"gen_length": int(raw["gen_length"]), "block_length": int(raw["block_length"])}


def load_shipped(name: str | Path = DEFAULT_MODEL, *, device: str | torch.device = "cpu",
                 dtype: torch.dtype = torch.float32) -> LLaDADenoiser:
    """The shipped model ``name`` (or a shipped-format folder) as a :class:`LLaDADenoiser`
    with its character tokenizer; its ``default_gen_length`` is the trained one."""
    folder = shipped_path(name)
    model = load_llada(folder, dtype=dtype, device=device)
    tokenizer = CharTokenizer.load(folder)
    if len(tokenizer) != model.config.vocab_size:
        raise ValueError(f"{folder}: vocab.json has {len(tokenizer)} tokens, config.json "
                         f"vocab_size={model.config.vocab_size}")
    label = str(name) if str(name) in SHIPPED else folder.name
    return LLaDADenoiser(model, tokenizer=tokenizer, name=label,
                         file_hash=fingerprint(folder, full=True),
                         default_gen_length=generation_defaults(folder)["gen_length"])
