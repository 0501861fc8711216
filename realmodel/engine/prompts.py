"""Prompts, the padded canvas a batch is decoded on, and decode results.

Canvas of a batch of B prompts with generation length L (shared):

    [left pad][prompt ids][L mask tokens][suffix ids][right pad]

Prompts are left-padded to the longest prompt P and suffixes right-padded to the longest
suffix S, so the generated region is [P, P + L) in every row and LLaDA's blocks sit at
the same columns. Padding is excluded as attention keys, and position ids count real
tokens only, so a row sees exactly what it would see alone (batch invariance).
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor

from realmodel.model.specials import SpecialTokens

__all__ = ["Prompt", "token_ids", "Canvas", "build_canvas", "SequenceResult", "DecodeResult"]


@dataclass(frozen=True)
class Prompt:
    """One sequence to decode.

    ``ids``: tokens before the generated region; ``suffix``: tokens after it (e.g.
    [SEP] and the rest of a sequence for masked-LM infilling); ``answer``: reference
    text, ``answer_ids``: reference tokens of the generated region (for scoring).
    """

    ids: tuple[int, ...]
    suffix: tuple[int, ...] = ()
    answer: str | None = None
    answer_ids: tuple[int, ...] | None = None
    name: str = ""

    def __post_init__(self) -> None:
        for part in ("ids", "suffix", "answer_ids"):
            value = getattr(self, part)
            if value is not None:
                object.__setattr__(self, part, token_ids(value, f"prompt {self.name!r}: {part}"))
        for part in ("ids", "suffix"):
            if any(t < 0 for t in getattr(self, part)):
                raise ValueError(f"prompt {self.name!r}: negative token id in {part}")


def token_ids(values: Sequence[object], what: str) -> tuple[int, ...]:
    """``values`` as a tuple of ints; a float, bool or text id is an error, never rounded."""
    if isinstance(values, (str, bytes)):
        raise ValueError(f"{what} must be a sequence of integer token ids, got text")
    ids = []
    for t in values:
        try:
            if isinstance(t, bool):
                raise TypeError
            ids.append(operator.index(t))  # type: ignore[arg-type]
        except (TypeError, RuntimeError):
            raise ValueError(f"{what} holds {t!r}, not an integer token id") from None
    return tuple(ids)


@dataclass
class Canvas:
    """Padded token ids of a batch. ``x``, ``key_ok``, ``positions``: (B, T)."""

    x: Tensor
    key_ok: Tensor
    positions: Tensor
    start: int
    gen_length: int


def build_canvas(prompts: Sequence[Prompt], gen_length: int, specials: SpecialTokens,
                 vocab_size: int, device: torch.device | str = "cpu") -> Canvas:
    """The canvas of ``prompts`` (see the module docstring); ValueError on bad ids."""
    if not prompts:
        raise ValueError("no prompts to decode")
    for i, p in enumerate(prompts):
        for t in p.ids + p.suffix:
            if t >= vocab_size:
                raise ValueError(f"prompt {i} ({p.name!r}) has token id {t} >= vocabulary "
                                 f"size {vocab_size}")
            if t == specials.mask_id:
                raise ValueError(f"prompt {i} ({p.name!r}) contains the mask id "
                                 f"{specials.mask_id}; only the generated region is decoded")
    P = max(len(p.ids) for p in prompts)
    S = max(len(p.suffix) for p in prompts)
    B, T = len(prompts), P + gen_length + S
    x = torch.full((B, T), specials.pad_id, dtype=torch.long)
    key_ok = torch.zeros((B, T), dtype=torch.bool)
    for i, p in enumerate(prompts):
        x[i, P - len(p.ids):P] = torch.tensor(p.ids, dtype=torch.long)
        x[i, P:P + gen_length] = specials.mask_id
        x[i, P + gen_length:P + gen_length + len(p.suffix)] = torch.tensor(p.suffix,
                                                                           dtype=torch.long)
        key_ok[i, P - len(p.ids):P + gen_length + len(p.suffix)] = True
    positions = (key_ok.long().cumsum(1) - 1).clamp(min=0)
    return Canvas(x=x.to(device), key_ok=key_ok.to(device), positions=positions.to(device),
                  start=P, gen_length=gen_length)


@dataclass
class SequenceResult:
    """One decoded sequence: its generated ids, the forward calls it needed (its own
    decoding steps), how many tokens each step committed and, when a call evaluated
    several states of it (FreeDave), how many states in all."""

    row: int
    prompt_ids: list[int]
    generated: list[int]
    steps: int
    commits: list[int]
    states: int | None = None
    answer: str | None = None
    answer_ids: list[int] | None = None
    text: str | None = None


@dataclass
class DecodeResult:
    """Results of a decode run; ``calls`` counts batched forward calls."""

    sequences: list[SequenceResult] = field(default_factory=list)
    calls: int = 0
    wall_seconds: float = 0.0
    forward_seconds: float = 0.0

    @property
    def generated_tokens(self) -> int:
        return sum(len(s.generated) for s in self.sequences)

    @property
    def tokens_per_call(self) -> float:
        return self.generated_tokens / self.calls if self.calls else float("nan")

    @property
    def tokens_per_second(self) -> float:
        return self.generated_tokens / self.wall_seconds if self.wall_seconds else float("nan")

    @property
    def sequence_steps(self) -> int:
        """Sum over sequences of their own steps (= calls at batch size 1)."""
        return sum(s.steps for s in self.sequences)

    @staticmethod
    def merge(parts: Sequence[DecodeResult]) -> DecodeResult:
        return DecodeResult(sequences=[s for p in parts for s in p.sequences],
                            calls=sum(p.calls for p in parts),
                            wall_seconds=sum(p.wall_seconds for p in parts),
                            forward_seconds=sum(p.forward_seconds for p in parts))
