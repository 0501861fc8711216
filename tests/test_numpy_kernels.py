"""The numpy pass of `make pytest-kernel`: tests.kernels.numpy_other lowers numpy's SIMD."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.kernels import numpy_other

FOUND = "import tests.kernels as k; print(' '.join(k.numpy_found()))"


def test_numpy_other_leaves_numpy_only_its_lowest_dispatch_target():
    value = numpy_other()
    if not value:
        pytest.skip("this CPU has no numpy dispatch target above the lowest one")
    root = Path(__file__).resolve().parents[1]
    run = subprocess.run([sys.executable, "-c", FOUND], capture_output=True, text=True,
                         timeout=60, cwd=root,
                         env={**os.environ, "NPY_DISABLE_CPU_FEATURES": value,
                              "PYTHONPATH": str(root)})
    assert run.returncode == 0, run.stderr
    left = run.stdout.split()
    assert len(left) == 1 and left[0] not in value.split()
