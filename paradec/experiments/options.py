"""What one ``paradec report`` run does: :class:`ReportOptions` and the rule sweeps.

The embedded defaults are the shipped model ``tiny-arith`` on its held-out problems (fp32,
CPU); only
then do ``results.md`` and the figures go to ``docs`` (so ``make report`` regenerates the
committed ones). Any other model or prompt file writes everything under ``out``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["SWEEPS", "FREEDAVE_K", "ReportOptions"]

#: parameter values of every rule per sweep size (static decoding is quota k = 1, always run).
SWEEPS: dict[str, dict[str, tuple[float, ...]]] = {
    "full": {
        "quota": (2, 4, 8),
        "threshold": (0.99, 0.95, 0.9, 0.8, 0.7),
        "factor": (0.5, 1.0, 2.0, 3.0),
        "frechet": (0.9, 0.5, 0.3, 0.2, 0.1, 0.05),
        "tight": (0.9, 0.5, 0.3, 0.2, 0.1, 0.05),
        "entropy": (0.01, 0.03, 0.1, 0.3, 1.0),
    },
    "tiny": {
        "quota": (2,), "threshold": (0.9,), "factor": (1.0,), "frechet": (0.3,),
        "tight": (0.3,), "entropy": (0.1,),
    },
}
#: FreeDave draft widths run (K = 1 is static decoding through FreeDave's code path).
FREEDAVE_K = (1, 2, 4, 8)
_DTYPES = ("float32", "bfloat16", "float16")


@dataclass(frozen=True)
class ReportOptions:
    """Everything a report run depends on (validated here; ValueError names the value).

    model: a shipped model name or folder, or a LLaDA checkpoint folder.
    prompts: JSONL prompt file (``realmodel.read_prompts``); None = the held-out problems
        of a shipped model. Without reference answers, agreement with static decoding
        stands in for accuracy.
    out: run folder (summary.json, the static trace, figure data and PNGs).
    docs: where results.md and figures/ go on the embedded defaults.
    problems: how many prompts (held-out problems or lines of ``prompts``) to decode.
    rows, lp_instances, n: sizes of the theory and simulate checks.
    threads: torch CPU threads (1 by default: on shared cores one thread is faster and
        its timings less noisy).
    sweep: ``full`` or ``tiny`` (tests); gen_length / block_length: None = the shipped
        model's, or 256 / 32 for other models.
    cache: ``none``, ``prefix`` or ``dual`` (the engine's KV cache for every run).
    """

    model: str = "tiny-arith"
    device: str = "cpu"
    dtype: str = "float32"
    prompts: str | None = None
    out: str = "runs/report"
    docs: str = "docs"
    problems: int = 200
    seed: int = 0
    rows: int = 100_000
    lp_instances: int = 200
    n: int | None = None
    sweep: str = "full"
    batch_size: int = 200
    gen_length: int | None = None
    block_length: int | None = None
    freedave_k: tuple[int, ...] = FREEDAVE_K
    threads: int = 1
    cache: str = "none"

    def __post_init__(self) -> None:
        for name in ("problems", "rows", "lp_instances", "batch_size", "threads"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be an integer >= 1, "
                                 f"got {value!r}")
        if self.n is not None and self.n < 1:
            raise ValueError(f"--n must be >= 1, got {self.n}")
        if self.sweep not in SWEEPS:
            raise ValueError(f"unknown sweep {self.sweep!r}; choose from {', '.join(SWEEPS)}")
        if self.dtype not in _DTYPES:
            raise ValueError(f"unknown dtype {self.dtype!r}; choose from {', '.join(_DTYPES)}")
        if not (self.device == "cpu" or self.device.startswith("cuda")):
            raise ValueError(f"unknown device {self.device!r}; use cpu or cuda[:i]")
        for name in ("gen_length", "block_length"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {value}")
        if self.cache not in ("none", "prefix", "dual"):
            raise ValueError(f"unknown cache {self.cache!r}; use none, prefix or dual")
        if not self.freedave_k or any(k < 1 for k in self.freedave_k):
            raise ValueError(f"FreeDave K values must be >= 1, got {self.freedave_k}")

    @property
    def embedded(self) -> bool:
        """The embedded defaults: the default shipped model on its held-out problems, fp32
        on the CPU (the only runs that publish to ``docs``)."""
        from realmodel.shipped import DEFAULT_MODEL

        return self.model == DEFAULT_MODEL and self.prompts is None and \
            self.device == "cpu" and self.dtype == "float32"

    @property
    def published(self) -> bool:
        """A shipped model by name on its held-out problems, fp32 on the CPU: the runs
        whose results.md and figures go to ``docs`` (the default model's to ``docs``
        itself, another's to ``docs/<name>``)."""
        from realmodel.shipped import SHIPPED

        return self.model in SHIPPED and self.prompts is None and self.device == "cpu" \
            and self.dtype == "float32"

    @property
    def docs_dir(self) -> Path | None:
        """Where results.md and the figures are published (None: only under ``out``)."""
        if not self.published:
            return None
        return Path(self.docs) if self.embedded else Path(self.docs) / self.model

    @property
    def out_dir(self) -> Path:
        return Path(self.out)
