"""paradec's shipped dLLMs: small LLaDA-architecture models trained on worked problems.

``tiny-arith`` (character-level arithmetic chains) and ``tiny-words`` (English word problems,
a 4096-token BPE, 128 generated tokens in blocks of 32).

- :mod:`.task`: the arithmetic generator, the answer scorer and the ``Problem`` type.
- :mod:`.words`: the word-problem generator and its held-out set.
- :mod:`.tasks`: the tasks by name (generator, held-out set, tokenizer).
- :mod:`.tokenizer`, :mod:`.subword`: the character tokenizer and the BPE trainer.
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
    at_equal_accuracy,
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
    heldout_problems,
    is_shipped,
    load_shipped,
    load_tokenizer,
    min_static_accuracy,
    shipped_path,
    task_of,
)
from realmodel.shipped.task import (
    Problem,
    extract_answer,
    is_correct,
    sample_problem,
    sample_problems,
)
from realmodel.shipped.tasks import TASKS, Task
from realmodel.shipped.tokenizer import CharTokenizer
from realmodel.shipped.train import TrainConfig, encode_batch, llada_loss, train

__all__ = ["DEFAULT_SWEEP", "RULE_CHOICES", "EvalRow", "answer_text", "at_equal_accuracy",
           "evaluate",
           "problem_prompts", "sweep_rules", "score", "run_sweep", "DEFAULT_MODEL", "SHIPPED",
           "generation_defaults", "is_shipped", "load_shipped", "shipped_path", "task_of",
           "load_tokenizer", "heldout_problems", "min_static_accuracy", "Task", "TASKS", "Problem",
           "extract_answer", "is_correct", "sample_problem",
           "sample_problems", "CharTokenizer", "TrainConfig", "encode_batch", "llada_loss",
           "train"]
