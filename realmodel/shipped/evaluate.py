"""Accuracy and speed of a commit rule on the held-out problems.

For one :class:`~realmodel.engine.DecodeConfig` the problems are decoded with the engine
(LLaDA's semi-autoregressive blocks) and scored by exact match of the number after '#'
(the text up to the first EOS). Speed is reported per sequence, independently of the
batch size: ``calls`` is the mean number of forward calls a sequence needed (its own
decoding steps, = model calls at batch size 1), ``tokens_per_call`` the generated tokens
(the whole generation length, EOS padding included, as the engine counts them) per such
call, and ``tokens_per_second`` generated tokens over decoding wall time at the batch size
used (machine dependent). ``batched_calls`` is the number of batched forward calls made.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from realmodel.engine import DecodeConfig, decode
from realmodel.engine.prompts import Prompt
from realmodel.model.denoiser import Denoiser
from realmodel.shipped.task import Problem, is_correct
from theory import Quota, Rule, make_rule

__all__ = ["EvalRow", "problem_prompts", "answer_text", "evaluate", "sweep_rules",
           "DEFAULT_SWEEP", "RULE_CHOICES"]

#: parameter values swept for each rule by ``paradec eval --rule all`` (static is quota 1).
DEFAULT_SWEEP: dict[str, tuple[float, ...]] = {
    "quota": (2, 4),
    "threshold": (0.99, 0.95, 0.9, 0.8, 0.7, 0.5),
    "factor": (0.25, 0.5, 1.0, 2.0),
    "frechet": (0.9, 0.7, 0.5, 0.0),
    "tight": (0.9, 0.7, 0.5, 0.0),
    "entropy": (0.01, 0.1, 0.3, 1.0),
}
RULE_CHOICES = ("static", "all", *DEFAULT_SWEEP)


@dataclass(frozen=True)
class EvalRow:
    """One (rule, parameter) evaluation; JSON keys as in ``paradec eval --json``."""

    rule: str
    parameter: str
    value: float
    label: str
    n: int
    correct: int
    accuracy: float
    accuracy_se: float
    calls: float
    tokens_per_call: float
    tokens_per_second: float
    batched_calls: int
    wall_seconds: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def problem_prompts(problems: Sequence[Problem], denoiser: Denoiser) -> list[Prompt]:
    """Engine prompts ([BOS] + prompt characters) with the reference answer attached."""
    out = []
    for i, p in enumerate(problems):
        ids, _ = denoiser.encode(p.prompt)
        out.append(Prompt(ids=tuple(ids), answer=str(p.answer), name=f"heldout-{i}"))
    return out


def answer_text(denoiser: Denoiser, generated: Sequence[int]) -> str:
    """The generated text up to the first EOS (special tokens dropped)."""
    ids = list(generated)
    eos = denoiser.specials.eos_id
    if eos is not None and eos in ids:
        ids = ids[:ids.index(eos)]
    return denoiser.decode_text(ids)


def evaluate(denoiser: Denoiser, problems: Sequence[Problem], config: DecodeConfig, *,
             batch_size: int = 500) -> EvalRow:
    """Decode ``problems`` with ``config`` and score them (see the module docstring)."""
    if not problems:
        raise ValueError("no problems to evaluate")
    result = decode(denoiser, problem_prompts(problems, denoiser), config,
                    batch_size=batch_size)
    correct = sum(is_correct(answer_text(denoiser, s.generated), p)
                  for s, p in zip(result.sequences, problems, strict=True))
    n = len(problems)
    acc = correct / n
    rule = config.rule
    steps = result.sequence_steps
    return EvalRow(rule=rule.name, parameter=rule.parameter,
                   value=float(getattr(rule, rule.parameter)), label=rule.label(), n=n,
                   correct=correct, accuracy=acc, accuracy_se=math.sqrt(acc * (1 - acc) / n),
                   calls=steps / n, tokens_per_call=result.generated_tokens / steps,
                   tokens_per_second=result.tokens_per_second,
                   batched_calls=result.calls, wall_seconds=result.wall_seconds)


def sweep_rules(names: Sequence[str], values: Sequence[float] | None = None) -> list[Rule]:
    """Rules to evaluate: ``static`` (Quota(1)), a rule name (its DEFAULT_SWEEP, or
    ``values``), or ``all`` (static then every rule's default sweep)."""
    rules: list[Rule] = []
    for name in names:
        if name not in RULE_CHOICES:
            raise ValueError(f"unknown rule {name!r}; choose from {', '.join(RULE_CHOICES)}")
        if name == "static":
            rules.append(Quota(1))
        elif name == "all":
            rules.append(Quota(1))
            rules += [make_rule(r, v) for r, grid in DEFAULT_SWEEP.items() for v in grid]
        else:
            grid = DEFAULT_SWEEP[name] if values is None else tuple(values)
            rules += [make_rule(name, int(v) if name == "quota" else float(v)) for v in grid]
    unique: list[Rule] = []
    for r in rules:
        if r not in unique:
            unique.append(r)
    return unique
