"""paradec's shipped dLLM: a small LLaDA-architecture model trained on worked arithmetic.

- :mod:`.task`: the seeded problem generator, answer scorer and committed held-out set.
- :mod:`.tokenizer`: the character tokenizer saved with the model.
- :mod:`.train`: LLaDA's masked-diffusion objective (``paradec train``).
- :mod:`.evaluate`: rule sweeps against static decoding and their metrics
  (``paradec eval`` and the report).
- :mod:`.registry`: ``load_shipped(name) -> denoiser`` and the name registry.
"""

from realmodel.shipped.evaluate import (
    DEFAULT_SWEEP,
    RULE_CHOICES,
    EvalRow,
    answer_text,
    evaluate,
    problem_prompts,
    run_sweep,
    score,
    sweep_rules,
)
from realmodel.shipped.registry import (
    DEFAULT_MODEL,
    SHIPPED,
    generation_defaults,
    is_shipped,
    load_shipped,
    shipped_path,
)
from realmodel.shipped.task import (
    Problem,
    extract_answer,
    heldout_problems,
    is_correct,
    sample_problem,
    sample_problems,
)
from realmodel.shipped.tokenizer import CharTokenizer
from realmodel.shipped.train import TrainConfig, encode_batch, llada_loss, train

__all__ = ["DEFAULT_SWEEP", "RULE_CHOICES", "EvalRow", "answer_text", "evaluate",
           "problem_prompts", "sweep_rules", "score", "run_sweep", "DEFAULT_MODEL", "SHIPPED",
           "generation_defaults", "is_shipped", "load_shipped", "shipped_path", "Problem",
           "extract_answer", "heldout_problems", "is_correct", "sample_problem",
           "sample_problems", "CharTokenizer", "TrainConfig", "encode_batch", "llada_loss",
           "train"]
