"""The numpy pass of `make pytest-kernel`: tests.kernels.numpy_other lowers numpy's SIMD."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.kernels import numpy_other

FOUND = "import tests.kernels as k; print(' '.join(k.numpy_found()))"


def test_numpy_other_leaves_numpy_one_dispatch_level_down():
    value = numpy_other()
    if not value:
        pytest.skip("this CPU has no numpy dispatch target (numpy runs its baseline loops)")
    root = Path(__file__).resolve().parents[1]
    run = subprocess.run([sys.executable, "-c", FOUND], capture_output=True, text=True,
                         timeout=60, cwd=root,
                         env={**os.environ, "NPY_DISABLE_CPU_FEATURES": value,
                              "PYTHONPATH": str(root)})
    assert run.returncode == 0, run.stderr
    left, disabled = run.stdout.split(), value.split()
    assert not set(left) & set(disabled)
    assert len(left) == 1 or (left == [] and len(disabled) == 1)  # the lowest, or baseline
