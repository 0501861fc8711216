"""Crash safety: a real ``paradec decode`` killed with SIGKILL at random moments, resumed.

The kill loop is benchmarks/kill_resume.py's (the script logs a longer run); here it gets
about 60 s. Also: resume refuses another run's partial folder, and resuming a finished
run is a no-op.
"""

import json

import numpy as np
import pytest
import torch

from realmodel.trace import read_trace
from tests.scripts import load_benchmark


def _harness():
    return load_benchmark("kill_resume")


KR = _harness()
SMALL = ["--model", "tiny-arith", "--rule", "quota", "--k", "2", "--batch-size", "3",
         "--limit", "6", "--progress", "off"]


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_no_finished_row(tmp_path):
    totals = KR.kill_and_resume(tmp_path, kills=40, rng=np.random.default_rng(8),
                                budget_s=45.0, min_kills=3)
    assert totals["kills"] >= 3, totals
    assert totals["rows_checked"] > 0 and totals["rows_lost"] == 0, totals
    assert totals["rows_extra"] == 0 and totals["rows_differ"] == 0, totals
    assert totals["equal"], totals


def _decode(out, *extra):
    from paradec.cli import main

    return main(["decode", *SMALL, "--trace", str(out), *extra])


def test_resume_refuses_a_run_with_other_arguments_and_is_idempotent(tmp_path, capsys):
    out = tmp_path / "t.parquet"
    assert _decode(out) == 0
    before = read_trace(out).table
    assert _decode(out, "--seed", "5", "--resume") == 2
    assert "different run" in capsys.readouterr().err
    assert _decode(out, "--resume") == 0            # finished: nothing to do
    assert read_trace(out).table.equals(before)
    # a partial run from other arguments is refused, naming the field
    parts = out.with_name(out.name + ".partial")
    parts.mkdir()
    meta = {**read_trace(out).provenance, "batch_size": 7}
    (parts / "run.json").write_text(json.dumps(meta))
    out.unlink()
    assert _decode(out, "--resume") == 2
    assert "batch_size: 7 != 3" in capsys.readouterr().err
    assert _decode(out) == 2
    assert "--resume" in capsys.readouterr().err


@pytest.fixture
def torch_flags(monkeypatch):
    """Restore torch's global determinism settings after a --deterministic run."""
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    saved = (torch.are_deterministic_algorithms_enabled(), torch.get_float32_matmul_precision(),
             torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32,
             torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark)
    yield
    torch.use_deterministic_algorithms(saved[0])
    torch.set_float32_matmul_precision(saved[1])
    (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32,
     torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark) = saved[2:]


def test_deterministic_flag_sets_torch_and_gives_the_same_bits(tmp_path, torch_flags):
    import os

    assert _decode(tmp_path / "a.parquet", "--deterministic", "--temperature", "0.9") == 0
    assert torch.are_deterministic_algorithms_enabled()
    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"
    assert not torch.backends.cuda.matmul.allow_tf32 and torch.backends.cudnn.deterministic
    a = read_trace(tmp_path / "a.parquet")
    assert a.provenance["deterministic"] is True
    assert _decode(tmp_path / "b.parquet", "--temperature", "0.9") == 0
    b = read_trace(tmp_path / "b.parquet")
    assert b.provenance["deterministic"] is False and a.table.equals(b.table)


@pytest.mark.parametrize("model, freedave", [("tiny-arith", False), ("tiny-arith", True),
                                             ("tiny-random-dream", True)])
def test_an_interrupted_run_resumes_to_the_uninterrupted_trace(tmp_path, monkeypatch,
                                                               capsys, model, freedave):
    """An exception in the second batch (Ctrl-C) keeps batch 0; --resume finishes (a
    Dream-shaped model with its shifted logits too)."""
    import realmodel.engine

    extra = ["--k", "1", "--freedave", "2"] if freedave else []
    base = [a for a in SMALL if a not in ("--k", "2")] if freedave else SMALL
    base = [model if a == "tiny-arith" else a for a in base]
    from paradec.cli import main

    def decode(out, *more):
        return main(["decode", *base, *extra, "--trace", str(out), *more])

    assert decode(tmp_path / "ref.parquet") == 0
    module, name = realmodel.engine.Engine, "run"  # FreeDave runs through it too
    original = getattr(module, name)
    calls = []

    def dies_in_batch_1(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, dies_in_batch_1)
    out = tmp_path / "t.parquet"
    with pytest.raises(KeyboardInterrupt):
        decode(out)
    monkeypatch.setattr(module, name, original)
    partial = read_trace(out)
    assert not partial.complete and len(partial.sequences()) == 3
    capsys.readouterr()
    assert decode(out, "--resume", "--json") == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["resumed"] and summary["totals"]["tokens_this_process"] == 3 * 32
    assert read_trace(out).table.equals(read_trace(tmp_path / "ref.parquet").table)
