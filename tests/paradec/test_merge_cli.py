"""``paradec merge`` joins rank traces and refuses bad sets with a clear error (exit 2); the
rank-0 merge inside ``paradec decode`` (ranks simulated one after another in-process)."""

import json

import pytest

from paradec.cli import main
from realmodel.trace import read_trace
from tests.ranks import decode_as_two_ranks

DECODE = ["decode", "--model", "tiny-random", "--rule", "quota", "--gen-length", "8",
          "--batch-size", "1", "--progress", "off"]


@pytest.fixture
def ranks(tmp_path, monkeypatch):
    """Rank files of a 2-process run: rank 1 then rank 0 run in this process (no process
    group); rank 0 merges them into t.parquet, keeping the parts for the tests."""
    def decode(out: str) -> None:
        assert main([*DECODE, "--trace", out]) == 0

    return decode_as_two_ranks(monkeypatch, decode, tmp_path / "t.parquet")


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


def test_merge_accepts_only_the_rank_parts_of_one_run(tmp_path, ranks, capsys):
    """A single-process trace or an already merged one is no rank part; nothing is written."""
    assert main([*DECODE, "--trace", str(tmp_path / "single.parquet")]) == 0
    capsys.readouterr()
    for part in ("single.parquet", "t.parquet"):
        assert main(["merge", str(tmp_path / "m.parquet"), str(tmp_path / part)]) == 2
        err = capsys.readouterr().err
        assert f"{tmp_path / part}: not a rank part of a multi-process run" in err
    assert main(["merge", str(tmp_path / "m.parquet"), *map(str, ranks),
                 str(tmp_path / "single.parquet")]) == 2
    assert "not a rank part" in capsys.readouterr().err
    assert main(["merge", str(tmp_path / "m.parquet"), str(ranks[0]), str(ranks[0])]) == 2
    assert "rank 0 appears in more than one part" in capsys.readouterr().err
    assert not (tmp_path / "m.parquet").exists()


def test_merge_never_replaces_a_finished_trace_unasked(tmp_path, ranks, capsys):
    """The issue's case: merging an ordinary trace onto a kept one leaves it as it was."""
    keep, other = tmp_path / "keep.parquet", tmp_path / "other.parquet"
    assert main([*DECODE, "--seed", "3", "--trace", str(keep)]) == 0
    assert main([*DECODE, "--trace", str(other)]) == 0
    before = keep.read_bytes()
    capsys.readouterr()
    assert main(["merge", str(keep), str(other)]) == 2
    assert "already exists: pass --overwrite" in capsys.readouterr().err
    assert main(["merge", str(keep), str(other), "--overwrite"]) == 2
    assert "not a rank part" in capsys.readouterr().err
    assert main(["merge", str(keep), str(keep), "--overwrite"]) == 2
    assert "would be overwritten by the merged trace" in capsys.readouterr().err
    assert keep.read_bytes() == before
    assert main(["merge", str(keep), *map(str, ranks), "--overwrite"]) == 0
    assert read_trace(keep).table.equals(read_trace(tmp_path / "t.parquet").table)
