"""Corruption sweep: flip one bit in every byte of a trace file, and truncate it at every
length; count what read_trace detects, what is harmless and what would be silent.

A flip is *detected* when read_trace raises TraceError, *harmless* when it returns a table
equal to the original (the bit sat in statistics or padding that no reader uses) and
*silent* when it returns different data without an error (must be 0). Any other
exception counts as *crashed* (must be 0). Truncations must all be detected.

Run:  PYTHONPATH=. python benchmarks/trace_corruption.py [--seed 0] [--stride 1] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np


def sample_trace(folder: Path) -> Path:
    """A small complete trace: 3 prompts, tiny random LLaDA, threshold 0.5, 2 blocks."""
    from realmodel.engine import DecodeConfig, decode
    from realmodel.engine.prompts import Prompt
    from realmodel.model.denoiser import LLaDADenoiser
    from realmodel.model.tiny import random_llada, tiny_config
    from realmodel.trace import TraceWriter, provenance
    from theory import make_rule

    denoiser = LLaDADenoiser(random_llada(tiny_config(), seed=31, logit_scale=4.0))
    prompts = [Prompt(ids=[5 + i, 40, 22 + 3 * i, 9][: 2 + i], answer=f"a{i}") for i in
               range(3)]
    config = DecodeConfig(rule=make_rule("threshold", 0.5), gen_length=16, block_length=8)
    path = folder / "t.parquet"
    with TraceWriter(path, provenance(denoiser, config, batch_size=2, n_prompts=3)) as w:
        decode(denoiser, prompts, config, batch_size=2, trace=w)
    return path


def sweep(path: Path, rng: np.random.Generator, stride: int = 1) -> dict[str, Any]:
    """Flip one random bit of every ``stride``-th byte; truncate at every such length."""
    from realmodel.trace import TraceError, read_trace

    good = read_trace(path).table
    data = path.read_bytes()
    probe = path.with_name("probe.parquet")
    counts = {"bytes": len(data), "flips": 0, "detected": 0, "harmless": 0, "silent": 0,
              "crashed": 0, "truncations": 0, "truncations_detected": 0}
    silent: list[int] = []
    for i in range(0, len(data), stride):
        flipped = bytearray(data)
        flipped[i] ^= 1 << int(rng.integers(8))
        probe.write_bytes(bytes(flipped))
        counts["flips"] += 1
        try:
            same = read_trace(probe).table.equals(good)
        except TraceError:
            counts["detected"] += 1
            continue
        except Exception:  # noqa: BLE001 - counted: any other exception is a bug
            counts["crashed"] += 1
            continue
        counts["harmless" if same else "silent"] += 1
        if not same:
            silent.append(i)
    for n in range(0, len(data), stride):
        probe.write_bytes(data[:n])
        counts["truncations"] += 1
        try:
            read_trace(probe)
        except TraceError:
            counts["truncations_detected"] += 1
        except Exception:  # noqa: BLE001
            counts["crashed"] += 1
    counts["silent_offsets"] = silent[:20]
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--stride", type=int, default=1, help="test every N-th byte")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        counts = sweep(sample_trace(Path(tmp)), np.random.default_rng(args.seed), args.stride)
    counts["seed"] = args.seed
    ok = counts["silent"] == 0 and counts["crashed"] == 0 and \
        counts["truncations_detected"] == counts["truncations"]
    if args.json:
        print(json.dumps(counts))
    else:
        for key, value in counts.items():
            print(f"{key}: {value}")
        print("result:", "OK (no silent corruption)" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
