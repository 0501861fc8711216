"""paradec inside lm-evaluation-harness (lm-eval 0.4.x): the ``paradec`` model and an
offline task over the shipped model's held-out problems. [docs/lm_eval.md]

- :mod:`.args`: ``model_args`` validated at start-up (no lm-eval import).
- :mod:`.model`: ``ParadecLM``, registered as ``paradec`` (imports lm-eval).
- :mod:`.run`: :func:`~paradec.lmeval.run.evaluate`, lm-eval's own evaluator with paradec's
  tasks included and per-request statistics merged into its output.
- ``tasks/``: ``paradec_arith.yaml`` and ``paradec_words.yaml`` (read the problems from the
  installed package).
"""

from pathlib import Path

TASKS = Path(__file__).resolve().parent / "tasks"

__all__ = ["TASKS"]
