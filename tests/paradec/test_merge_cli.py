"""``paradec merge`` joins rank traces and refuses bad sets with a clear error (exit 2); the
rank-0 merge inside ``paradec decode`` (ranks simulated one after another in-process)."""

import json

import pytest
import torch

import realmodel.trace_merge
from paradec.cli import main
from realmodel.trace import read_trace

torch.set_num_threads(1)   # as tests/realmodel/conftest.py: 2 shared cores under xdist

DECODE = ["decode", "--model", "tiny-random", "--rule", "quota", "--gen-length", "8",
          "--batch-size", "1", "--progress", "off"]


@pytest.fixture
def ranks(tmp_path, monkeypatch):
    """Rank files of a 2-process run: rank 1 then rank 0 run in this process (no process
    group); rank 0 merges them into t.parquet, keeping the parts for the tests."""
    merge = realmodel.trace_merge.merge_traces
    monkeypatch.setattr(realmodel.trace_merge, "merge_traces",
                        lambda out, parts, remove_parts: merge(out, parts))
    monkeypatch.setattr("realmodel.distributed.World.init", lambda self, device: None)
    monkeypatch.setattr("realmodel.distributed.World.barrier", lambda self: None)
    for r in (1, 0):
        monkeypatch.setenv("RANK", str(r))
        monkeypatch.setenv("WORLD_SIZE", "2")
        assert main([*DECODE, "--trace", str(tmp_path / "t.parquet")]) == 0
    monkeypatch.delenv("RANK")
    monkeypatch.delenv("WORLD_SIZE")
    return [tmp_path / f"t.rank{r}of2.parquet" for r in (0, 1)]


def test_rank_zero_and_the_merge_command_give_the_single_process_trace(tmp_path, ranks,
                                                                         capsys):
    assert main([*DECODE, "--trace", str(tmp_path / "single.parquet")]) == 0
    capsys.readouterr()
    assert main(["merge", str(tmp_path / "m.parquet"), *map(str, ranks), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["complete"] and summary["parts"] == 2 and summary["sequences"] == 4
    single = read_trace(tmp_path / "single.parquet").table
    assert read_trace(tmp_path / "m.parquet").table.equals(single)
    assert read_trace(tmp_path / "t.parquet").table.equals(single)


def test_merge_refuses_a_missing_rank_a_bad_name_and_a_missing_file(tmp_path, ranks,
                                                                          capsys):
    assert main(["merge", str(tmp_path / "m.parquet"), str(ranks[0])]) == 2
    assert "ranks [1] of world size 2 are missing" in capsys.readouterr().err
    assert main(["merge", str(tmp_path / "m.txt"), *map(str, ranks)]) == 2
    assert "must end in .parquet" in capsys.readouterr().err
    assert main(["merge", str(tmp_path / "m.parquet"), str(tmp_path / "nope.parquet")]) == 2
    assert "no trace at" in capsys.readouterr().err
    assert not (tmp_path / "m.parquet").exists()
