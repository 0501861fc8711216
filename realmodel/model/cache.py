"""Key/value cache over the whole canvas ([FastdLLM] Wu et al., arXiv 2505.22618).

One object serves both of Fast-dLLM's caches. A *refresh* forward over the whole canvas
fills it. A later forward over the query span [a, b) attends to the cache with [a, b)
replaced by the fresh keys of that call:

- PrefixCache: span = [block start, end of canvas): frozen prefix keys, fresh rest.
- DualCache: span = [block start, block end): frozen prefix and suffix keys, fresh block.

Fresh keys are written into the cache in place when the span has the query's length (the
overwritten positions are recomputed at every later step, so the outputs are unchanged; it
saves a concatenation). A span shorter than the query (tree drafts: several copies of a
block) is spliced instead and leaves the cache untouched. :meth:`KVCache.replicate`
copies rows along the batch (for draft-and-verify).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor

__all__ = ["KVCache"]


@dataclass
class KVCache:
    """Per-layer keys and values, each (B, kv_heads, T, head_dim), or None before a refresh."""

    k: list[Tensor | None] = field(default_factory=list)
    v: list[Tensor | None] = field(default_factory=list)

    @classmethod
    def empty(cls, n_layers: int) -> KVCache:
        return cls(k=[None] * n_layers, v=[None] * n_layers)

    @property
    def filled(self) -> bool:
        return bool(self.k) and all(t is not None for t in self.k)

    @property
    def length(self) -> int:
        """Number of canvas positions cached (0 before the first refresh)."""
        first = self.k[0] if self.k else None
        return 0 if first is None else int(first.shape[2])

    @property
    def nbytes(self) -> int:
        return sum(t.numel() * t.element_size() for t in self.k + self.v if t is not None)

    def update(self, layer: int, k: Tensor, v: Tensor,
               span: tuple[int, int] | None) -> tuple[Tensor, Tensor]:
        """Keys and values a query of this layer attends to.

        ``span=None``: a refresh; (k, v) replace the layer's cache and are returned.
        ``span=(a, b)``: the cache with positions a..b-1 replaced by (k, v).
        """
        if span is None:
            self.k[layer], self.v[layer] = k, v
            return k, v
        K, V = self.k[layer], self.v[layer]
        if K is None or V is None:
            raise ValueError("the KV cache is empty: refresh it with a full forward first")
        a, b = span
        if not 0 <= a <= b <= K.shape[2]:
            raise ValueError(f"cache span ({a}, {b}) is outside the cached length {K.shape[2]}")
        if K.shape[0] != k.shape[0]:
            raise ValueError(f"cache holds {K.shape[0]} rows but the query has {k.shape[0]}")
        if b - a == k.shape[2]:
            K[:, :, a:b] = k
            V[:, :, a:b] = v
            return K, V
        return (torch.cat((K[:, :, :a], k, K[:, :, b:]), dim=2),
                torch.cat((V[:, :, :a], v, V[:, :, b:]), dim=2))

    def replicate(self, index: Tensor) -> KVCache:
        """A new cache whose row i is a copy of row ``index[i]`` of this one.

        ``index`` is a (B',) int64 tensor; e.g. ``arange(B).repeat_interleave(K)`` gives K
        copies of every row for K drafts.
        """
        def pick(t: Tensor | None) -> Tensor | None:
            return None if t is None else t.index_select(0, index.to(t.device))
        return KVCache(k=[pick(t) for t in self.k], v=[pick(t) for t in self.v])
