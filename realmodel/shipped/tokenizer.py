"""A character-level tokenizer with LLaDA-style special tokens, saved as ``vocab.json``.

Ids 0..3 are [PAD], [BOS], [EOS], [MASK]; the rest are single characters. It implements
the part of transformers' tokenizer interface that :class:`realmodel.model.denoiser.LLaDADenoiser`
uses (``__call__`` with ``add_special_tokens``, ``decode``, ``convert_tokens_to_ids``), so
the shipped model plugs into the decode engine like any LLaDA checkpoint.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["CharTokenizer", "SPECIALS", "CHARS", "VOCAB_NAME"]

SPECIALS = ("[PAD]", "[BOS]", "[EOS]", "[MASK]")
CHARS = "0123456789+-=;# "
VOCAB_NAME = "vocab.json"


class CharTokenizer:
    """Characters <-> ids; unknown characters are a ValueError naming them."""

    chat_template = None

    def __init__(self, tokens: Iterable[str] = SPECIALS + tuple(CHARS)) -> None:
        self.tokens = list(tokens)
        if list(self.tokens[:4]) != list(SPECIALS):
            raise ValueError(f"the first tokens must be {SPECIALS}, got {self.tokens[:4]}")
        if len(set(self.tokens)) != len(self.tokens):
            raise ValueError("duplicate tokens in the vocabulary")
        for t in self.tokens[4:]:
            if len(t) != 1:
                raise ValueError(f"non-special token {t!r} is not one character")
        self.ids = {t: i for i, t in enumerate(self.tokens)}
        self.pad_token_id, self.bos_token_id, self.eos_token_id, self.mask_token_id = 0, 1, 2, 3
        self.unk_token_id = None

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        bad = sorted({ch for ch in text if ch not in self.ids or self.ids[ch] < 4})
        if bad:
            raise ValueError(f"characters {bad} are not in the vocabulary")
        ids = [self.ids[ch] for ch in text]
        return [self.bos_token_id] + ids if add_special_tokens else ids

    def __call__(self, text: str, add_special_tokens: bool = True) -> dict[str, Any]:
        return {"input_ids": self.encode(text, add_special_tokens)}

    def decode(self, ids: Iterable[int], skip_special_tokens: bool = False) -> str:
        out = []
        for i in ids:
            i = int(i)
            if not 0 <= i < len(self.tokens):
                raise ValueError(f"token id {i} is outside the vocabulary 0..{len(self) - 1}")
            if i < 4 and skip_special_tokens:
                continue
            out.append(self.tokens[i])
        return "".join(out)

    def convert_tokens_to_ids(self, token: str) -> int | None:
        return self.ids.get(token)

    def save(self, folder: str | Path) -> Path:
        path = Path(folder) / VOCAB_NAME
        path.write_text(json.dumps({"type": "char", "tokens": self.tokens}, indent=1) + "\n")
        return path

    def save_pretrained(self, folder: str | Path) -> Path:
        """:meth:`save` under transformers' name, so a model folder saves any tokenizer."""
        return self.save(folder)

    @classmethod
    def load(cls, folder: str | Path) -> CharTokenizer:
        path = Path(folder) / VOCAB_NAME
        if not path.is_file():
            raise FileNotFoundError(f"{folder} has no {VOCAB_NAME}")
        raw = json.loads(path.read_text())
        if raw.get("type") != "char":
            raise ValueError(f"{path} is not a character vocabulary")
        return cls(raw["tokens"])
