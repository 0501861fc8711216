"""Start-up cost of loading a shipped model: building the empty model on the meta device
with torch.nn.init's fillers (what load_llada did before) against without them
(realmodel.model.checkpoint.empty_llada), each in a fresh Python process, in turns.

    PYTHONPATH=. python benchmarks/load_time.py [--model tiny-arith] [--turns 5]

The first filler call on a meta tensor imports torch's Python reference kernels; a
process that loads one model pays it once. Prints the median seconds of each and their
ratio (fillers / none).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

BUILD = {
    "with fillers": "import torch\nwith torch.device('meta'):\n    LLaDAModel(config)",
    "without fillers": "empty_llada(config)",
}
SCRIPT = """
import time
from realmodel.model.checkpoint import empty_llada, read_config
from realmodel.model.llada import LLaDAModel
from realmodel.shipped.registry import shipped_path
config = read_config(shipped_path({model!r}))
tic = time.perf_counter()
{build}
print(time.perf_counter() - tic)
"""


def seconds(model: str, build: str) -> float:
    out = subprocess.run([sys.executable, "-c", SCRIPT.format(model=model, build=build)],
                         check=True, capture_output=True, text=True)
    return float(out.stdout.split()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="tiny-arith")
    ap.add_argument("--turns", type=int, default=5)
    args = ap.parse_args()
    times: dict[str, list[float]] = {name: [] for name in BUILD}
    for _ in range(args.turns):
        for name, build in BUILD.items():
            times[name].append(seconds(args.model, build))
    med = {name: statistics.median(v) for name, v in times.items()}
    for name, m in med.items():
        print(f"{name:<16} median {m:.3f} s  ({', '.join(f'{t:.3f}' for t in times[name])})")
    print(f"ratio with / without: {med['with fillers'] / med['without fillers']:.1f}")


if __name__ == "__main__":
    main()
