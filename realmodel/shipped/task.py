"""The shipped task: chains of integer additions and subtractions with worked steps.

A problem is a chain ``a0 op1 a1 op2 a2 ...`` of 2 to 4 one-digit operands (0..9); its worked
solution evaluates it left to right, one running sum per step, then states the answer
after ``#``. Every number is written with two digits, so each step has the same width and
the operand a step copies sits at a fixed offset from the prompt::

    prompt   "07+08-09+03="
    response "07+08=15;15-09=06;06+03=09;#09"

Copying an operand is easy, a running sum is hard: a response mixes confident and
unconfident positions, which is what the commit rules are about. A subtraction that would
make the running sum negative is turned into an addition, so every number is a
non-negative integer of at most two digits and every response fits in
:data:`RESPONSE_CHARS` characters.

Problems are drawn with an explicit ``numpy.random.Generator``; the held-out set is a
fixed draw of 3- and 4-operand chains from seed :data:`HELDOUT_SEED`, stored as JSONL
next to this module, and the training stream skips every held-out prompt.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["Problem", "Example", "sample_problem", "sample_problems", "extract_answer",
           "is_correct", "save_problems", "load_problems", "heldout_problems", "HELDOUT_PATH",
           "HELDOUT_SEED", "HELDOUT_SIZE", "RESPONSE_CHARS", "PROMPT_CHARS", "MAX_OPERAND",
           "TERMS"]

MAX_OPERAND = 9
TERMS = (2, 3, 4)
RESPONSE_CHARS = 30  # 3 steps of "ab+cd=ef;" (9 chars) + "#ef"
PROMPT_CHARS = 12    # "ab+cd-ef+gh="
HELDOUT_SEED = 20261123
HELDOUT_SIZE = 500
HELDOUT_PATH = Path(__file__).with_name("data") / "heldout.jsonl"


@dataclass(frozen=True)
class Problem:
    """One problem: ``prompt``, worked ``response`` ending with ``#answer`` and the integer
    ``answer`` (the shipped tasks' common shape: arithmetic chains and word problems)."""

    prompt: str
    response: str
    answer: int

    def __post_init__(self) -> None:
        if not self.prompt:
            raise ValueError("empty prompt")
        if extract_answer(self.response) != self.answer:
            raise ValueError(f"response {self.response!r} does not end with #{self.answer}")


@dataclass(frozen=True)
class Example:
    """A training pair without a scored answer: an exercise mixed into a task's training
    stream (``train.restatement``, a task's drill)."""

    prompt: str
    response: str


def solve(operands: Iterable[int], ops: Iterable[str]) -> Problem:
    """The problem of a chain and its left-to-right worked solution.

    >>> solve([7, 8, 9], "+-").response
    '07+08=15;15-09=06;#06'
    """
    values, signs = list(operands), list(ops)
    if len(values) != len(signs) + 1 or len(values) < 2:
        raise ValueError(f"need one more operand than operators, got {values} and {signs}")
    prompt = f"{values[0]:02d}"
    steps, acc = [], values[0]
    for op, b in zip(signs, values[1:], strict=True):
        if op not in "+-":
            raise ValueError(f"unknown operator {op!r}")
        new = acc + b if op == "+" else acc - b
        steps.append(f"{acc:02d}{op}{b:02d}={new:02d}")
        prompt += f"{op}{b:02d}"
        acc = new
    return Problem(prompt=prompt + "=", response=";".join(steps) + f";#{acc:02d}",
                   answer=acc)


def sample_problem(rng: np.random.Generator) -> Problem:
    """One chain of 2-4 operands in 0..MAX_OPERAND (subtractions kept non-negative)."""
    n = int(rng.choice(TERMS))
    values = [int(v) for v in rng.integers(0, MAX_OPERAND + 1, size=n)]
    ops, acc = [], values[0]
    for b in values[1:]:
        op = "+" if rng.random() < 0.5 or acc - b < 0 else "-"
        acc = acc + b if op == "+" else acc - b
        ops.append(op)
    return solve(values, ops)


def sample_problems(rng: np.random.Generator, n: int,
                    exclude: frozenset[str] = frozenset()) -> list[Problem]:
    """``n`` problems whose prompts are not in ``exclude`` (repeats allowed)."""
    out: list[Problem] = []
    while len(out) < n:
        p = sample_problem(rng)
        if p.prompt not in exclude:
            out.append(p)
    return out


def extract_answer(text: str) -> int | None:
    """The integer after the last '#' of a response, or None when there is none.

    >>> extract_answer("7+15=22;#22"), extract_answer("7+15=22;"), extract_answer("#x")
    (22, None, None)
    """
    if "#" not in text:
        return None
    tail = text.rsplit("#", 1)[1].strip()
    if not tail or not (tail.isdigit() or (tail[0] == "-" and tail[1:].isdigit())):
        return None
    return int(tail)


def is_correct(text: str, problem: Problem) -> bool:
    """Exact match of the final number."""
    return extract_answer(text) == problem.answer


def save_problems(problems: Iterable[Problem], path: str | Path) -> None:
    with Path(path).open("w") as fh:
        for p in problems:
            fh.write(json.dumps({"prompt": p.prompt, "response": p.response,
                                 "answer": p.answer}) + "\n")


def load_problems(path: str | Path) -> list[Problem]:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no problem file {path}")
    return [Problem(**json.loads(line)) for line in path.read_text().splitlines() if line]


def heldout_problems() -> list[Problem]:
    """The committed held-out set: HELDOUT_SIZE distinct prompts drawn from HELDOUT_SEED."""
    return load_problems(HELDOUT_PATH)


def make_heldout(seed: int = HELDOUT_SEED, size: int = HELDOUT_SIZE) -> list[Problem]:
    """Regenerate the held-out set: the first ``size`` distinct prompts of ``seed`` with
    3 or 4 operands (the 2-operand space, about 150 prompts, is left to training)."""
    rng = np.random.default_rng(seed)
    seen: dict[str, Problem] = {}
    while len(seen) < size:
        p = sample_problem(rng)
        if p.response.count(";") >= 2:
            seen.setdefault(p.prompt, p)
    return list(seen.values())
