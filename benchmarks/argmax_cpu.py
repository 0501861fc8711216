"""The first pass of a float64 profile on a CPU: torch's max(dim) against numpy's argmax.

``theory.profile_from_logits`` needs each position's top logit and token, and a float64
copy of the logits. It used to take the maximum with torch's ``max(dim=-1)`` in the
logits' dtype and then widen; it now widens first and reduces the float64 copy through
a zero-copy numpy view (``theory._xp.max_argmax``), because torch's CPU ``max(dim)`` and
``argmax`` are several times slower than numpy's on vocabulary-wide rows. Both give the
same bits (checked here on every shape). Shapes: a window of 32 positions at batch 1 and
8 over the 8192-token vocabulary of bench_decode.py's model, and batch 1 over LLaDA's
126,464 tokens; float32 and bfloat16 logits.

    PYTHONPATH=. python benchmarks/argmax_cpu.py [--threads 2] [--turns 15]

Prints per shape and dtype the median microseconds of each (old then new, in turns) and
their ratio (old / new).
"""

from __future__ import annotations

import argparse

import torch
from torch import Tensor

from realmodel.machine import describe_cpu, median_us
from theory._xp import max_argmax, namespace

SHAPES = ((1, 32, 8192), (8, 32, 8192), (1, 32, 126464))
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}


def torch_first(x: Tensor) -> tuple[Tensor, Tensor]:
    """The old first pass: torch's max(dim) in the logits' dtype, then the float64 copy
    shifted by the maximum."""
    z1, tokens = x.max(dim=-1)
    d = x.to(torch.float64, copy=True)
    d -= z1.to(torch.float64)[..., None]
    return d, tokens


def numpy_first(x: Tensor) -> tuple[Tensor, Tensor]:
    """The new first pass: the float64 copy, reduced by numpy, shifted by its maximum."""
    d = x.to(torch.float64, copy=True)
    z1, tokens = max_argmax(namespace(d), d)
    d -= z1[..., None]
    return d, tokens



def measure(shape: tuple[int, ...], dtype: torch.dtype, turns: int) -> dict[str, float]:
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(0)).to(dtype)
    old, new = torch_first(x), numpy_first(x)
    if not (torch.equal(old[0], new[0]) and torch.equal(old[1], new[1])):
        raise AssertionError(f"the two first passes differ at {shape} {dtype}")
    calls = max(1, int(2e6 // x.numel()))
    return median_us({"torch max(dim)": lambda: torch_first(x),
                      "numpy argmax": lambda: numpy_first(x)}, turns, calls)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--turns", type=int, default=15)
    ap.add_argument("--shapes", type=int, default=len(SHAPES),
                    help="measure the first N shapes only")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"{describe_cpu()}, {args.threads} threads, torch {torch.__version__}")
    print("| logits | dtype | torch max(dim) us | numpy argmax us | old / new |")
    print("|---|---|---:|---:|---:|")
    for shape in SHAPES[:args.shapes]:
        for label, dtype in DTYPES.items():
            us = measure(shape, dtype, args.turns)
            old, new = us["torch max(dim)"], us["numpy argmax"]
            print(f"| {' x '.join(map(str, shape))} | {label} | {old:.0f} | {new:.0f} | "
                  f"{old / new:.2f} |")


if __name__ == "__main__":
    main()
