"""How to decode: :class:`DecodeConfig`, validated once (frozen dataclass)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from realmodel.engine.sampling import EOS_MODES
from theory import Quota, Rule

__all__ = ["CACHE_MODES", "DecodeConfig", "deterministic_reason"]

CACHE_MODES = ("none", "prefix", "dual")


@dataclass(frozen=True)
class DecodeConfig:
    """How to decode.

    rule: a theory rule (Quota(1) is static one-token-per-step decoding).
    gen_length, block_length: L and the block size (L must be a multiple).
    steps: LLaDA's total number of steps; when set the rule must be a Quota and each step
        commits k_t = llada_quota(m0, steps / n_blocks, t) positions of the block.
    cache: "none", "prefix" or "dual" ([FastdLLM] Wu et al., arXiv 2505.22618: PrefixCache
        and DualCache; docs/realmodel.md, "The decode engine").
    temperature: 0 for argmax, > 0 for float64 Gumbel-max draws.
    eos: EOS option, one of realmodel.engine.sampling.EOS_MODES.
    stop_at_eos: once a row's first EOS/EoT has no mask before it, fill the masks after
        it with EOS and stop the row.
    seed: seeds one noise generator per sequence (seed, sequence index).
    float64: compute confidences in float64 (LLaDA's reference does).
    check_logits: reject NaN / +inf logits at every step.
    forbid_mask: give the mask token logit -inf. Off by default (the reference samplers
        do not do it, and it renormalises every confidence); then committing the mask
        token, which would leave the position masked forever, is an error.
    """

    rule: Rule = field(default_factory=lambda: Quota(1))
    gen_length: int = 256
    block_length: int = 32
    steps: int | None = None
    cache: str = "none"
    temperature: float = 0.0
    eos: str = "none"
    stop_at_eos: bool = False
    seed: int = 0
    float64: bool = True
    check_logits: bool = True
    forbid_mask: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.rule, Rule):
            raise ValueError(f"rule must be a theory rule (theory.make_rule), got {self.rule!r}")
        for name in ("gen_length", "block_length"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.gen_length % self.block_length:
            raise ValueError(f"gen_length={self.gen_length} is not a multiple of "
                             f"block_length={self.block_length}")
        if self.steps is not None:
            if isinstance(self.steps, bool) or not isinstance(self.steps, int):
                raise ValueError(f"steps must be an integer or None, got {self.steps!r}")
            if not isinstance(self.rule, Quota):
                raise ValueError(f"steps={self.steps} sets LLaDA's quota schedule; it needs "
                                 f"the quota rule, not {self.rule.name}")
            if self.steps < 1 or self.steps % self.n_blocks:
                raise ValueError(f"steps={self.steps} must be a positive multiple of the "
                                 f"number of blocks {self.n_blocks}")
        if self.cache not in CACHE_MODES:
            raise ValueError(f"unknown cache mode {self.cache!r}; choose from "
                             f"{', '.join(CACHE_MODES)}")
        if self.eos not in EOS_MODES:
            raise ValueError(f"unknown eos mode {self.eos!r}; choose from {', '.join(EOS_MODES)}")
        if isinstance(self.temperature, bool) or not isinstance(self.temperature, (int, float)) \
                or not 0 <= self.temperature < float("inf"):
            raise ValueError(f"temperature must be finite and >= 0, got {self.temperature!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be an integer >= 0, got {self.seed!r}")
        for name in ("stop_at_eos", "float64", "check_logits", "forbid_mask"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")

    @property
    def n_blocks(self) -> int:
        return self.gen_length // self.block_length

    @property
    def steps_per_block(self) -> int | None:
        return None if self.steps is None else self.steps // self.n_blocks

    def describe(self) -> dict[str, Any]:
        """JSON-ready description (trace provenance)."""
        rule = self.rule
        options = {k: v for k, v in vars(rule).items() if k != rule.parameter}
        return {"rule": {"name": rule.name, "parameter": rule.parameter,
                         "value": getattr(rule, rule.parameter), "options": options,
                         "label": rule.label()},
                "gen_length": self.gen_length, "block_length": self.block_length,
                "steps": self.steps, "cache": self.cache, "temperature": self.temperature,
                "eos": self.eos, "stop_at_eos": self.stop_at_eos, "seed": self.seed,
                "float64": self.float64, "forbid_mask": self.forbid_mask}


def deterministic_reason(decode: dict[str, Any]) -> str | None:
    """Why a decode configuration is not a deterministic decoding FreeDave can reproduce,
    or None when it is: temperature 0 (argmax tokens) and no stop_at_eos (a stopped row
    fills its tail without steps). LLaDA's schedule (``steps``) is deterministic too: its
    quota at a state follows from the tokens the block has committed
    (:func:`theory.rules.llada_step_index`). ``decode`` is :meth:`DecodeConfig.describe`
    (a trace's provenance["decode"])."""
    if decode.get("temperature", 0) != 0:
        return f"temperature {decode.get('temperature')} samples (this needs 0)"
    if decode.get("stop_at_eos"):
        return "stop_at_eos fills sequences without steps (every token must be decoded)"
    return None
