"""Shipped models by name: ``load_shipped("tiny-arith")`` -> a denoiser, no network.

A shipped model is a folder in LLaDA's on-disk format (config.json, model.safetensors)
plus its tokenizer (``vocab.json``, a :class:`~realmodel.shipped.tokenizer.CharTokenizer`,
or ``tokenizer.json`` + ``tokenizer_config.json``, a BPE saved by transformers),
``generation.json`` (the generation and block length it was trained for and its task) and
``train_log.json`` (training config, loss curve, timings). The folders live under
``realmodel/shipped/models/`` and are committed to the repository.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from realmodel.model.checkpoint import fingerprint, load_llada, local_tokenizer
from realmodel.model.denoiser import LLaDADenoiser
from realmodel.shipped.task import Problem
from realmodel.shipped.tasks import Task, task_named
from realmodel.shipped.tokenizer import CharTokenizer

__all__ = ["SHIPPED", "DEFAULT_MODEL", "shipped_path", "load_shipped", "generation_defaults",
           "is_shipped", "task_of", "min_static_accuracy", "MIN_STATIC_ACCURACY",
           "heldout_problems", "load_tokenizer"]

_ROOT = Path(__file__).with_name("models")

#: name -> checkpoint folder of every model shipped with paradec.
SHIPPED: dict[str, Path] = {"tiny-arith": _ROOT / "tiny-arith",
                            "tiny-words": _ROOT / "tiny-words"}
DEFAULT_MODEL = "tiny-arith"
#: static accuracy a shipped model must reach on 100+ held-out problems in the report (a
#: check that the committed weights are the trained ones; set below what it reached).
#: tiny-words has none: its accuracy is too low to tell trained weights from others
#: (docs/shipped.md); its tests check what it did learn instead.
MIN_STATIC_ACCURACY: dict[str, float] = {"tiny-arith": 0.8}


def shipped_path(name: str | Path) -> Path:
    """The folder of a shipped model name, or ``name`` itself when it is a shipped-format
    folder (e.g. the output of ``paradec train``); ValueError otherwise."""
    if str(name) in SHIPPED:
        return SHIPPED[str(name)]
    folder = Path(name)
    if (folder / "config.json").is_file() and ((folder / "vocab.json").is_file() or (
            (folder / "tokenizer.json").is_file() and (folder / "generation.json").is_file())):
        return folder
    raise ValueError(f"unknown model {str(name)!r}: not a shipped model "
                     f"({', '.join(SHIPPED)}) nor a folder with config.json and vocab.json "
                     "(or tokenizer.json and generation.json)")


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


def min_static_accuracy(name: str | Path) -> float | None:
    """The report's floor for a shipped model's static accuracy (None: no floor)."""
    return MIN_STATIC_ACCURACY.get(str(name))


def task_of(name: str | Path) -> Task:
    """The task a shipped model was trained on (``generation.json``'s ``task``; folders
    written before there were two tasks are ``arith``)."""
    path = shipped_path(name) / "generation.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path.parent} has no generation.json")
    return task_named(str(json.loads(path.read_text()).get("task", "arith")))


def heldout_problems(name: str | Path = DEFAULT_MODEL) -> list[Problem]:
    """The committed held-out problems of a shipped model's task (default tiny-arith's)."""
    return task_of(name).heldout()


def load_tokenizer(folder: str | Path) -> Any:
    """The tokenizer saved in a shipped-format folder: ``vocab.json`` (characters) or
    ``tokenizer.json`` (subwords); FileNotFoundError when it has neither."""
    if (Path(folder) / "vocab.json").is_file():
        return CharTokenizer.load(folder)
    tokenizer = local_tokenizer(folder)
    if tokenizer is None:
        raise FileNotFoundError(f"{folder} has no vocab.json nor tokenizer.json")
    return tokenizer


def load_shipped(name: str | Path = DEFAULT_MODEL, *, device: str | torch.device = "cpu",
                 dtype: torch.dtype = torch.float32) -> LLaDADenoiser:
    """The shipped model ``name`` (or a shipped-format folder) as a :class:`LLaDADenoiser`
    with its tokenizer (prompts through its chat template when it has one, as in
    training); its ``default_gen_length`` is the trained one."""
    folder = shipped_path(name)
    model = load_llada(folder, dtype=dtype, device=device)
    tokenizer = load_tokenizer(folder)
    if len(tokenizer) != model.config.vocab_size:
        raise ValueError(f"{folder}: the tokenizer has {len(tokenizer)} tokens, config.json "
                         f"vocab_size={model.config.vocab_size}")
    label = str(name) if str(name) in SHIPPED else folder.name
    return LLaDADenoiser(model, tokenizer=tokenizer, name=label, chat=True,
                         file_hash=fingerprint(folder, full=True),
                         default_gen_length=generation_defaults(folder)["gen_length"])
