"""The machine a number was measured on: CPU model, the vector and matrix extensions that
decide which dtype is fast (AVX2, AVX-512, AVX-512 BF16, AMX), and torch's kernel."""

from __future__ import annotations

import platform

import torch

__all__ = ["CPU_FEATURES", "cpu_name", "cpu_features", "describe_cpu"]

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
