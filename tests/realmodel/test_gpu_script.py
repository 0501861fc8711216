"""benchmarks/gpu_llada.py, the prepared GPU run, passes at the tiny shape on the CPU: every
configuration decodes and writes its trace, FreeDave equals its rule, two runs with
deterministic kernels give the same bits, and the table and the JSON are written. (A
subprocess: the script turns on torch's deterministic mode for its whole process.)"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_gpu_script_runs_at_the_tiny_shape_on_the_cpu(tmp_path):
    out = tmp_path / "gpu"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "gpu_llada.py"), "--shape", "tiny",
         "--device", "cpu", "--dtype", "float32", "--gen-length", "32", "--block", "16",
         "--prompt-length", "8", "--batch-sizes", "1,2", "--out", str(out)],
        capture_output=True, text=True, timeout=600, env=env, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads((out / "gpu_llada.json").read_text())
    names = {(r["config"], r["batch"]) for r in report["decode"]}
    assert len(names) == 12 and ("freedave-4-threshold-0.9", 2) in names
    assert all(r["identical_to_rule"] for r in report["decode"] if r["identical_to_rule"]
               is not None)
    assert all(Path(r["trace"]).is_file() for r in report["decode"])
    assert report["deterministic"]["identical_bits"] is True
    assert report["forward"]["roofline_s"] is None and report["forward"]["block_s"] > 0
    assert "| freedave-4 | 2 |" in done.stdout
    again = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu_llada.py"),
                            "--shape", "tiny", "--device", "cpu", "--out", str(out)],
                           capture_output=True, text=True, timeout=600, env=env, cwd=ROOT)
    assert again.returncode != 0 and "already holds traces" in again.stderr
