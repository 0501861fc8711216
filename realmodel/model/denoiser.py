"""The interface the decode engine drives: a mask predictor over a canvas of token ids.

A :class:`Denoiser` returns logits for a slice of the canvas. Models with a KV cache
(paradec's LLaDA module, :class:`LLaDADenoiser`) support the prefix and dual caches;
transformers' masked LMs (:mod:`realmodel.model.hf`) support full forwards only.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import torch
from torch import Tensor

from realmodel.model.cache import KVCache
from realmodel.model.llada import LLaDAModel
from realmodel.model.specials import SpecialTokens

__all__ = ["Denoiser", "LLaDADenoiser", "attention_mask", "check_context",
           "check_prompts_fit", "prompt_ids"]


@runtime_checkable
class Denoiser(Protocol):
    """What the engine needs from a model.

    Attributes:
        specials: mask / pad / EOS / EoT ids.
        vocab_size: size of the logits' last axis.
        supports_cache: whether ``forward`` accepts a :class:`KVCache`.
        tokenizer: a transformers tokenizer or None (then prompts must be token ids).
        default_gen_length: generation length when the user gives none.

    A model whose logits for position i come out at position i - s (Dream: s = 1) sets
    ``logit_shift = s`` and returns shifted-back logits itself; the engine (which reads the
    attribute, 0 when absent) then starts a cached forward s columns before the block.
    """

    specials: SpecialTokens
    vocab_size: int
    supports_cache: bool
    tokenizer: Any
    default_gen_length: int

    @property
    def device(self) -> torch.device: ...

    @property
    def dtype(self) -> torch.dtype: ...

    def identity(self) -> dict[str, Any]:
        """Provenance: id, revision or file hash, config, parameter count."""
        ...

    def new_cache(self) -> KVCache:
        """An empty cache (ValueError when the model has none)."""
        ...

    def forward(self, ids: Tensor, positions: Tensor, *, key_ok: Tensor | None = None,
                attend: Tensor | None = None, cache: KVCache | None = None,
                span: tuple[int, int] | None = None,
                head: tuple[int, int] | None = None) -> Tensor:
        """Logits (B, j - i, V) for query positions ``head = (i, j)`` of ``ids`` (B, Tq).

        ``positions`` (B, Tq): position ids. ``key_ok`` (B, Tk) bool: False on padding
        keys. ``attend`` (B, Tq, Tk) bool: an extra restriction (tree drafts), or None.
        ``cache``/``span``: see :meth:`realmodel.model.llada.LLaDAModel.forward`.
        """
        ...

    def encode(self, prompt: str, suffix: str | None = None) -> tuple[list[int], list[int]]:
        """Token ids before and after the generated region, for a text prompt."""
        ...

    def tokenize(self, text: str) -> list[int]:
        """Token ids of ``text`` without special tokens."""
        ...

    def decode_text(self, ids: list[int]) -> str:
        ...


def attention_mask(key_ok: Tensor | None, attend: Tensor | None) -> Tensor | None:
    """Boolean "may attend" mask (B, Tq or 1, Tk) from key padding and an extra restriction.

    Equivalent to an additive -inf bias on forbidden keys. A query left with no key (only
    possible for a padding query under ``attend``) may attend everywhere, so no NaN arises.
    """
    if key_ok is not None and bool(key_ok.all()):
        key_ok = None
    if attend is None:
        return None if key_ok is None else key_ok[:, None, :]
    allowed = attend if key_ok is None else attend & key_ok[:, None, :]
    return allowed | ~allowed.any(-1, keepdim=True)


def check_context(positions: Tensor, max_length: int | None, name: str) -> None:
    """ValueError when a position id reaches the model's context ``max_length``.

    Position ids count a row's real tokens (prompt, generated region, suffix), so the
    largest one plus 1 is the longest sequence of the batch. A model asked past its
    context would index past its position table (BERT) or extrapolate RoPE silently
    (LLaDA): either is refused before the forward call.
    """
    if max_length is None or positions.numel() == 0:
        return
    longest = int(positions.max()) + 1
    if longest > max_length:
        raise ValueError(f"a sequence of {longest} tokens (prompt + generated region + suffix)"
                         f" exceeds the context of model {name!r} ({max_length} positions); "
                         "shorten the prompt or --gen-length")


def check_prompts_fit(prompts: Any, gen_length: int, denoiser: Any) -> None:
    """ValueError naming the first prompt that, with ``gen_length`` generated tokens and its
    suffix, exceeds the model's context (``denoiser.max_length``; no limit when absent).

    The same limit :func:`check_context` enforces at every forward call, checked once up
    front, so that a run is refused before it writes anything.
    """
    limit = getattr(denoiser, "max_length", None)
    if limit is None:
        return
    for i, p in enumerate(prompts):
        n = len(p.ids) + gen_length + len(p.suffix)
        if n > limit:
            raise ValueError(f"prompt {i} ({p.name or 'unnamed'}): {len(p.ids)} prompt tokens "
                             f"+ {gen_length} generated + {len(p.suffix)} suffix = {n} exceeds "
                             f"the context of model {denoiser.identity()['id']!r} ({limit} "
                             "positions); shorten the prompt or --gen-length")


class ModuleDenoiser:
    """Device and dtype of a denoiser that wraps a torch module ``self.model``."""

    model: Any  # a torch.nn.Module; subclasses narrow the type
    logit_shift = 0  # position i's logits are the network's output at i (see Denoiser)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        return next(self.model.parameters()).dtype


class LLaDADenoiser(ModuleDenoiser):
    """paradec's :class:`LLaDAModel` as a denoiser (KV caches supported)."""

    supports_cache = True

    def __init__(self, model: LLaDAModel, *, tokenizer: Any = None, name: str = "llada",
                 revision: str | None = None, file_hash: str | None = None,
                 chat: bool = False, specials: SpecialTokens | None = None,
                 default_gen_length: int = 256) -> None:
        cfg = model.config
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.name, self.revision, self.file_hash = name, revision, file_hash
        self.chat = chat
        self.vocab_size = cfg.vocab_size
        self.max_length: int | None = cfg.max_sequence_length
        self.default_gen_length = default_gen_length
        self.specials = specials or SpecialTokens(
            mask_id=cfg.mask_token_id, pad_id=cfg.pad_token_id, eos_id=cfg.eos_token_id,
            eot_id=_token_id(tokenizer, "<|eot_id|>"))

    def identity(self) -> dict[str, Any]:
        return {"id": self.name, "revision": self.revision, "file_hash": self.file_hash,
                "architecture": "LLaDAModelLM (paradec realmodel.model.llada)",
                "config": self.model.config.to_dict(),
                "parameters": sum(p.numel() for p in self.model.parameters())}

    def new_cache(self) -> KVCache:
        return KVCache.empty(self.model.n_layers)

    def forward(self, ids: Tensor, positions: Tensor, *, key_ok: Tensor | None = None,
                attend: Tensor | None = None, cache: KVCache | None = None,
                span: tuple[int, int] | None = None,
                head: tuple[int, int] | None = None) -> Tensor:
        check_context(positions, self.max_length, self.name)
        allowed = attention_mask(key_ok, attend)
        return self.model(ids, positions, allowed=allowed, cache=cache, span=span, head=head)

    def tokenize(self, text: str) -> list[int]:
        if self.tokenizer is None:
            raise ValueError(f"model {self.name!r} has no tokenizer: give prompts as "
                             "{\"input_ids\": [...]}")
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def encode(self, prompt: str, suffix: str | None = None) -> tuple[list[int], list[int]]:
        if self.tokenizer is None:
            raise ValueError(f"model {self.name!r} has no tokenizer: give prompts as "
                             "{\"input_ids\": [...]}")
        ids = prompt_ids(self.tokenizer, prompt, chat=self.chat)
        return ids, [] if suffix is None else self.tokenize(suffix)

    def decode_text(self, ids: list[int]) -> str:
        if self.tokenizer is None:
            return " ".join(map(str, ids))
        return str(self.tokenizer.decode(ids, skip_special_tokens=True))


def prompt_ids(tokenizer: Any, prompt: str, *, chat: bool) -> list[int]:
    """The ids of a user prompt: the tokenizer's chat template with one user turn and the
    assistant header when ``chat`` and the tokenizer has a template, else the plain text
    with the tokenizer's special tokens (BOS). Decoding and the shipped models' training
    both encode prompts with this."""
    if chat and getattr(tokenizer, "chat_template", None):
        text = tokenizer.apply_chat_template([{"role": "user", "content": prompt}],
                                             add_generation_prompt=True, tokenize=False)
        return list(tokenizer(text, add_special_tokens=False)["input_ids"])
    return list(tokenizer(prompt)["input_ids"])


def _token_id(tokenizer: Any, token: str) -> int | None:
    if tokenizer is None:
        return None
    value = tokenizer.convert_tokens_to_ids(token)
    unk = getattr(tokenizer, "unk_token_id", None)
    return None if value is None or value == unk else int(value)
