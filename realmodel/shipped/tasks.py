"""The shipped tasks by name: problem generator, held-out set, prompt room and tokenizer.

- ``arith`` (:mod:`.task`, model ``tiny-arith``): worked chains of one-digit sums with the
  character tokenizer (:class:`~realmodel.shipped.tokenizer.CharTokenizer`).
- ``words`` (:mod:`.words`, model ``tiny-words``): worked English word problems with a
  byte-level BPE tokenizer learnt from the task's own text (:mod:`.subword`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from realmodel.shipped import task as arith
from realmodel.shipped import words
from realmodel.shipped.task import Example, Problem
from realmodel.shipped.tokenizer import CharTokenizer

__all__ = ["Task", "TASKS", "task_named", "TOKENIZER_SEED", "TOKENIZER_PROBLEMS"]

TOKENIZER_SEED = 7
TOKENIZER_PROBLEMS = 50_000


@dataclass(frozen=True)
class Task:
    """A problem family: ``sample_problem(rng)``, its committed ``heldout()`` set, the
    room a prompt's ids need (``prompt_tokens``: BOS or chat wrapper included) and, where
    the task has one, an arithmetic ``drill(rng, small=share, listed=share)`` to mix into
    training."""

    name: str
    sample_problem: Callable[[np.random.Generator], Problem]
    heldout: Callable[[], list[Problem]]
    prompt_tokens: int
    subword: bool
    drill: Callable[..., Example] | None = None

    def stream(self, rng: np.random.Generator,
               exclude: frozenset[str] | None = None) -> Iterator[Problem]:
        """An endless stream of problems whose prompts are not in ``exclude`` (default: the
        held-out prompts), the training data."""
        skip = frozenset(p.prompt for p in self.heldout()) if exclude is None else exclude
        while True:
            p = self.sample_problem(rng)
            if p.prompt not in skip:
                yield p

    def tokenizer(self, vocab_size: int | None) -> Any:
        """The task's tokenizer: the character vocabulary, or a BPE of ``vocab_size``
        tokens learnt from :data:`TOKENIZER_PROBLEMS` problems of seed :data:`TOKENIZER_SEED`
        (held-out prompts excluded)."""
        if not self.subword:
            if vocab_size is not None:
                raise ValueError(f"task {self.name!r} has a fixed character vocabulary")
            return CharTokenizer()
        if vocab_size is None:
            raise ValueError(f"task {self.name!r} needs a subword vocabulary size")
        from realmodel.shipped.subword import train_tokenizer

        problems = itertools.islice(self.stream(np.random.default_rng(TOKENIZER_SEED)),
                                    TOKENIZER_PROBLEMS)
        return train_tokenizer((s for p in problems for s in (p.prompt, p.response)),
                               vocab_size)


TASKS: dict[str, Task] = {
    "arith": Task("arith", arith.sample_problem, arith.heldout_problems,
                  prompt_tokens=1 + arith.PROMPT_CHARS, subword=False),
    "words": Task("words", words.sample_problem, words.heldout_problems, prompt_tokens=80,
                  subword=True, drill=words.drill),
}


def task_named(name: str) -> Task:
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; choose from {', '.join(TASKS)}")
    return TASKS[name]
