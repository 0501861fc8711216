"""``torchrun --nproc_per_node 2 -m paradec decode`` on CPU (gloo): the merged trace equals a
single-process run row for row, also after every process was SIGKILLed and the run resumed
per rank."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from realmodel.trace import read_trace

ROOT = Path(__file__).resolve().parents[2]
TORCHRUN = Path(sys.executable).with_name("torchrun")
DECODE = ["--model", "tiny-arith", "--rule", "quota", "--k", "1", "--temperature",
          "0.5", "--seed", "4", "--batch-size", "1", "--limit", "8", "--progress", "off"]

pytestmark = pytest.mark.skipif(not TORCHRUN.exists() or not torch.distributed.is_available(),
                                reason="torchrun / torch.distributed not available")


def _torchrun(out, *extra):
    env = dict(os.environ, PYTHONPATH=str(ROOT))  # OMP_NUM_THREADS: tests/conftest.py
    return subprocess.Popen([str(TORCHRUN), "--standalone", "--nnodes", "1",
                             "--nproc_per_node", "2", "-m", "paradec", "decode", *DECODE,
                             "--trace", str(out), *extra], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _finish(proc):
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err.decode()[-3000:]
    return out.decode()


def _children(pid):
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids.append(int(stat.parent.name))
    return kids


def _kill_all(proc):
    """SIGKILL the torchrun agent and its workers (each in its own session)."""
    workers = _children(proc.pid)
    proc.send_signal(signal.SIGKILL)
    for pid in workers:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.communicate()


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    from paradec.cli import main

    out = tmp_path_factory.mktemp("single") / "t.parquet"
    assert main(["decode", *DECODE, "--trace", str(out)]) == 0
    return read_trace(out)


@pytest.mark.slow
def test_two_processes_merge_into_the_single_process_trace(tmp_path, single):
    out = tmp_path / "t.parquet"
    text = _finish(_torchrun(out))
    assert "8 sequences" in text and text.count("trace:") == 1     # rank 0 reports
    merged = read_trace(out)
    assert merged.complete and merged.provenance["world_size"] == 2
    assert "rank" not in merged.provenance
    assert merged.table.equals(single.table)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.parquet"]  # parts removed


@pytest.mark.slow
def test_a_killed_two_process_run_resumes_per_rank(tmp_path, single):
    out = tmp_path / "t.parquet"
    proc = _torchrun(out)
    parts = [tmp_path / f"t.rank{r}of2.parquet.partial" for r in (0, 1)]
    deadline = time.monotonic() + 240
    while not any(any(p.glob("part-*.parquet")) for p in parts if p.is_dir()):
        assert proc.poll() is None, proc.communicate()[1].decode()[-3000:]
        assert time.monotonic() < deadline, "no batch finished in time"
        time.sleep(0.05)
    _kill_all(proc)
    assert not out.exists() and any(p.is_dir() for p in parts)
    kept = {r: len(list(p.glob("part-*.parquet"))) for r, p in enumerate(parts)
            if p.is_dir()}
    assert 0 < sum(kept.values()) < 8, kept
    _finish(_torchrun(out, "--resume"))
    assert read_trace(out).table.equals(single.table)
    assert not any(p.exists() for p in parts)
    shutil.rmtree(tmp_path)
