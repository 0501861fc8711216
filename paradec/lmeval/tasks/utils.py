"""Functions of the ``paradec_arith`` lm-eval task (paradec_arith.yaml names them)."""

from __future__ import annotations

from typing import Any


def heldout(**kwargs: Any) -> Any:
    """The shipped held-out problems as a datasets.DatasetDict with one ``test`` split."""
    import datasets

    from realmodel.shipped import heldout_problems

    rows = [{"prompt": p.prompt, "response": p.response, "answer": p.answer}
            for p in heldout_problems()]
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(rows)})


def process_results(doc: dict[str, Any], results: list[str]) -> dict[str, int]:
    """acc = 1 when the generated text's final number is the answer (paradec eval's
    scorer, realmodel.shipped.task.is_correct)."""
    from realmodel.shipped.task import Problem, is_correct

    problem = Problem(doc["prompt"], doc["response"], int(doc["answer"]))
    return {"acc": int(is_correct(results[0], problem))}
