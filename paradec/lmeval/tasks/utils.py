"""Functions of the ``paradec_arith`` and ``paradec_words`` lm-eval tasks (their YAML files
name them): the held-out problems of the shipped models tiny-arith and tiny-words."""

from __future__ import annotations

from typing import Any


def heldout(**kwargs: Any) -> Any:
    """tiny-arith's held-out problems as a datasets.DatasetDict with one ``test`` split."""
    return _dataset("tiny-arith")


def heldout_words(**kwargs: Any) -> Any:
    """tiny-words' held-out word problems, likewise."""
    return _dataset("tiny-words")


def _dataset(model: str) -> Any:
    import datasets

    from realmodel.shipped import heldout_problems

    rows = [{"prompt": p.prompt, "response": p.response, "answer": p.answer}
            for p in heldout_problems(model)]
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(rows)})


def process_results(doc: dict[str, Any], results: list[str]) -> dict[str, int]:
    """acc = 1 when the generated text's final number is the answer (paradec eval's
    scorer, realmodel.shipped.task.is_correct)."""
    from realmodel.shipped.task import Problem, is_correct

    problem = Problem(doc["prompt"], doc["response"], int(doc["answer"]))
    return {"acc": int(is_correct(results[0], problem))}
