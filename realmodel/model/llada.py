"""paradec's own LLaDA-architecture mask predictor (Nie et al., arXiv 2502.09992).

A stack of bidirectional Llama-style blocks: pre-norm attention with RoPE (half-split
"rotate_half" convention, inverse frequencies theta^(-2i/d) in float32) and pre-norm SwiGLU
MLP, RMSNorm everywhere, an LM head (untied in LLaDA-8B; tying is supported). Parameter
names are LLaDA's own (``model.transformer.blocks.{i}.q_proj.weight`` ...), so a LLaDA
checkpoint folder loads with :func:`realmodel.model.checkpoint.load_llada` and no remote code.

The forward pass serves every cache mode of the decode engine through one mechanism: the
queries are a slice of the canvas; with a :class:`~realmodel.model.cache.KVCache` the keys are
the cache with the query span overwritten by fresh keys ([FastdLLM] Wu et al., arXiv
2505.22618: PrefixCache and DualCache). The checkpoint format (config fields, tensor
names and shapes, special token ids) is in docs/realmodel.md, "LLaDA checkpoint format".
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

import torch
import torch.nn.functional as F  # noqa: N812
from torch import Tensor, nn

from realmodel.model.cache import KVCache

__all__ = ["LLaDAConfig", "LLaDAModel", "RMSNorm", "rope_cos_sin"]

# Settings of LLaDA's config.json this module implements; anything else is refused by name.
_REQUIRED = {"block_type": "llama", "layer_norm_type": "rms", "activation_type": "silu",
             "alibi": False, "include_bias": False, "include_qkv_bias": False,
             "attention_layer_norm": False, "input_emb_norm": False, "scale_logits": False,
             "rope": True, "clip_qkv": None, "bias_for_layer_norm": False,
             "layer_norm_with_affine": True, "block_group_size": 1}


@dataclass(frozen=True)
class LLaDAConfig:
    """Shape of a LLaDA model; field names follow LLaDA's config.json.

    ``mlp_hidden_size`` is the SwiGLU hidden width (12288 for LLaDA-8B); ``embedding_size``
    may exceed ``vocab_size`` (padded embedding table), logits are cut to ``vocab_size``.
    ``qkv_bias``: biases on the query, key and value projections (Qwen2 / Dream; LLaDA has
    none, and its config.json cannot ask for them).
    """

    d_model: int = 4096
    n_layers: int = 32
    n_heads: int = 32
    n_kv_heads: int | None = None
    mlp_hidden_size: int = 12288
    vocab_size: int = 126464
    embedding_size: int | None = None
    max_sequence_length: int = 4096
    rope_theta: float = 500000.0
    rms_norm_eps: float = 1e-5
    weight_tying: bool = False
    rope_full_precision: bool = True
    mask_token_id: int = 126336
    eos_token_id: int = 126081
    pad_token_id: int = 126081
    qkv_bias: bool = False

    def __post_init__(self) -> None:
        for name in ("d_model", "n_layers", "n_heads", "mlp_hidden_size", "vocab_size",
                     "max_sequence_length", "n_kv_heads", "embedding_size"):
            value = getattr(self, name)
            if value is None and name in ("n_kv_heads", "embedding_size"):
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"LLaDAConfig.{name} must be a positive integer, got {value!r}")
        for name in ("mask_token_id", "eos_token_id", "pad_token_id"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"LLaDAConfig.{name} must be an integer token id, got {value!r}")
        for name in ("rope_theta", "rms_norm_eps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not 0 < value < float("inf"):
                raise ValueError(f"LLaDAConfig.{name} must be a finite positive number, "
                                 f"got {value!r}")
        for name in ("weight_tying", "rope_full_precision", "qkv_bias"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"LLaDAConfig.{name} must be true or false, "
                                 f"got {getattr(self, name)!r}")
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model={self.d_model} is not divisible by n_heads={self.n_heads}")
        if self.head_dim % 2:
            raise ValueError(f"head dimension {self.head_dim} must be even for RoPE")
        if self.kv_heads < 1 or self.n_heads % self.kv_heads:
            raise ValueError(f"n_heads={self.n_heads} is not a multiple of "
                             f"n_kv_heads={self.n_kv_heads}")
        if self.embedding_size is not None and self.embedding_size < self.vocab_size:
            raise ValueError(f"embedding_size={self.embedding_size} < vocab_size="
                             f"{self.vocab_size}")
        for name in ("mask_token_id", "eos_token_id", "pad_token_id"):
            value = getattr(self, name)
            if not 0 <= value < self.vocab_size:
                raise ValueError(f"{name}={value} is outside the vocabulary 0..{self.vocab_size-1}")

    @property
    def head_dim(self) -> int:
        return self.d_model // self.n_heads

    @property
    def kv_heads(self) -> int:
        return self.n_heads if self.n_kv_heads is None else self.n_kv_heads

    @property
    def table_size(self) -> int:
        return self.embedding_size or self.vocab_size

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> LLaDAConfig:
        """Read LLaDA's config.json; refuse settings this module does not implement."""
        for key, wanted in _REQUIRED.items():
            if key in raw and raw[key] != wanted and (bool(raw[key]) or bool(wanted)):
                raise ValueError(f"config.json has {key}={raw[key]!r}; paradec's LLaDA module "
                                 f"implements only {key}={wanted!r}")
        if raw.get("qkv_bias"):
            raise ValueError("config.json has qkv_bias=true: LLaDA has no q/k/v biases (a "
                             "Qwen2-style folder is a Dream checkpoint, model_type 'Dream')")
        if raw.get("multi_query_attention"):
            raise ValueError("config.json has multi_query_attention=true; set n_kv_heads instead")
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in raw.items() if k in known}
        if "mlp_hidden_size" not in values and "mlp_ratio" in raw:
            ratio, d = raw["mlp_ratio"], raw.get("d_model", cls.d_model)
            if not all(isinstance(x, (int, float)) and not isinstance(x, bool)
                       and 0 < x < float("inf") for x in (ratio, d)):
                raise ValueError(f"config.json has mlp_ratio={ratio!r}, d_model={d!r}: both "
                                 "must be positive numbers")
            values["mlp_hidden_size"] = int(ratio * d)
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """LLaDA's config.json for this shape (model_type llada, LLaDAModelLM)."""
        out: dict[str, Any] = {"architectures": ["LLaDAModelLM"], "model_type": "llada"}
        out.update(asdict(self))
        if not self.qkv_bias:  # LLaDA's own format has no such field
            del out["qkv_bias"]
        out["n_kv_heads"] = self.kv_heads
        out["embedding_size"] = self.table_size
        out.update(_REQUIRED)
        out["use_cache"] = False
        return out


class RMSNorm(nn.Module):
    """w * (x * rsqrt(mean(x^2) + eps)), the normalisation in float32, cast back before w."""

    def __init__(self, d: int, eps: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x: Tensor) -> Tensor:
        x32 = x.float()
        x32 = x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * x32.to(x.dtype)


def rope_cos_sin(positions: Tensor, head_dim: int, theta: float) -> tuple[Tensor, Tensor]:
    """cos and sin of RoPE angles, float32, shape ``(B, T, head_dim)`` for positions (B, T).

    inv_freq_i = theta^(-2i/head_dim) in float32; angles duplicated over the two halves.
    """
    exponent = torch.arange(0, head_dim, 2, device=positions.device, dtype=torch.float32)
    inv_freq = 1.0 / (theta ** (exponent / head_dim))
    angles = positions.float()[..., None] * inv_freq
    angles = torch.cat((angles, angles), dim=-1)
    return angles.cos(), angles.sin()


def _rotate(x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
    """Apply RoPE to x of shape (B, H, T, D) in the dtype of cos and sin (B, 1, T, D):
    float32 under ``rope_full_precision``, else the model's (see LLaDAModel.forward).

    x cos + rotate_half(x) sin with rotate_half(x) = (-x2, x1): ``sin`` comes with the
    sign of its first half already flipped (:func:`signed_sin`), so the rotation is a swap
    of the halves, two products and an in-place sum, with no negation pass over x; the
    same bits as x cos + (-x2, x1) sin (a fused multiply-add would round differently on
    AVX2 and AVX-512 kernels, and retraining would no longer give the shipped weights)."""
    dtype = x.dtype
    x = x.to(cos.dtype)
    half = x.shape[-1] // 2
    swapped = torch.cat((x[..., half:], x[..., :half]), dim=-1)
    return (x * cos).add_(swapped * sin).to(dtype)


def signed_sin(sin: Tensor) -> Tensor:
    """(-s1, s2) for sin = (s1, s2) halves on the last axis: what :func:`_rotate` takes."""
    half = sin.shape[-1] // 2
    return torch.cat((-sin[..., :half], sin[..., half:]), dim=-1)


class LLaDABlock(nn.Module):
    """One bidirectional Llama block with LLaDA's parameter names (Qwen2's q/k/v biases
    when the config asks for them)."""

    def __init__(self, config: LLaDAConfig) -> None:
        super().__init__()
        d, kv = config.d_model, config.kv_heads * config.head_dim
        self.config = config
        self.attn_norm = RMSNorm(d, config.rms_norm_eps)
        self.q_proj = nn.Linear(d, d, bias=config.qkv_bias)
        self.k_proj = nn.Linear(d, kv, bias=config.qkv_bias)
        self.v_proj = nn.Linear(d, kv, bias=config.qkv_bias)
        self.attn_out = nn.Linear(d, d, bias=False)
        self.ff_norm = RMSNorm(d, config.rms_norm_eps)
        self.ff_proj = nn.Linear(d, config.mlp_hidden_size, bias=False)
        self.up_proj = nn.Linear(d, config.mlp_hidden_size, bias=False)
        self.ff_out = nn.Linear(config.mlp_hidden_size, d, bias=False)

    def forward(self, h: Tensor, cos: Tensor, sin: Tensor, allowed: Tensor | None,
                cache: KVCache | None, layer: int, span: tuple[int, int] | None) -> Tensor:
        cfg = self.config
        B, T, _ = h.shape
        x = self.attn_norm(h)
        q = self.q_proj(x).view(B, T, cfg.n_heads, cfg.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(B, T, cfg.kv_heads, cfg.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(B, T, cfg.kv_heads, cfg.head_dim).transpose(1, 2)
        q = _rotate(q, cos, sin)
        k = _rotate(k, cos, sin)
        if cache is not None:
            k, v = cache.update(layer, k, v, span)
        if cfg.kv_heads != cfg.n_heads:
            repeat = cfg.n_heads // cfg.kv_heads
            k, v = k.repeat_interleave(repeat, dim=1), v.repeat_interleave(repeat, dim=1)
        mask = None if allowed is None else allowed[:, None]
        o = F.scaled_dot_product_attention(q, k, v, attn_mask=mask,
                                           scale=1.0 / math.sqrt(cfg.head_dim))
        h = h + self.attn_out(o.transpose(1, 2).reshape(B, T, cfg.d_model))
        x = self.ff_norm(h)
        return h + self.ff_out(F.silu(self.ff_proj(x)) * self.up_proj(x))


class _Body(nn.Module):
    def __init__(self, config: LLaDAConfig) -> None:
        super().__init__()
        self.wte = nn.Embedding(config.table_size, config.d_model)
        self.blocks = nn.ModuleList(LLaDABlock(config) for _ in range(config.n_layers))
        self.ln_f = RMSNorm(config.d_model, config.rms_norm_eps)
        self.ff_out: nn.Linear | None = None
        if not config.weight_tying:
            self.ff_out = nn.Linear(config.d_model, config.table_size, bias=False)


class _Transformer(nn.Module):
    def __init__(self, config: LLaDAConfig) -> None:
        super().__init__()
        self.transformer = _Body(config)


class LLaDAModel(nn.Module):
    """LLaDA mask predictor: ids (B, Tq) -> logits (B, Tq', vocab_size).

    State-dict keys are LLaDA's (``model.transformer.*``). See :meth:`forward` for the
    cache and attention arguments the decode engine uses.
    """

    def __init__(self, config: LLaDAConfig) -> None:
        super().__init__()
        self.config = config
        self.model = _Transformer(config)

    @property
    def n_layers(self) -> int:
        return self.config.n_layers

    def forward(self, ids: Tensor, positions: Tensor | None = None, *,
                allowed: Tensor | None = None, cache: KVCache | None = None,
                span: tuple[int, int] | None = None,
                head: tuple[int, int] | None = None) -> Tensor:
        """Logits of a slice of the canvas.

        Args:
            ids: (B, Tq) int64 token ids of the query positions.
            positions: (B, Tq) int64 RoPE positions (default 0..Tq-1).
            allowed: (B, Tq, Tk) bool, True where a query may attend to a key (None: all).
            cache: keys and values of the whole canvas. With ``span=None`` the fresh keys
                of this call replace the cache (a refresh, Tk = Tq); with ``span=(a, b)``
                the keys are the cache with positions a..b-1 replaced by this call's
                (b - a == Tq: written in place; otherwise spliced, for tree drafts).
            head: (i, j): logits only for query positions i..j-1 (saves the LM head).

        Returns:
            (B, j - i, vocab_size) logits in the model's dtype.
        """
        tr = self.model.transformer
        if positions is None:
            positions = torch.arange(ids.shape[1], device=ids.device).expand(ids.shape[0], -1)
        h = tr.wte(ids)
        cos, sin = rope_cos_sin(positions, self.config.head_dim, self.config.rope_theta)
        rope = torch.float32 if self.config.rope_full_precision else h.dtype
        cos, sin = cos[:, None].to(rope), signed_sin(sin[:, None]).to(rope)  # once
        for layer, block in enumerate(tr.blocks):
            h = block(h, cos, sin, allowed, cache, layer, span)
        if head is not None:
            h = h[:, head[0]:head[1]]
        h = tr.ln_f(h)
        weight = tr.wte.weight if tr.ff_out is None else tr.ff_out.weight
        logits = F.linear(h, weight)
        return logits[..., :self.config.vocab_size]
