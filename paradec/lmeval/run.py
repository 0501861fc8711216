"""One evaluation through lm-eval's own evaluator, with paradec's statistics merged in.

:func:`evaluate` builds the ``paradec`` model from ``model_args``, runs
``lm_eval.simple_evaluate`` with paradec's shipped tasks on the task path, then adds to
every logged sample a ``paradec`` entry (forward calls, tokens, tokens per call, wall
seconds, FreeDave states and accepted steps) and to the results a ``paradec`` summary
(totals over the run, the decode configuration, FreeDave auto's choices).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from paradec.lmeval import TASKS

__all__ = ["evaluate"]


@functools.cache
def _task_manager(paths: tuple[str, ...], defaults: bool) -> Any:
    """lm-eval's task index over ``paths`` (and its own tasks when ``defaults``): indexing
    lm-eval's thousands of task files takes seconds, so it is done once per process, and
    not at all when only paradec's tasks are asked for."""
    from lm_eval.tasks import TaskManager

    return TaskManager(include_path=list(paths), include_defaults=defaults)


def evaluate(model_args: str | dict[str, Any], tasks: Sequence[str], *, batch_size: int = 1,
             limit: int | float | None = None, num_fewshot: int | None = None,
             log_samples: bool = True, include_path: Sequence[str] = (),
             apply_chat_template: bool = False, seed: int = 0) -> dict[str, Any]:
    """lm-eval's results dict for ``tasks`` decoded by paradec (module docstring)."""
    import lm_eval
    from lm_eval.utils import simple_parse_args_string

    from paradec.lmeval.model import ParadecLM

    raw = simple_parse_args_string(model_args) if isinstance(model_args, str) \
        else dict(model_args)
    if "batch_size" in raw and int(raw["batch_size"]) != batch_size:
        raise ValueError(f"model_args batch_size={raw['batch_size']} contradicts --batch_size "
                         f"{batch_size}; give one")
    lm = ParadecLM(**{**raw, "batch_size": batch_size})
    ours = {p.stem for p in TASKS.glob("*.yaml")}
    manager = _task_manager((str(TASKS), *include_path),
                            defaults=bool(include_path) or not set(tasks) <= ours)
    results = lm_eval.simple_evaluate(
        model=lm, tasks=list(tasks), num_fewshot=num_fewshot, limit=limit,
        log_samples=log_samples, task_manager=manager,
        apply_chat_template=apply_chat_template, random_seed=seed, numpy_random_seed=seed,
        torch_random_seed=seed, fewshot_random_seed=seed)
    if results is None:  # a non-zero rank of a distributed run
        return {}
    for task, samples in (results.get("samples") or {}).items():
        for sample in samples:
            stats = lm.stats.get((task, sample.get("doc_id")))
            if stats is not None:
                sample["paradec"] = stats
    totals = dict(lm.totals)
    if totals["sequence_calls"]:
        totals["tokens_per_call"] = totals["tokens"] / totals["sequence_calls"]
    if totals["wall_seconds"]:
        totals["tokens_per_second"] = totals["tokens"] / totals["wall_seconds"]
    results["paradec"] = {"decode": lm.config.describe(), "model": lm.denoiser.identity()["id"],
                          "batch_size": batch_size, "freedave": lm.args.freedave,
                          "totals": totals}
    return dict(results)
