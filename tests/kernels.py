"""The CPU kernels torch can run on this machine: values of ATEN_CPU_CAPABILITY.

``python -m tests.kernels`` prints them all (lowest first); ``--other`` prints the one the
second test pass uses: the next kernel below the machine's own (avx512 -> avx2,
avx2 -> default), so that a tolerance tuned to one kernel fails on any machine;
``--float-tests`` prints FLOAT_TESTS, the tests that compare model outputs (what that
second pass runs). The native
kernel is read in a subprocess without ATEN_CPU_CAPABILITY (a set variable would mask it).

numpy picks its own SIMD loops (its ``exp`` and friends differ from torch's in the last
bit, and between CPUs): ``--numpy-other`` prints the value of NPY_DISABLE_CPU_FEATURES
that leaves numpy its lowest dispatch target above the baseline (AVX2 on x86), empty
where the machine has nothing above it; the third pass runs NUMPY_TESTS
(``--numpy-tests``) under it.
"""

from __future__ import annotations

import os
import subprocess
import sys

X86 = ["default", "avx2", "avx512"]
FLOAT_TESTS = ["tests/realmodel", "tests/paradec/test_resume.py",
               "tests/paradec/test_torchrun.py", "tests/paradec/test_merge_cli.py",
               "tests/fuzz/test_bf16_decisions.py", "tests/test_tolerance.py"]
NUMPY_TESTS = ["tests/theory", "tests/simulate"]


def native() -> str:
    env = {k: v for k, v in os.environ.items() if k != "ATEN_CPU_CAPABILITY"}
    code = "import torch; print(torch.backends.cpu.get_cpu_capability())"
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True,
                         capture_output=True, text=True).stdout
    return out.strip().lower()


def supported() -> list[str]:
    """Kernels at or below the native one (x86); elsewhere the native one and default."""
    cap = native()
    if cap in X86:
        return X86[: X86.index(cap) + 1]
    return ["default", cap] if cap != "default" else ["default"]


def other() -> str:
    """The kernel just below the native one (the native one where there is none below)."""
    kernels = supported()
    return kernels[-2] if len(kernels) > 1 else kernels[0]


def numpy_found() -> list[str]:
    """numpy's dispatch targets this process uses, lowest first (NPY_DISABLE_CPU_FEATURES
    removes some)."""
    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    except ImportError:  # numpy < 2
        from numpy.core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    return [f for f in __cpu_dispatch__ if __cpu_features__.get(f)]


def numpy_other() -> str:
    """NPY_DISABLE_CPU_FEATURES for numpy one dispatch level down: every target this CPU
    has but the lowest, or on a CPU with one target (an AVX2-only one) that one too, which
    leaves numpy its baseline loops."""
    found = numpy_found()
    return " ".join(found[1:] if len(found) > 1 else found)


if __name__ == "__main__":
    flag = sys.argv[1] if len(sys.argv) > 1 else None
    if flag not in (None, "--other", "--float-tests", "--numpy-other", "--numpy-tests"):
        raise SystemExit(f"unknown option {flag}: use --other, --float-tests, "
                         "--numpy-other or --numpy-tests")
    print({"--other": lambda: other(), "--float-tests": lambda: " ".join(FLOAT_TESTS),
           "--numpy-other": lambda: numpy_other(),
           "--numpy-tests": lambda: " ".join(NUMPY_TESTS),
           None: lambda: " ".join(supported())}[flag]())
