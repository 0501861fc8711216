"""The test suite under every CPU kernel and thread count: pass/fail, wall time, and the
measured headroom of every error-model comparison (tests/tolerance.py).

    python benchmarks/kernel_matrix.py            # the float-sensitive tests (FLOAT_TESTS)
    python benchmarks/kernel_matrix.py --full     # the whole suite (what make test-kernels runs)

For each ATEN_CPU_CAPABILITY the machine has (tests/kernels.py) and 1 and 2 torch threads
(PARADEC_TEST_THREADS) it runs pytest with PARADEC_TOLERANCE_LOG set, then prints a
markdown table: per comparison, the largest difference seen and its ratio to the bound
(0 means bit-identical results). The exit status is non-zero if any run failed.
Run it alone on the machine: the times are wall seconds.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.kernels import FLOAT_TESTS, supported  # noqa: E402


def run(kernel: str, threads: int, paths: list[str], log: Path) -> tuple[int, float, str]:
    env = dict(os.environ, ATEN_CPU_CAPABILITY=kernel, PARADEC_TEST_THREADS=str(threads),
               PARADEC_TOLERANCE_LOG=str(log), HYPOTHESIS_PROFILE="ci")
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", "2", "--dist",
                           "loadfile", "-p", "no:cacheprovider", *paths], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    tail = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr[-200:]
    if proc.returncode:
        print(proc.stdout[-4000:], file=sys.stderr)
    return proc.returncode, time.perf_counter() - start, tail


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="the whole suite")
    parser.add_argument("--threads", default="1,2", help="thread counts (default 1,2)")
    args = parser.parse_args(argv)
    paths = [] if args.full else FLOAT_TESTS
    worst: dict[str, dict[str, tuple[float, float]]] = defaultdict(dict)
    failed = 0
    print("| kernel | threads | result | wall s |\n|---|---:|---|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for kernel in supported():
            for threads in (int(t) for t in args.threads.split(",")):
                log = Path(tmp) / f"{kernel}-{threads}.tsv"
                rc, wall, tail = run(kernel, threads, paths, log)
                failed += rc != 0
                print(f"| {kernel} | {threads} | {tail} | {wall:.0f} |", flush=True)
                for line in log.read_text().splitlines() if log.exists() else []:
                    test, diff, _, ratio = line.split("\t")
                    if test.startswith("tests/test_tolerance.py"):
                        continue  # the helper's own tests perturb on purpose
                    key = f"{kernel}/{threads}"
                    old = worst[test].get(key, (0.0, 0.0))
                    worst[test][key] = max(old, (float(ratio), float(diff)))
    columns = sorted({k for row in worst.values() for k in row})
    print("\nlargest difference / error-model bound (difference), per kernel/threads:\n")
    print("| comparison | " + " | ".join(columns) + " |")
    print("|---|" + "---:|" * len(columns))
    for test in sorted(worst):
        cells = [f"{worst[test][c][0]:.4f} ({worst[test][c][1]:.2g})" if c in worst[test]
                 else "" for c in columns]
        print(f"| {test.removeprefix('tests/')} | " + " | ".join(cells) + " |")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
