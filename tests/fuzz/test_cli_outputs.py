"""Fuzz: every writing command against the file-system state of its output.

``decode`` (trace), ``merge`` (merged trace), ``simulate`` (a study's tables), ``train``
(model folder) and ``report`` (run folder) meet an output that is absent, an existing
file, a folder that holds a file, an empty folder, a path in a read-only folder, or one
of the command's inputs; each with and without ``--overwrite``. Every case ends in exit 0
with a correct result or exit 2 with a one-line error naming the output, and what was
there before is byte for byte unchanged unless ``--overwrite`` replaced it.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from realmodel.trace import read_trace
from tests.fuzz.cli import assert_usage_error, run_cli
from tests.ranks import decode_as_two_ranks

DECODE = ["decode", "--model", "tiny-random", "--rule", "quota", "--gen-length", "8",
          "--batch-size", "1", "--progress", "off"]
FOLDER_OUTPUTS = ("train", "report")
STATES = ("absent", "file", "folder", "empty folder", "read-only", "input")
CASES = [(command, state) for command in ("decode", "merge", "simulate", *FOLDER_OUTPUTS)
         for state in STATES if (command, state) != ("simulate", "input")]  # reads no file
ROOT = os.geteuid() == 0 if hasattr(os, "geteuid") else False


@pytest.fixture(scope="module")
def traces(tmp_path_factory) -> dict[str, object]:
    """The rank parts of a 2-process tiny-random run (ranks run one after the other in
    this process, no process group; rank 0's merge keeps the parts), the merged trace,
    and a single-process trace of another run (seed 5)."""
    root = tmp_path_factory.mktemp("traces")

    def decode(out: str) -> None:
        code, _, err = run_cli([*DECODE, "--trace", out])
        assert code == 0, err

    with pytest.MonkeyPatch.context() as mp:
        decode_as_two_ranks(mp, decode, root / "t.parquet")
    code, _, err = run_cli([*DECODE, "--seed", "5", "--trace", str(root / "other.parquet")])
    assert code == 0, err
    return {"parts": [root / f"t.rank{r}of2.parquet" for r in (0, 1)],
            "merged": root / "t.parquet", "other": root / "other.parquet"}


@pytest.fixture
def fake_report(monkeypatch):
    """``run_report`` replaced by one that writes summary.json (the command's handling of
    its folders is under test, not the report); ``fail=True`` raises after writing."""
    calls: dict[str, bool] = {"fail": False}

    def run_report(opts, progress=True):
        opts.out_dir.mkdir(parents=True, exist_ok=True)
        (opts.out_dir / "summary.json").write_text(json.dumps({"out": opts.out}))
        if calls["fail"]:
            raise KeyboardInterrupt
        return {"sections": {}, "seconds": 0.0}

    monkeypatch.setattr("paradec.report.run_report", run_report)
    return calls


def snapshot(path: Path) -> dict[str, bytes] | None:
    """Every byte under ``path`` (a file, a folder) by relative name; None if absent."""
    if path.is_file():
        return {"": path.read_bytes()}
    if path.is_dir():
        return {str(p.relative_to(path)): p.read_bytes() if p.is_file() else b"<folder>"
                for p in sorted(path.rglob("*"))}
    return None


def _command(command: str, where: Path, traces: dict[str, object], input_: bool
             ) -> tuple[list[str], Path]:
    """argv of ``command`` writing into folder ``where`` and the output path it writes;
    with ``input_`` the output is also an input (it then exists and holds that input)."""
    if command == "decode":
        target = where / "t.parquet"
        argv = [*DECODE, "--trace", str(target)]
        if input_:
            target.write_text(json.dumps({"input_ids": [5, 6, 7]}) + "\n")
            argv += ["--prompts", str(target)]
        return argv, target
    if command == "merge":
        parts = [Path(shutil.copy(p, where)) for p in traces["parts"]]  # type: ignore[attr-defined]
        target = parts[0] if input_ else where / "m.parquet"
        return ["merge", str(target), *map(str, parts)], target
    if command == "simulate":
        return ["simulate", "bonus", "--n", "1", "--out", str(where), "--no-progress"], \
            where / "bonus.csv"
    target = where / ("model" if command == "train" else "run")
    if command == "train":
        argv = ["train", "--out", str(target), "--steps", "1", "--threads", "1", "--quiet"]
        if input_:
            target.mkdir()
            (target / "config.json").write_text("{}")
            argv += ["--init", str(target)]
        return argv, target
    argv = ["report", "--out", str(target), "--docs", str(where / "docs"), "--no-progress"]
    if input_:
        target.mkdir()
        (target / "p.jsonl").write_text(json.dumps({"input_ids": [5]}) + "\n")
        argv += ["--model", "tiny-arith", "--prompts", str(target / "p.jsonl")]
    return argv, target


def _prepare(state: str, target: Path, traces: dict[str, object]) -> None:
    if state == "file":
        if target.suffix == ".parquet":
            shutil.copy(traces["other"], target)  # type: ignore[arg-type]
        else:
            target.write_bytes(b"old bytes\n")
    elif state in ("folder", "empty folder"):
        target.mkdir()
        if state == "folder":
            (target / "keep.txt").write_bytes(b"old bytes\n")


def _expected(command: str, state: str, overwrite: bool) -> str | None:
    """The phrase of the refusal, or None when the command must succeed."""
    folder = command in FOLDER_OUTPUTS
    if state == "read-only":
        return "is not writable"
    if state == "input":
        return "would be overwritten by"
    if state in ("file", "folder", "empty folder"):
        if (state == "file") == folder:
            return f"exists and is not a {'folder' if folder else 'file'}"
        if not overwrite and state != "empty folder":
            return "already exists: pass --overwrite"
    return None


def _check_result(command: str, target: Path) -> None:
    """The output a successful run must leave."""
    if command in ("decode", "merge"):
        trace = read_trace(target)
        assert trace.complete and trace.provenance["seed"] == 0
        assert trace.provenance.get("world_size") == (2 if command == "merge" else None)
    elif command == "simulate":
        assert json.loads(target.with_suffix(".json").read_text())["study"] == "bonus"
    elif command == "train":
        assert json.loads((target / "train_log.json").read_text())["steps_done"] == 1
        assert not (target / "keep.txt").exists()          # the folder is replaced whole
    else:
        assert sorted(p.name for p in target.iterdir()) == ["summary.json"]


@pytest.mark.parametrize("overwrite", [False, True], ids=["", "overwrite"])
@pytest.mark.parametrize(("command", "state"), CASES)
def test_an_existing_output_is_refused_or_replaced_never_lost(command, state, overwrite,
                                                              tmp_path, traces, fake_report):
    if state == "read-only" and ROOT:
        pytest.skip("running as root: chmod does not stop root from writing, so a read-only "
                    "folder cannot be made")
    where = tmp_path / "out"
    where.mkdir()
    argv, target = _command(command, where, traces, state == "input")
    _prepare(state, target, traces)
    before = snapshot(target)
    if state == "read-only":
        where.chmod(0o555)
    try:
        result = run_cli(argv + (["--overwrite"] if overwrite else []))
    finally:
        where.chmod(0o755)
    phrase = _expected(command, state, overwrite)
    if phrase is None:
        assert result[0] == 0, result
        _check_result(command, target)
        return
    assert_usage_error(result, str(target) if state != "input" else "", phrase)
    assert snapshot(target) == before
    assert not list(where.glob(".*replaced-*")) and not list(where.glob(".tmp-*"))


def test_a_trace_is_not_lost_when_an_overwriting_run_fails_half_way(tmp_path, monkeypatch,
                                                                    traces):
    import realmodel.engine

    out = tmp_path / "t.parquet"
    shutil.copy(traces["other"], out)  # type: ignore[arg-type]
    before = out.read_bytes()
    original, calls = realmodel.engine.Engine.run, []

    def dies_in_batch_1(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(realmodel.engine.Engine, "run", dies_in_batch_1)
    with pytest.raises(KeyboardInterrupt):
        run_cli([*DECODE, "--trace", str(out), "--overwrite"])
    assert out.read_bytes() == before


@pytest.mark.parametrize("command", FOLDER_OUTPUTS)
def test_a_folder_is_put_back_when_an_overwriting_run_fails(command, tmp_path, monkeypatch,
                                                            fake_report, traces):
    import importlib

    def train(cfg, out, **kwargs):
        Path(out).mkdir()
        (Path(out) / "model.safetensors").write_bytes(b"half")
        raise KeyboardInterrupt

    # the module: realmodel.shipped re-exports a function of the same name
    monkeypatch.setattr(importlib.import_module("realmodel.shipped.train"), "train", train)
    fake_report["fail"] = True
    argv, target = _command(command, tmp_path, traces, False)
    _prepare("folder", target, traces)
    before = snapshot(target)
    with pytest.raises(KeyboardInterrupt):
        run_cli([*argv, "--overwrite"])
    assert snapshot(target) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]


def test_the_default_report_folders_are_regenerated_without_overwrite(tmp_path, monkeypatch,
                                                                      fake_report):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs" / "report").mkdir(parents=True)
    (tmp_path / "runs" / "report" / "old.json").write_text("{}")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "results.md").write_text("old")
    code, out, err = run_cli(["report", "--no-progress"])
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "runs" / "report").iterdir()) == ["summary.json"]


def test_report_refuses_docs_outside_the_default_that_hold_results(tmp_path, fake_report):
    docs = tmp_path / "mydocs"
    (docs / "figures").mkdir(parents=True)
    (docs / "figures" / "bonus.png").write_bytes(b"old png")
    before = snapshot(docs)
    argv = ["report", "--out", str(tmp_path / "run"), "--docs", str(docs), "--no-progress"]
    assert_usage_error(run_cli(argv), str(docs / "figures" / "bonus.png"), "--overwrite")
    assert snapshot(docs) == before and not (tmp_path / "run").exists()
    assert run_cli([*argv, "--overwrite"])[0] == 0
    assert not (docs / "results.md").exists()    # the fake report wrote no docs


def test_decode_refuses_overwrite_with_resume(tmp_path, traces):
    out = tmp_path / "t.parquet"
    shutil.copy(traces["merged"], out)  # type: ignore[arg-type]
    before = out.read_bytes()
    assert_usage_error(run_cli([*DECODE, "--trace", str(out), "--resume", "--overwrite"]),
                       "--resume", "--overwrite")
    assert out.read_bytes() == before


def test_a_folder_that_cannot_be_written_is_named_also_as_root(tmp_path, monkeypatch):
    """The read-only branch without chmod (root ignores it): os.access says no."""
    import paradec.commands.outputs

    monkeypatch.setattr(paradec.commands.outputs.os, "access", lambda path, mode: False)
    assert_usage_error(run_cli([*DECODE, "--trace", str(tmp_path / "a" / "t.parquet")]),
                       f"folder {tmp_path} is not writable")
    assert not any(tmp_path.iterdir())
