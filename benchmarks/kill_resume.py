"""Kill-and-resume: SIGKILL a real ``paradec decode`` run N times, resume, count lost rows.

An uninterrupted run writes the reference trace. Then, in episodes on a fresh output, the
same command with ``--resume`` is started and killed with SIGKILL after a random delay
(:func:`start_and_kill`: mostly while batches are decoded and written, sometimes anywhere
from start-up to the final merge), again and again until one run finishes by itself; its trace
is compared with the reference row for row. After every kill the finished batches on
disk are counted (they must never decrease: a kill loses at most the batch in flight).
Episodes repeat until N kills are spent.

Run:  PYTHONPATH=. python benchmarks/kill_resume.py [--kills 20] [--seed 0] [--json]
Prints kills, kills that landed while batches were being written, rows checked, rows
lost (must be 0), rows that differ (must be 0) and the result (exit status 1 if not ok).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DECODE = ["--model", "tiny-arith", "--rule", "quota", "--k", "1", "--temperature",
          "0.7", "--seed", "3", "--batch-size", "2", "--limit", "16", "--progress", "off"]


def _env() -> dict[str, str]:
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    return env


def start(out: Path, extra: list[str], decode: list[str] = DECODE,
          stderr: Any = subprocess.PIPE) -> subprocess.Popen[bytes]:
    """``python -m paradec decode <decode> --trace out <extra>`` as a child process."""
    return subprocess.Popen([sys.executable, "-m", "paradec", "decode", *decode, "--trace",
                             str(out), *extra], cwd=ROOT, env=_env(),
                            stdout=subprocess.DEVNULL, stderr=stderr)


def start_and_kill(out: Path, decode: list[str], rng: np.random.Generator, ready: float,
                   wall: float) -> subprocess.Popen[bytes] | None:
    """Start ``--resume`` and SIGKILL it: 3 times in 4 at a uniform moment of its decoding
    window (timed from its progress bar's first output, when decoding begins), else at a
    uniform moment of [0, wall) from its start. None if it finished first (then it is
    returned unkilled, to be finished by the caller)."""
    log = out.with_name(out.name + ".stderr")
    with open(log, "wb") as err:
        proc = start(out, ["--resume", "--progress", "on"], decode, stderr=err)
        tic = time.perf_counter()
        if rng.random() < 0.75:
            while proc.poll() is None and log.stat().st_size == 0 and \
                    time.perf_counter() - tic < 10 * wall:
                time.sleep(0.01)
            delay = float(rng.uniform(0.0, max(wall - ready, 0.01)))
        else:
            delay = float(rng.uniform(0.0, wall))
        time.sleep(delay)
        if proc.poll() is not None:
            return proc
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    return None


def finish(proc: subprocess.Popen[bytes]) -> None:
    _, err = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"paradec decode failed ({proc.returncode}): {err.decode()}")


def batches_on_disk(out: Path) -> int:
    """Finished batches a killed run left (all of them once ``out`` exists)."""
    from realmodel.trace import read_trace

    if out.exists():
        return len(set(read_trace(out).table.column("batch").to_pylist()))
    parts = out.with_name(out.name + ".partial")
    if not parts.is_dir() or not any(parts.glob("part-*.parquet")):
        return 0
    return len(set(read_trace(parts).table.column("batch").to_pylist()))


def kill_and_resume(folder: Path, kills: int, rng: np.random.Generator,
                    budget_s: float | None = None, decode: list[str] = DECODE,
                    min_kills: int = 0) -> dict[str, Any]:
    """Reference run, then episodes until ``kills`` SIGKILLs are spent (or ``budget_s``
    seconds, but at least ``min_kills`` kills): each episode starts ``--resume`` runs on
    a fresh output, kills each after a random delay until one finishes by itself, and
    compares the result with the reference row for row. Returns the counts (summed over
    episodes)."""
    ref_path = folder / "reference.parquet"
    ready, wall = reference_run(ref_path, decode)
    totals: dict[str, Any] = {"kills": 0, "kills_with_progress": 0, "episodes": 0,
                              "batches_after_each_kill": [], "reference_seconds": round(wall, 2),
                              "startup_seconds": round(ready, 2),
                              "rows_checked": 0, "rows_lost": 0, "rows_extra": 0,
                              "rows_differ": 0, "equal": True}
    started = time.perf_counter()
    def more() -> bool:
        return totals["kills"] < kills and (
            budget_s is None or time.perf_counter() - started < budget_s
            or totals["kills"] < min_kills)

    while more():
        out = folder / f"killed-{totals['episodes']}.parquet"
        totals["episodes"] += 1
        while True:
            before = batches_on_disk(out)
            if not more():
                finish(start(out, ["--resume"], decode))   # the episode is over
                break
            proc = start_and_kill(out, decode, rng, ready, wall)
            if proc is not None:
                if proc.returncode != 0:
                    raise RuntimeError(f"paradec decode failed ({proc.returncode}): "
                                       f"{out.with_name(out.name + '.stderr').read_text()}")
                break                                      # it finished before the kill
            now = batches_on_disk(out)
            if now < before:
                raise AssertionError(f"a kill lost finished batches: {before} -> {now}")
            totals["kills"] += 1
            totals["kills_with_progress"] += now > before
            totals["batches_after_each_kill"].append(now)
        for key, value in compare(ref_path, out).items():
            totals[key] = totals[key] and value if key == "equal" else totals[key] + value
    return totals


def reference_run(path: Path, decode: list[str]) -> tuple[float, float]:
    """Run to the end; return (seconds until decoding began, i.e. the run record
    appeared in the .partial folder, total seconds)."""
    manifest = path.with_name(path.name + ".partial") / "run.json"
    tic = time.perf_counter()
    proc = start(path, [], decode)
    ready = None
    while proc.poll() is None:
        if ready is None and manifest.exists():
            ready = time.perf_counter() - tic
        time.sleep(0.01)
    finish(proc)
    wall = time.perf_counter() - tic
    return (wall if ready is None else ready), wall


def compare(ref_path: Path, out: Path) -> dict[str, Any]:
    """Rows checked, lost, extra and different between two traces, and whether the
    tables are equal (provenance and wall-clock fields are not compared)."""
    from realmodel.trace import read_trace

    ref, got = read_trace(ref_path).table, read_trace(out).table
    rows = ref.num_rows
    same = min(rows, got.num_rows)
    differ = rows if ref.schema != got.schema else sum(
        int(not ref.slice(i, 1).equals(got.slice(i, 1))) for i in range(same))
    return {"rows_checked": rows, "rows_lost": max(0, rows - got.num_rows),
            "rows_extra": max(0, got.num_rows - rows), "rows_differ": differ,
            "equal": bool(ref.equals(got))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = kill_and_resume(Path(tmp), args.kills, np.random.default_rng(args.seed))
    result["seed"] = args.seed
    ok = result["equal"] and result["rows_lost"] == 0 and result["rows_differ"] == 0
    if args.json:
        print(json.dumps(result))
    else:
        print(f"decode {' '.join(DECODE)}")
        for key, value in result.items():
            print(f"{key}: {value}")
        print("result:", "OK (no row lost, final trace equals the uninterrupted run)" if ok
              else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
