"""The machine a number was measured on: CPU model, the vector and matrix extensions that
decide which dtype is fast (AVX2, AVX-512, AVX-512 BF16, AMX), and torch's kernel; and a
short probe of which dtype runs a model faster there (``--dtype auto``); and the
benchmarks' timing of rival implementations in turns."""

from __future__ import annotations

import platform
from collections.abc import Callable
from typing import Any

import torch

__all__ = ["CPU_FEATURES", "cpu_name", "cpu_features", "describe_cpu", "faster_dtype",
           "median_us"]

CPU_FEATURES = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile")


def _cpuinfo() -> list[str]:
    try:
        with open("/proc/cpuinfo") as fh:
            return fh.read().splitlines()
    except OSError:
        return []


def cpu_name() -> str:
    """The CPU's model name (/proc/cpuinfo), else what ``platform`` knows."""
    for line in _cpuinfo():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def cpu_features() -> list[str]:
    """Which of :data:`CPU_FEATURES` the CPU reports (empty where /proc/cpuinfo is absent)."""
    for line in _cpuinfo():
        if line.startswith("flags"):
            flags = set(line.split(":", 1)[1].split())
            return [f for f in CPU_FEATURES if f in flags]
    return []


def describe_cpu() -> str:
    """One line: model, features and torch's CPU kernel, e.g. ``Intel Xeon ... (avx2,
    avx512f, amx_bf16; torch kernel AVX512)``."""
    kernel = torch.backends.cpu.get_cpu_capability()
    return f"{cpu_name()} ({', '.join(cpu_features()) or 'no feature flags'}; torch kernel " \
           f"{kernel})"


def faster_dtype(denoiser: Any, batch: int, length: int, *, budget_s: float = 1.0,
                 margin: float = 1.2) -> dict[str, Any]:
    """Which of float32 and bfloat16 runs this model's forward faster on its device.

    Times full forwards of random ids (``batch`` x ``length``) in both dtypes, alternating,
    for about ``budget_s`` seconds (at least 3 each; medians), and chooses bfloat16 only
    when it is at least ``margin`` times faster (exactness claims are fp32's; bf16
    changes decisions, docs/robustness.md says how often). The probe runs a bfloat16 copy
    (casting back and forth would round the float32 weights); the denoiser keeps the
    model of the chosen dtype. ``length`` is capped at the model's context. A bfloat16
    forward that fails (a kernel the CPU or torch's kernel level lacks: e.g. AMX packing
    under ``ATEN_CPU_CAPABILITY=avx2``) means float32, with the error recorded. Returns
    ``{"dtype", "float32_s", "bfloat16_s", "cpu"}`` (and ``bfloat16_error``).
    """
    import copy
    import statistics
    import time

    model = denoiser.model
    if next(model.parameters()).dtype != torch.float32:
        raise ValueError("the dtype probe starts from a float32 model")
    low = copy.deepcopy(model).to(torch.bfloat16)  # a cast back would round the weights
    limit = getattr(denoiser, "max_length", None)
    length = min(length, limit) if limit else length
    gen = torch.Generator().manual_seed(0)
    ids = torch.randint(0, denoiser.vocab_size, (batch, length), generator=gen)
    ids = ids.to(denoiser.device)
    pos = torch.arange(length, device=denoiser.device).expand(batch, length)
    times: dict[torch.dtype, list[float]] = {torch.float32: [], torch.bfloat16: []}
    start = time.perf_counter()
    try:
        with torch.no_grad():
            while time.perf_counter() - start < budget_s or min(map(len, times.values())) < 3:
                for dtype, net in ((torch.float32, model), (torch.bfloat16, low)):
                    denoiser.model = net
                    tic = time.perf_counter()
                    denoiser.forward(ids, pos, head=(0, 1))
                    times[dtype].append(time.perf_counter() - tic)
    except RuntimeError as err:  # a bf16 kernel this CPU (or torch kernel level) lacks
        denoiser.model = model
        if not times[torch.float32] or len(times[torch.bfloat16]) >= len(times[torch.float32]):
            raise
        return {"dtype": "float32", "float32_s": statistics.median(times[torch.float32]),
                "bfloat16_s": None, "bfloat16_error": str(err).splitlines()[0],
                "cpu": describe_cpu()}
    f32, bf16 = (statistics.median(times[d][1:] or times[d]) for d in times)
    choice = "bfloat16" if f32 >= margin * bf16 else "float32"
    denoiser.model = low if choice == "bfloat16" else model
    return {"dtype": choice, "float32_s": f32, "bfloat16_s": bf16, "cpu": describe_cpu()}


def median_us(fns: dict[str, Callable[[], object]], turns: int, calls: int
              ) -> dict[str, float]:
    """Median microseconds per call of each function, timed in turns: after one warm-up
    call each, every turn times ``calls`` calls of each function in order, so a machine
    whose speed drifts slows all of them alike."""
    import statistics
    import time

    times: dict[str, list[float]] = {name: [] for name in fns}
    for fn in fns.values():
        fn()
    for _ in range(turns):
        for name, fn in fns.items():
            tic = time.perf_counter()
            for _ in range(calls):
                fn()
            times[name].append((time.perf_counter() - tic) / calls * 1e6)
    return {name: statistics.median(t) for name, t in times.items()}
