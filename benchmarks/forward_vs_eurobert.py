"""paradec's LLaDA forward against transformers' EuroBertForMaskedLM on the same weights.

The 36M-parameter benchmark shape (realmodel.model.tiny.bench_config) with seeded random
weights; EuroBERT gets them through realmodel.model.checkpoint.eurobert_state_dict (the
independent implementation the tests compare logits against). Per dtype and batch size:
the median time of a full forward over prompt 64 + gen 256 tokens (both models, logits of
the 32-token window for paradec, every position's for EuroBERT, so paradec's LM head does
less work; ``head=None`` compares equal work), the same forward with RoPE in the model
dtype (EuroBERT's numerics; LLaDA's reference rotates in float32), the full forward that
also fills a KV cache (the engine's refresh call), and paradec's cached forwards (prefix:
the block to the end; dual: the block) that EuroBERT has no counterpart for. Every
forward of a row is timed in turns with the others (a drift of the machine hits all
alike); ratios are paradec / EuroBERT per turn, their median and interquartile range
in one run (< 1: paradec faster). Times are medians.

``--keep-freed-memory`` fixes glibc's allocator thresholds first (``mallopt``: freed
memory stays in the process, buffers up to 32 MiB come from the heap), so the per-call
buffers of a forward stop costing fresh pages on every call; both models run with it
(docs/LOG.md, 2026-12-02: the float32 batch-8 gap of the default allocator).

Run alone:  PYTHONPATH=. python benchmarks/forward_vs_eurobert.py [--threads 2]
                                                                  [--keep-freed-memory]
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import statistics
import time
from dataclasses import replace
from typing import Any

import torch

from realmodel.machine import describe_cpu
from realmodel.model.cache import KVCache
from realmodel.model.checkpoint import eurobert_config, eurobert_state_dict
from realmodel.model.llada import LLaDAModel
from realmodel.model.tiny import bench_config, random_llada

T, LO, W = 320, 64, 32  # canvas (prompt 64 + gen 256), block start, block length


def _interleaved(fns: dict[str, Any], repeats: int) -> dict[str, list[float]]:
    """Seconds of each function per turn, timed in turns so that a drift of the machine's
    speed during the run hits all of them alike. Turn i starts at the i-th function
    (a, b, c; b, c, a; c, a, b; ...): what a call leaves behind (the allocator's free
    memory, the caches) then precedes each function equally often."""
    for fn in fns.values():
        fn()  # warm-up
    names = list(fns)
    times: dict[str, list[float]] = {name: [] for name in fns}
    for turn in range(repeats):
        for name in names[turn % len(names):] + names[:turn % len(names)]:
            tic = time.perf_counter()
            fns[name]()
            times[name].append(time.perf_counter() - tic)
    return times


def keep_freed_memory() -> str:
    """Fix glibc malloc's trim threshold (2 GiB: freed memory is kept for the next
    call) and mmap threshold (32 MiB, its maximum: larger blocks only are mapped afresh);
    fixing them also stops glibc's own adjustment of both. Returns what was done."""
    name = ctypes.util.find_library("c")
    libc = ctypes.CDLL(name) if name else None
    if libc is None or not hasattr(libc, "mallopt"):
        raise SystemExit("--keep-freed-memory needs glibc's mallopt (not found)")
    m_trim_threshold, m_mmap_threshold = -1, -3  # glibc's malloc.h
    if not (libc.mallopt(m_trim_threshold, ctypes.c_int(2**31 - 1))
            and libc.mallopt(m_mmap_threshold, ctypes.c_int(32 * 2**20))):
        raise SystemExit("mallopt refused the thresholds")
    return "malloc trim threshold 2 GiB, mmap threshold 32 MiB"


def _ratio(a: list[float], b: list[float]) -> str:
    """Median of the per-turn ratios a_i / b_i and their interquartile range."""
    q1, q2, q3 = statistics.quantiles([x / y for x, y in zip(a, b, strict=True)], n=4)
    return f"{q2:.2f} [{q1:.2f}, {q3:.2f}]"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=21)
    ap.add_argument("--batches", default="1,8")
    ap.add_argument("--keep-freed-memory", action="store_true",
                    help="fix glibc malloc's trim and mmap thresholds first (module doc)")
    args = ap.parse_args()
    allocator = keep_freed_memory() if args.keep_freed_memory else "glibc malloc defaults"
    torch.set_num_threads(args.threads)
    from transformers import EuroBertForMaskedLM

    config = bench_config()
    print(f"# forward_vs_eurobert: bench_config, T={T}, block {W}, {args.threads} threads; "
          f"CPU: {describe_cpu()}; torch {torch.__version__}; {allocator}")
    print("| dtype | batch | paradec full (same work) ms | EuroBERT full ms | ratio | "
          "ratio, RoPE in the model dtype | ratio, full + cache fill | "
          "paradec window head ms | prefix ms | dual ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for dtype in (torch.float32, torch.bfloat16):
        ours = random_llada(config, seed=0, logit_scale=10.0, dtype=dtype)
        # the same weights with RoPE in the model dtype, as EuroBERT rotates (LLaDA rotates
        # in float32: rope_full_precision); identical to ``ours`` in float32
        plain = LLaDAModel(replace(config, rope_full_precision=False)).to(dtype).eval()
        plain.load_state_dict(ours.state_dict())
        ref = EuroBertForMaskedLM(eurobert_config(config))
        ref.config._attn_implementation = "sdpa"
        ref.load_state_dict(eurobert_state_dict(ours.state_dict()), strict=True)
        ref = ref.to(dtype).eval()
        for B in (int(b) for b in args.batches.split(",")):
            t = _row(ours, plain, ref, B, args.repeats)
            ms = {k: statistics.median(v) * 1e3 for k, v in t.items()}
            name = str(dtype).replace("torch.", "")
            e = t["eurobert"]
            print(f"| {name} | {B} | {ms['full']:.1f} | {ms['eurobert']:.1f} | "
                  f"{_ratio(t['full'], e)} | {_ratio(t['plain'], e)} | {_ratio(t['fill'], e)} "
                  f"| {ms['window']:.1f} | {ms['prefix']:.1f} | {ms['dual']:.1f} |",
                  flush=True)


def _row(ours: Any, plain: Any, ref: Any, B: int, repeats: int) -> dict[str, list[float]]:
    """Seconds of each forward at batch ``B`` per turn (module docstring)."""
    config = ours.config
    ids = torch.randint(4, config.vocab_size, (B, T), generator=torch.Generator().manual_seed(B))
    pos = torch.arange(T).expand(B, T)
    cache = KVCache.empty(config.n_layers)
    with torch.no_grad():
        ours(ids, pos, cache=cache, head=(LO, LO + W))  # fills the cache
        return _interleaved({
            "full": lambda: ours(ids, pos, head=None),
            "eurobert": lambda: ref(input_ids=ids).logits,
            "plain": lambda: plain(ids, pos, head=None),
            "fill": lambda: ours(ids, pos, cache=KVCache.empty(config.n_layers), head=None),
            "window": lambda: ours(ids, pos, head=(LO, LO + W)),
            "prefix": lambda: ours(ids[:, LO:], pos[:, LO:], cache=cache, span=(LO, T),
                                   head=(0, W)),
            "dual": lambda: ours(ids[:, LO:LO + W], pos[:, LO:LO + W], cache=cache,
                                 span=(LO, LO + W))}, repeats)


if __name__ == "__main__":
    main()
