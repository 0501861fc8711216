"""paradec's LLaDA forward against transformers' EuroBertForMaskedLM on the same weights.

The 36M-parameter benchmark shape (realmodel.model.tiny.bench_config) with seeded random
weights; EuroBERT gets them through realmodel.model.checkpoint.eurobert_state_dict (the
independent implementation the tests compare logits against). Per dtype and batch size:
the median time of a full forward over prompt 64 + gen 256 tokens (both models, logits of
the 32-token window for paradec, every position's for EuroBERT, so paradec's LM head does
less work; ``head=None`` compares equal work), and paradec's cached forwards (prefix: the
block to the end; dual: the block) that EuroBERT has no counterpart for. Ratios are
paradec / EuroBERT in one run (< 1: paradec faster).

Run alone:  PYTHONPATH=. python benchmarks/forward_vs_eurobert.py [--threads 2]
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import torch

from realmodel.machine import describe_cpu
from realmodel.model.cache import KVCache
from realmodel.model.checkpoint import eurobert_config, eurobert_state_dict
from realmodel.model.tiny import bench_config, random_llada

T, LO, W = 320, 64, 32  # canvas (prompt 64 + gen 256), block start, block length


def _median(fn: Any, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        tic = time.perf_counter()
        fn()
        times.append(time.perf_counter() - tic)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--batches", default="1,8")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from transformers import EuroBertForMaskedLM

    config = bench_config()
    print(f"# forward_vs_eurobert: bench_config, T={T}, block {W}, {args.threads} threads; "
          f"CPU: {describe_cpu()}; torch {torch.__version__}")
    print("| dtype | batch | paradec full (same work) ms | EuroBERT full ms | ratio | "
          "paradec window head ms | prefix ms | dual ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for dtype in (torch.float32, torch.bfloat16):
        ours = random_llada(config, seed=0, logit_scale=10.0, dtype=dtype)
        ref = EuroBertForMaskedLM(eurobert_config(config))
        ref.config._attn_implementation = "sdpa"
        ref.load_state_dict(eurobert_state_dict(ours.state_dict()), strict=True)
        ref = ref.to(dtype).eval()
        for B in (int(b) for b in args.batches.split(",")):
            t = _row(ours, ref, B, args.repeats)
            name = str(dtype).replace("torch.", "")
            print(f"| {name} | {B} | {t['full'] * 1e3:.1f} | {t['eurobert'] * 1e3:.1f} | "
                  f"{t['full'] / t['eurobert']:.2f} | {t['window'] * 1e3:.1f} | "
                  f"{t['prefix'] * 1e3:.1f} | {t['dual'] * 1e3:.1f} |", flush=True)


def _row(ours: Any, ref: Any, B: int, repeats: int) -> dict[str, float]:
    """Median seconds of each forward at batch ``B`` (module docstring)."""
    config = ours.config
    ids = torch.randint(4, config.vocab_size, (B, T), generator=torch.Generator().manual_seed(B))
    pos = torch.arange(T).expand(B, T)
    cache = KVCache.empty(config.n_layers)
    with torch.no_grad():
        out = {"full": _median(lambda: ours(ids, pos, head=None), repeats),
               "eurobert": _median(lambda: ref(input_ids=ids).logits, repeats),
               "window": _median(lambda: ours(ids, pos, head=(LO, LO + W)), repeats)}
        ours(ids, pos, cache=cache, head=(LO, LO + W))  # fills the cache
        out["prefix"] = _median(lambda: ours(ids[:, LO:], pos[:, LO:], cache=cache,
                                             span=(LO, T), head=(0, W)), repeats)
        out["dual"] = _median(lambda: ours(ids[:, LO:LO + W], pos[:, LO:LO + W], cache=cache,
                                           span=(LO, LO + W)), repeats)
    return out

if __name__ == "__main__":
    main()
