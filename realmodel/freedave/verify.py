"""One batched forward over FreeDave's drafts: replicated cache or tree attention.

Both functions take ``requests``: per row i of the decode state a tensor of drafts (n_i, T)
(whole canvases), and return the logits (sum n_i, C, V) of canvas ``columns`` [c0, c1)
of every draft, in request order (the rows of request r follow those of request r - 1).
Each is exactly one model call; ``state.calls`` and ``state.forward_seconds`` count it.

- :func:`verify_batch`: every draft is a row of its own; the state (KV cache included)
  is replicated along the batch with :meth:`DecodeState.replicate`, and the engine's own
  :meth:`Engine.forward` runs the call (same query span, cache and head as a static step).
- :func:`verify_tree`: per decode row one sequence holding the n drafts' copies of the
  query span [a, b) side by side (cache none: the whole canvas, prefix: [block start,
  end), dual: the block). Copy k attends to the cached keys outside the span (prefix and
  suffix) and to its own copy only; the RoPE positions of every copy are the original
  positions. So every copy computes what a forward of its draft alone computes.
  Drafts of one row are padded to the longest request with copies of its first draft.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import torch
from torch import Tensor

from realmodel.engine import DecodeState, Engine, synchronize

__all__ = ["verify_batch", "verify_tree"]


def verify_batch(engine: Engine, state: DecodeState, requests: Sequence[tuple[int, Tensor]],
                 columns: tuple[int, int]) -> Tensor:
    """Forward all drafts as rows of one batch over a replicated state."""
    sizes = [int(d.shape[0]) for _, d in requests]
    index = torch.tensor([i for (i, _), n in zip(requests, sizes, strict=True)
                          for _ in range(n)], dtype=torch.long)
    sub = state.replicate(index)
    sub.x = torch.cat([d for _, d in requests], dim=0)
    logits = engine.forward(sub, columns=columns, refresh=False)  # inside a block: the cache
    state.calls += 1
    state.forward_seconds = sub.forward_seconds
    return logits


def verify_tree(engine: Engine, state: DecodeState, requests: Sequence[tuple[int, Tensor]],
                columns: tuple[int, int]) -> Tensor:
    """Forward all drafts of each row as copies of the query span in one sequence."""
    cache_mode = engine.config.cache
    T = state.x.shape[1]
    lo, hi = state.window
    shift = engine.logit_shift  # a shifted model reads the column before the block too
    a, b = (0, T) if cache_mode == "none" else \
        (lo - shift, T) if cache_mode == "prefix" else (lo - shift, hi)
    S = b - a
    c0, c1 = columns
    if not a <= c0 < c1 <= b:
        raise ValueError(f"columns {columns} lie outside the query span ({a}, {b})")
    dev = state.x.device
    rows = torch.tensor([i for i, _ in requests], dtype=torch.long, device=dev)
    sizes = [int(d.shape[0]) for _, d in requests]
    n = max(sizes)
    padded = torch.stack([torch.cat([d, d[:1].expand(n - d.shape[0], -1)], dim=0)
                          for _, d in requests])  # (R, n, T)
    R = len(requests)
    ids = padded[:, :, a:b].reshape(R, n * S)
    positions = state.positions.index_select(0, rows)[:, a:b].repeat(1, n)
    copy = torch.arange(n, device=dev).repeat_interleave(S)
    key_ok = state.key_ok.index_select(0, rows)
    cache = None
    span: tuple[int, int] | None = None
    if cache_mode == "none":
        key_copy = copy
        key_ok = key_ok.repeat(1, n)
    else:
        if state.cache is None or not state.cache.filled:
            raise RuntimeError("tree verification inside a block needs a filled KV cache")
        outside = torch.full((a,), -1, device=dev), torch.full((T - b,), -1, device=dev)
        key_copy = torch.cat((outside[0], copy, outside[1]))
        key_ok = torch.cat((key_ok[:, :a], key_ok[:, a:b].repeat(1, n), key_ok[:, b:]), dim=1)
        cache = state.cache if R == state.x.shape[0] else state.cache.replicate(rows)
        span = (a, b)
    attend = (key_copy[None, :] == copy[:, None]) | (key_copy[None, :] < 0)
    synchronize(dev)
    tic = time.perf_counter()
    with torch.no_grad():
        logits = engine.denoiser.forward(ids, positions, key_ok=key_ok,
                                         attend=attend.expand(R, -1, -1), cache=cache,
                                         span=span, head=None)
    synchronize(dev)
    state.forward_seconds += time.perf_counter() - tic
    state.calls += 1
    logits = logits.reshape(R, n, S, -1)[:, :, c0 - a:c1 - a]
    return torch.cat([logits[r, :size] for r, size in enumerate(sizes)])
