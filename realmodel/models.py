"""Named models, prompt files, built-in prompt sets and scoring for ``paradec decode``.

``load_denoiser(spec)`` accepts ``tiny-random`` (a seeded random LLaDA-shaped model built
in memory), ``tiny-random-dream`` (the same for a Dream shape), ``antiberty`` (the
pretrained AntiBERTy shipped by its package), the name of a shipped model
(``realmodel.shipped.SHIPPED``), or a folder: a LLaDA checkpoint (config.json with
model_type "llada"), a Dream checkpoint (model_type "Dream"), a shipped-format folder or
any transformers masked LM.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import torch

from realmodel.engine.prompts import DecodeResult, Prompt, token_ids
from realmodel.model.checkpoint import (
    fingerprint,
    load_llada,
    local_tokenizer,
    read_config,
    read_json_object,
)
from realmodel.model.denoiser import Denoiser, LLaDADenoiser
from realmodel.model.dream import DreamDenoiser, is_dream_folder, load_dream, random_dream
from realmodel.model.hf import load_antiberty, load_masked_lm
from realmodel.model.tiny import random_llada, tiny_config

__all__ = ["DTYPES", "load_denoiser", "read_prompts", "builtin_prompts", "antibodies",
           "score", "TINY_RANDOM", "TINY_RANDOM_DREAM"]

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
TINY_RANDOM = "tiny-random"
TINY_RANDOM_DREAM = "tiny-random-dream"

_ARITHMETIC = [("What is 12 + 35?", "47"), ("What is 9 times 8?", "72"),
               ("Lily has 5 apples and buys 7 more. How many apples does she have?", "12"),
               ("What is 100 minus 37?", "63")]


def load_denoiser(spec: str, *, dtype: str = "float32", device: str = "cpu", seed: int = 0,
                  chat: bool = True, trust_remote_code: bool = False) -> Denoiser:
    """The denoiser named by ``spec`` (see the module docstring).

    LLaDA and shipped checkpoints load from safetensors only, with paradec's own module
    (no remote code, ever); ``trust_remote_code`` reaches transformers' loaders for other
    masked-LM folders and is off unless the caller turns it on.
    """
    if dtype not in DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}; choose from {', '.join(DTYPES)}")
    try:
        torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"unknown device {device!r}; use cpu, cuda or cuda:i") from None
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} requested but CUDA is not available")
    torch_dtype = DTYPES[dtype]
    if spec == TINY_RANDOM:
        config = tiny_config(d_model=64, n_heads=4, vocab_size=128)
        model = random_llada(config, seed=seed, logit_scale=4.0, dtype=torch_dtype)
        return LLaDADenoiser(model.to(device), name=f"{TINY_RANDOM}(seed={seed})",
                             default_gen_length=32)
    if spec == TINY_RANDOM_DREAM:
        return DreamDenoiser(random_dream(seed=seed, dtype=torch_dtype).to(device),
                             name=f"{TINY_RANDOM_DREAM}(seed={seed})", default_gen_length=32)
    if spec == "antiberty":
        return load_antiberty(dtype=torch_dtype, device=device)
    from realmodel.shipped import SHIPPED, is_shipped, load_shipped

    if is_shipped(spec):
        return load_shipped(spec, device=device, dtype=torch_dtype)
    path = Path(spec)
    if not path.is_dir():
        names = [TINY_RANDOM, TINY_RANDOM_DREAM, "antiberty", *SHIPPED]
        raise FileNotFoundError(f"--model {spec!r}: not a folder, and not one of "
                                f"{', '.join(names)}")
    raw = read_json_object(path / "config.json") if (path / "config.json").is_file() else {}
    if is_dream_folder(path):
        return DreamDenoiser(load_dream(path, dtype=torch_dtype, device=device),
                             tokenizer=local_tokenizer(path), name=str(path.resolve()),
                             file_hash=f"fingerprint:{fingerprint(path)}", chat=chat)
    if raw.get("model_type") == "llada" or "LLaDAModelLM" in raw.get("architectures", []):
        read_config(path)
        tokenizer = local_tokenizer(path)
        model = load_llada(path, dtype=torch_dtype, device=device)
        return LLaDADenoiser(model, tokenizer=tokenizer, name=str(path.resolve()),
                             file_hash=f"fingerprint:{fingerprint(path)}", chat=chat)
    return load_masked_lm(path, dtype=torch_dtype, device=device,
                          trust_remote_code=trust_remote_code)


def read_prompts(path: str | Path, denoiser: Denoiser) -> list[Prompt]:
    """Prompts from JSONL: ``{"prompt": text, "suffix"?: text, "answer"?: text}`` through
    the model's tokenizer, or ``{"input_ids": [...], "suffix_ids"?: [...], "answer_ids"?:
    [...], "answer"?: text}``; ``"name"?: text`` in either. Each field has one type: text
    for prompt, suffix, answer and name, a list of non-negative integer token ids for the
    ``*_ids`` (null means absent, except for prompt and input_ids). Anything else (a
    number for text, text or a float for an id) is an error naming the line and field."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"prompt file {path} does not exist")
    if not path.is_file():
        raise ValueError(f"prompt file {path} is not a file")
    try:
        text = path.read_bytes().decode("utf-8")  # no newline translation of a lone \r
    except UnicodeDecodeError as err:
        raise ValueError(f"prompt file {path} is not UTF-8 text ({err.reason} at byte "
                         f"{err.start})") from None
    prompts = []
    # lines end at "\n" only: str.splitlines() would also split at \r, \x1c or U+2028,
    # which JSON strings may hold, and misnumber every later line
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}:{number}: not JSON ({err})") from None
        if not isinstance(item, dict) or ("prompt" in item) == ("input_ids" in item):
            raise ValueError(f"{path}:{number}: need exactly one of 'prompt' or 'input_ids'")
        where = f"{path}:{number}"
        f = {key: _field(item, key, where) for key in (*_TEXT_FIELDS, *_ID_FIELDS)}
        name = f["name"] if f["name"] is not None else f"{path.name}:{number}"
        if f["prompt"] is not None:
            ids, suffix = denoiser.encode(f["prompt"], f["suffix"])
            prompts.append(Prompt(ids=tuple(ids), suffix=tuple(suffix), answer=f["answer"],
                                  name=name))
        else:
            prompts.append(Prompt(ids=f["input_ids"], suffix=f["suffix_ids"] or (),
                                  answer=f["answer"], answer_ids=f["answer_ids"], name=name))
    if not prompts:
        raise ValueError(f"prompt file {path} has no prompts")
    return prompts


_TEXT_FIELDS = ("prompt", "suffix", "answer", "name")
_ID_FIELDS = ("input_ids", "suffix_ids", "answer_ids")


def _field(item: dict[str, Any], key: str, where: str) -> Any:
    """The value of ``key`` in a prompt line: text for the text fields, a tuple of
    integer token ids for the id fields, None when absent (or null, for the optional
    fields); ValueError naming ``where`` and the field otherwise."""
    value = item.get(key)
    if value is None and (key not in item or key not in ("prompt", "input_ids")):
        return None
    if key in _TEXT_FIELDS:
        if not isinstance(value, str):
            raise ValueError(f"{where}: '{key}' must be text (a JSON string), got "
                             f"{_json_kind(value)}")
        return value
    if not isinstance(value, list):
        raise ValueError(f"{where}: '{key}' must be a list of integer token ids, got "
                         f"{_json_kind(value)}")
    ids = token_ids(value, f"{where}: '{key}'")
    if any(t < 0 for t in ids):
        raise ValueError(f"{where}: '{key}' holds {min(ids)}: token ids are >= 0")
    return ids


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    kind = {bool: "a boolean", int: "a number", float: "a number", str: "text",
            list: "a list", dict: "an object"}.get(type(value), "null")
    text = json.dumps(value)
    return f"{kind} ({text if len(text) <= 40 else text[:37] + '...'})"


def antibodies() -> list[dict[str, str]]:
    """The shipped antibody heavy chains (realmodel/data/antibodies.json)."""
    text = resources.files("realmodel").joinpath("data/antibodies.json").read_text()
    return list(json.loads(text)["antibodies"])


def builtin_prompts(spec: str, denoiser: Denoiser, gen_length: int) -> list[Prompt]:
    """A small prompt set for ``spec``: random ids (tiny-random, tiny-random-dream), CDR-H3
    infilling of three therapeutic antibodies (antiberty), arithmetic questions (models
    with a tokenizer)."""
    if spec in (TINY_RANDOM, TINY_RANDOM_DREAM):
        gen = torch.Generator().manual_seed(1234)
        lengths = (6, 11, 4, 9) if spec == TINY_RANDOM else (6, 11, 4, 9, 7, 5)
        return [Prompt(ids=tuple(torch.randint(4, denoiser.vocab_size, (n,), generator=gen)
                                 .tolist()), name=f"random-{n}") for n in lengths]
    if spec == "antiberty":
        return [_cdr_prompt(ab, denoiser, gen_length, junction)
                for ab in antibodies() for junction in (False, True)]
    from realmodel.shipped import heldout_problems, is_shipped, problem_prompts

    if is_shipped(spec):
        return problem_prompts(heldout_problems(spec)[:16], denoiser)
    if denoiser.tokenizer is None:
        raise ValueError(f"model {spec!r} has no tokenizer and no built-in prompts: give "
                         "--prompts with input_ids")
    prompts = []
    for question, answer in _ARITHMETIC:
        ids, suffix = denoiser.encode(question)
        prompts.append(Prompt(ids=tuple(ids), suffix=tuple(suffix), answer=answer,
                              name=question))
    return prompts


def _cdr_prompt(ab: dict[str, str], denoiser: Denoiser, L: int, junction: bool) -> Prompt:
    """Mask L residues of ``ab``'s sequence: centred on the CDR-H3 loop (hypervariable,
    low confidence), or from its last three residues into framework 4 (``junction``:
    conserved, high confidence)."""
    seq, cdr = ab["sequence"], ab["cdr_h3"]
    where = seq.find(cdr)
    if where < 0:
        raise ValueError(f"{ab['name']}: CDR-H3 {cdr} is not in its sequence")
    if not 1 <= L <= len(seq):
        raise ValueError(f"gen length {L} does not fit a {len(seq)}-residue sequence")
    start = where + len(cdr) - 3 if junction else where + (len(cdr) - L) // 2
    start = min(max(0, start), len(seq) - L)
    before, region, after = seq[:start], seq[start:start + L], seq[start + L:]
    ids, suffix = denoiser.encode(before, after)
    answer_ids = denoiser.tokenize(region)
    if len(answer_ids) != L:
        raise ValueError(f"{ab['name']}: {L} residues gave {len(answer_ids)} tokens")
    return Prompt(ids=tuple(ids), suffix=tuple(suffix), answer=region,
                  answer_ids=tuple(answer_ids),
                  name=f"{ab['name']} {'CDR-H3/FR4' if junction else 'CDR-H3'}")


def score(result: DecodeResult, denoiser: Denoiser) -> dict[str, Any]:
    """Accuracy where answers exist: ``recovery`` = share of generated tokens equal to
    ``answer_ids``; ``accuracy`` = share of sequences whose text has the answer (numbers:
    the last number in the text equals it; otherwise whitespace-insensitive containment)."""
    out: dict[str, Any] = {}
    with_ids = [s for s in result.sequences if s.answer_ids]
    if with_ids:
        hits = sum(int(a == b) for s in with_ids
                   for a, b in zip(s.generated, s.answer_ids or (), strict=False))
        out["recovery"] = hits / sum(len(s.answer_ids or ()) for s in with_ids)
    with_text = [s for s in result.sequences if s.answer is not None]
    if with_text:
        correct = 0
        for s in with_text:
            s.text = denoiser.decode_text(s.generated)
            correct += _matches(s.text, str(s.answer))
        out["accuracy"] = correct / len(with_text)
    return out


def _matches(text: str, answer: str) -> bool:
    answer = answer.strip()
    if re.fullmatch(r"-?\d+(\.\d+)?", answer.replace(",", "")):
        numbers = re.findall(r"-?\d+(?:\.\d+)?", text.replace(",", ""))
        return bool(numbers) and float(numbers[-1]) == float(answer.replace(",", ""))
    squash = re.compile(r"\s+")
    return squash.sub("", answer).casefold() in squash.sub("", text).casefold()
