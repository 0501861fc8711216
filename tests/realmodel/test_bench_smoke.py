"""benchmarks/bench_decode.py runs end to end (quick mode) and its ratios are consistent."""

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from tests.scripts import BENCHMARKS, load_benchmark


def _bench():
    return load_benchmark("bench_decode")


def test_quick_benchmark_baselines_and_call_counts():
    bench = _bench()
    setup = bench.Setup(gen_length=16, block_length=8, prompt_length=6, quick=True,
                        logit_scale=4.0, dtypes=("float32",), batches=(1, 2))
    rows = bench.compute_matrix(setup)
    assert len(rows) == 18 and {r["batch"] for r in rows} == {1, 2}
    base = next(r for r in rows if r["rule"] == "static" and r["cache"] == "none")
    assert base["calls"] == 16 and base["speed_vs_static_none"] == 1.0
    assert all(r["calls"] == 16 for r in rows if r["rule"] == "static")
    assert all(r["agree_with_none"] == 1.0 for r in rows if r["cache"] == "none")
    table = bench.format_tables(rows, bench.compute_invariance(setup))
    assert "| float32 | 2 | frechet 0.25 | dual |" in table
    assert all(0 < r["forward_share"] <= 1 for r in rows)


def test_shipped_table_freedave_equals_static_in_fewer_calls():
    bench = _bench()
    rows = bench.compute_shipped(n_prompts=2)
    assert len(rows) == 6
    assert all(r["same_as_static"] for r in rows if r["rule"] != "threshold 0.9")
    static = {r["cache"]: r["calls"] for r in rows if r["rule"] == "static"}
    assert all(r["calls"] < static[r["cache"]] for r in rows if r["rule"].startswith("freedave"))
    assert "| tiny-arith | freedave K=4 | dual |" in bench.format_tables([], [], rows)


@pytest.mark.parametrize("script", ["bench_decode", "bench_freedave", "bench_simulate",
                                    "freedave_auto"])
def test_a_benchmark_refuses_to_replace_its_json_output_unasked(script, tmp_path):
    """--json names an existing file: the script stops before any work, names the file and
    --overwrite, and leaves the file as it was."""
    out = tmp_path / "numbers.json"
    out.write_text('{"kept": true}')
    root = BENCHMARKS.parent
    run = subprocess.run([sys.executable, str(BENCHMARKS / f"{script}.py"),
                          "--json", str(out)], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "PYTHONPATH": str(root)})
    assert run.returncode != 0
    assert f"--json {out} already exists: pass --overwrite" in run.stderr
    assert out.read_text() == '{"kept": true}'


def test_forward_turns_rotate_so_each_forward_starts_a_turn_equally_often():
    fe = load_benchmark("forward_vs_eurobert")
    calls: list[str] = []
    fns = {name: (lambda n=name: calls.append(n)) for name in "abc"}
    times = fe._interleaved(fns, repeats=6)
    assert all(len(t) == 6 for t in times.values())
    turns = ["".join(calls[3 + 3 * i:6 + 3 * i]) for i in range(6)]  # after the warm-ups
    assert calls[:3] == list("abc") and turns == ["abc", "bca", "cab"] * 2


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_forward_benchmark_can_fix_the_allocator_thresholds_in_its_own_process():
    # in a child: the thresholds are process-wide, and the test process keeps its own
    code = ("import runpy; fe = runpy.run_path('benchmarks/forward_vs_eurobert.py'); "
            "print(fe['keep_freed_memory']())")
    root = Path(__file__).resolve().parents[2]
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, cwd=root, env={**os.environ, "PYTHONPATH": str(root)})
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "malloc trim threshold 2 GiB, mmap threshold 32 MiB"


def test_load_time_benchmark_builds_both_ways_in_fresh_processes():
    bench = load_benchmark("load_time")
    for build in bench.BUILD.values():
        assert bench.seconds("tiny-arith", build) > 0


def test_argmax_benchmark_checks_both_first_passes_give_the_same_bits(capsys):
    bench = load_benchmark("argmax_cpu")
    bench.main(["--threads", "1", "--turns", "1", "--shapes", "1"])
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| 1 x")]
    assert [row.split(" | ")[1] for row in rows] == ["float32", "bfloat16"]


def test_profile_benchmark_checks_both_routes_agree(capsys):
    bench = load_benchmark("profile_cpu")
    bench.main(["--vocab", "20", "64", "--turns", "1", "--threads", "1"])
    rows = [line.split(" | ")[:2] for line in capsys.readouterr().out.splitlines()
            if line[:3] in ("| 2", "| 6")]
    assert rows == [["| 20", "no"], ["| 20", "yes"], ["| 64", "no"], ["| 64", "yes"]]
