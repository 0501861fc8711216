"""A decode step's window profile on a CPU: through numpy views or in torch, by vocabulary.

``realmodel.engine.sampling.window_profile`` computes the profile of a decode step's
window (``theory.profile_from_logits`` in float64). On a CPU with a vocabulary shorter
than ``SHORT_VOCABULARY`` it runs on zero-copy numpy views of the whole window (committed
positions zeroed afterwards); otherwise in torch on the valid positions only (gather,
profile, scatter back). The step is a few dozen calls; on a short vocabulary each call's
own cost decides (torch's is several times numpy's), on a long one the float64 passes over
the vocabulary do, and torch's fused log-sum-exp over half the rows wins there.
This benchmark times both routes on the same logits at each vocabulary size (a window of
32 positions, half of them valid, batch 1, float32 logits, without and with the entropy
pass), in turns, and checks that they pick the same tokens and agree to a few ulps.

    PYTHONPATH=. python benchmarks/profile_cpu.py [--vocab V ...] [--turns 15] [--threads 2]

Prints per vocabulary size the median microseconds of each route and their ratio
(torch / numpy: above 1, numpy is faster).
"""

from __future__ import annotations

import argparse

import torch

import realmodel.engine.sampling as sampling
from realmodel.machine import describe_cpu, median_us
from realmodel.model.specials import SpecialTokens
from theory import Profile

VOCABULARIES = (20, 64, 128, 256, 512, 1024, 8192)
SPECIALS = SpecialTokens(mask_id=0, pad_id=1)


def route(numpy: bool, logits: torch.Tensor, valid: torch.Tensor, entropy: bool
          ) -> Profile:
    """The window profile through numpy views (``numpy``) or in torch."""
    saved = sampling.SHORT_VOCABULARY
    sampling.SHORT_VOCABULARY = 2**62 if numpy else 0
    try:
        return sampling.window_profile(logits, valid, SPECIALS, entropy=entropy)
    finally:
        sampling.SHORT_VOCABULARY = saved



def measure(V: int, entropy: bool, turns: int) -> dict[str, float]:
    gen = torch.Generator().manual_seed(V)
    logits = 3.0 * torch.randn(1, 32, V, generator=gen)
    valid = torch.rand(1, 32, generator=gen) < 0.5
    a, b = route(True, logits, valid, entropy), route(False, logits, valid, entropy)
    if not torch.equal(a.tokens, b.tokens):
        raise AssertionError(f"the two routes pick different tokens at V = {V}")
    for name in ("c", "log_r", "s") + (("H",) if entropy else ()):
        x, y = getattr(a, name), getattr(b, name)
        # each route: a log-sum-exp over V terms and a few elementwise exp / log in float64
        tol = 8 * V * torch.finfo(torch.float64).eps * (1 + y.abs())
        if not bool(((x - y).abs() <= tol).all()):
            raise AssertionError(f"the two routes' {name} differ beyond rounding at V = {V}")
    calls = max(1, int(2e5 // logits.numel()))
    return median_us({"numpy": lambda: route(True, logits, valid, entropy),
                      "torch": lambda: route(False, logits, valid, entropy)}, turns, calls)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vocab", type=int, nargs="+", default=list(VOCABULARIES),
                    metavar="V", help="vocabulary sizes (default: %(default)s)")
    ap.add_argument("--turns", type=int, default=15)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"{describe_cpu()}, {args.threads} threads, torch {torch.__version__}; "
          f"the engine's boundary: SHORT_VOCABULARY = {sampling.SHORT_VOCABULARY}")
    print("| V | entropy | numpy views us | torch us | torch / numpy |")
    print("|---:|---|---:|---:|---:|")
    for V in args.vocab:
        for entropy in (False, True):
            us = measure(V, entropy, args.turns)
            print(f"| {V} | {'yes' if entropy else 'no'} | {us['numpy']:.0f} | "
                  f"{us['torch']:.0f} | {us['torch'] / us['numpy']:.2f} |")


if __name__ == "__main__":
    main()
