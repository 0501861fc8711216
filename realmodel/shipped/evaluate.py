"""Commit rules swept against static decoding, and their metrics: the one sweep and the
one metrics computation behind ``paradec eval`` and the report's model section
(:func:`paradec.experiments.model.sweep`).

It lives in realmodel because that is the lowest layer that can hold it: a sweep decodes
with :mod:`realmodel.engine` and scores answers with the shipped task's scorer, which
neither theory nor simulate may import. The parameter grids are data: ``paradec eval``'s
is :data:`DEFAULT_SWEEP`, the report's are ``paradec.experiments.options.SWEEPS`` (kept in
the application layer so that the report's options load without torch); :func:`sweep_rules`
expands either.

:func:`run_sweep` decodes the prompts under each rule of the sweep (LLaDA's
semi-autoregressive blocks) and :func:`score` measures each run. Accuracy is exact match of
the number after '#' (the text up to the first EOS) when reference problems are given.
Speed is reported per sequence, independently of the batch size: ``calls`` is the mean
number of forward calls a sequence needed (its own decoding steps, = model calls at batch
size 1), ``tokens_per_call`` the generated tokens (the whole generation length, EOS padding
included, as the engine counts them) per such call, and ``tokens_per_second`` generated
tokens over decoding wall time at the batch size used (machine dependent).
``batched_calls`` is the number of batched forward calls made. Against static decoding a
row also carries agreement (tokens, whole sequences, answers) and the ratios static / rule
of calls and of wall time (> 1: faster than static).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from realmodel.engine import DecodeConfig, decode
from realmodel.engine.prompts import DecodeResult, Prompt
from realmodel.model.denoiser import Denoiser
from realmodel.shipped.task import Problem, is_correct
from theory import Quota, Rule, make_rules

__all__ = ["EvalRow", "problem_prompts", "answer_text", "evaluate", "sweep_rules",
           "DEFAULT_SWEEP", "RULE_CHOICES", "score", "run_sweep", "at_equal_accuracy"]

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

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> EvalRow:
        """The EvalRow of a :func:`score` row (its other keys are left out)."""
        return cls(**{f.name: row[f.name] for f in fields(cls)})


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


def _se(p: float, n: int) -> float:
    return math.sqrt(max(p * (1 - p), 0.0) / n)


def score(denoiser: Denoiser, rule: Rule, result: DecodeResult,
          problems: Sequence[Problem] | None = None,
          static: DecodeResult | None = None) -> dict[str, Any]:
    """The metrics of one decode ``result`` of ``rule`` (see the module docstring).

    Keys: the :class:`EvalRow` fields (``correct``, ``accuracy`` and ``accuracy_se`` are
    None without ``problems``), then, when ``static`` (static decoding's result on the same
    prompts) is given, ``token_agreement``, ``sequence_agreement`` (means over sequences),
    ``answer_agreement`` and ``answer_agreement_se``.
    """
    n = len(result.sequences)
    if n == 0:
        raise ValueError("no sequences to score")
    answers = [answer_text(denoiser, s.generated) for s in result.sequences]
    correct = None if problems is None else \
        sum(is_correct(a, p) for a, p in zip(answers, problems, strict=True))
    accuracy = None if correct is None else correct / n
    steps = result.sequence_steps
    row: dict[str, Any] = {
        "rule": rule.name, "parameter": rule.parameter,
        "value": float(getattr(rule, rule.parameter)), "label": rule.label(), "n": n,
        "correct": correct, "accuracy": accuracy,
        "accuracy_se": None if accuracy is None else _se(accuracy, n),
        "calls": steps / n, "tokens_per_call": result.generated_tokens / steps,
        "tokens_per_second": result.tokens_per_second, "batched_calls": result.calls,
        "wall_seconds": result.wall_seconds}
    if static is not None:
        pairs = list(zip(result.sequences, static.sequences, strict=True))
        ref_answers = [answer_text(denoiser, s.generated) for s in static.sequences]
        same_ans = sum(a == b for a, b in zip(answers, ref_answers, strict=True)) / n
        row.update(
            token_agreement=sum(sum(a == b for a, b in zip(s.generated, r.generated,
                                                           strict=True)) / len(s.generated)
                                for s, r in pairs) / n,
            sequence_agreement=sum(s.generated == r.generated for s, r in pairs) / n,
            answer_agreement=same_ans, answer_agreement_se=_se(same_ans, n))
    return row


def run_sweep(denoiser: Denoiser, prompts: Sequence[Prompt], rules: Sequence[Rule],
              config: DecodeConfig, *, problems: Sequence[Problem] | None = None,
              batch_size: int = 500,
              against_static: bool = False) -> Iterator[tuple[dict[str, Any], DecodeResult]]:
    """Decode ``prompts`` with ``config`` under each of ``rules`` in turn; yield each
    rule's :func:`score` row and decode result as soon as it is done.

    ``problems``: the prompts' reference problems (for accuracy), or None.
    ``against_static``: the first rule must be static decoding (Quota(1)); its row is
    labelled ``static`` and every row carries agreement with it and ``calls_ratio``,
    ``wall_ratio`` (static / rule).
    """
    if against_static and (not rules or rules[0] != Quota(1)):
        raise ValueError("a sweep against static decoding starts with Quota(1)")
    static: DecodeResult | None = None
    base: dict[str, Any] = {}
    for rule in rules:
        result = decode(denoiser, prompts, replace(config, rule=rule), batch_size=batch_size)
        if against_static and static is None:
            static = result
        row = score(denoiser, rule, result, problems, static)
        if against_static:
            if not base:
                row["label"], base = "static", row
            row["calls_ratio"] = base["calls"] / row["calls"]
            row["wall_ratio"] = base["wall_seconds"] / row["wall_seconds"]
        yield row, result


def evaluate(denoiser: Denoiser, problems: Sequence[Problem], config: DecodeConfig, *,
             batch_size: int = 500) -> EvalRow:
    """Decode ``problems`` with ``config`` and score them (see the module docstring)."""
    if not problems:
        raise ValueError("no problems to evaluate")
    row, _ = next(run_sweep(denoiser, problem_prompts(problems, denoiser), [config.rule],
                            config, problems=problems, batch_size=batch_size))
    return EvalRow.of(row)


def sweep_rules(names: Sequence[str], values: Sequence[float] | None = None,
                sweep: Mapping[str, Sequence[float]] = DEFAULT_SWEEP) -> list[Rule]:
    """Rules to evaluate: ``static`` (Quota(1)), a rule name (its values in ``sweep``, or
    ``values``), or ``all`` (static then every rule of ``sweep``, in its order); each rule
    once. ``sweep`` defaults to :data:`DEFAULT_SWEEP` (``paradec eval``); the report passes
    its own grid."""
    choices = ("static", "all", *sweep)
    rules: list[Rule] = []
    for name in names:
        if name not in choices:
            raise ValueError(f"unknown rule {name!r}; choose from {', '.join(choices)}")
        if name in ("static", "all"):
            rules.append(Quota(1))
        if name == "all":
            rules += make_rules(sweep)
        elif name != "static":
            rules += make_rules({name: sweep[name] if values is None else values})
    unique: list[Rule] = []
    for r in rules:
        if r not in unique:
            unique.append(r)
    return unique


def at_equal_accuracy(rows: Sequence[Mapping[str, Any]], rules: Sequence[str],
                      against: str) -> list[dict[str, Any]]:
    """Speed at equal accuracy: each row of the rules named ``rules`` next to the row of
    rule ``against`` with the most tokens per call among those at least as accurate.

    ``rows``: :func:`score` rows with accuracies. Returns, per row of ``rules`` in order,
    ``{"label", "accuracy", "tokens_per_call", "match", "ratio"}``: ``match`` the chosen
    ``against`` row (None when none is as accurate) and ``ratio`` its tokens per call
    divided into the row's (> 1: the row is faster at no lower accuracy). No
    interpolation: only settings that were run are compared.
    """
    if any(r["accuracy"] is None for r in rows):
        raise ValueError("speed at equal accuracy needs rows with accuracies")
    pool = [r for r in rows if r["rule"] == against]
    out: list[dict[str, Any]] = []
    for r in (r for r in rows if r["rule"] in rules):
        ok = [m for m in pool if m["accuracy"] >= r["accuracy"]]
        match = max(ok, key=lambda m: m["tokens_per_call"]) if ok else None
        out.append({"label": r["label"], "accuracy": r["accuracy"],
                    "tokens_per_call": r["tokens_per_call"], "match": match,
                    "ratio": None if match is None else
                    r["tokens_per_call"] / match["tokens_per_call"]})
    return out
