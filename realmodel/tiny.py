"""Seeded random LLaDA-shaped models built in memory (tests, smoke runs, benchmarks).

Weights are drawn from N(0, std^2) with an explicit ``torch.Generator``; norms are 1. The
LM head is scaled by ``logit_scale`` so that confidences spread over (0, 1) the way a
trained model's do (an untrained head gives near-uniform marginals, where every adaptive
rule degenerates to one token per step). The numbers such a model produces are about
speed and mechanics, never about quality.
"""

from __future__ import annotations

import math

import torch

from realmodel.llada import LLaDAConfig, LLaDAModel

__all__ = ["tiny_config", "bench_config", "random_llada", "TINY_SPECIALS"]

# Special ids of the tiny vocabularies (not LLaDA's: these models have small vocabularies).
_MASK, _EOS, _PAD = 3, 2, 0
TINY_SPECIALS = {"mask_token_id": _MASK, "eos_token_id": _EOS, "pad_token_id": _PAD}


def tiny_config(*, d_model: int = 48, n_layers: int = 2, n_heads: int = 4,
                n_kv_heads: int | None = None, vocab_size: int = 96,
                mlp_hidden_size: int | None = None, rope_theta: float = 10000.0) -> LLaDAConfig:
    """A small LLaDA shape for tests (defaults: d 48, 2 layers, 4 heads, vocab 96)."""
    return LLaDAConfig(d_model=d_model, n_layers=n_layers, n_heads=n_heads,
                       n_kv_heads=n_kv_heads, vocab_size=vocab_size,
                       mlp_hidden_size=mlp_hidden_size or 3 * d_model,
                       max_sequence_length=2048, rope_theta=rope_theta,
                       mask_token_id=_MASK, eos_token_id=_EOS, pad_token_id=_PAD)


def bench_config() -> LLaDAConfig:
    """About 30M parameters: d 512, 8 layers, 8 heads, SwiGLU 1536, vocab 8192."""
    return LLaDAConfig(d_model=512, n_layers=8, n_heads=8, vocab_size=8192,
                       mlp_hidden_size=1536, max_sequence_length=4096, rope_theta=10000.0,
                       mask_token_id=_MASK, eos_token_id=_EOS, pad_token_id=_PAD)


def random_llada(config: LLaDAConfig, *, seed: int = 0, std: float = 0.02,
                 logit_scale: float = 1.0, dtype: torch.dtype = torch.float32) -> LLaDAModel:
    """A :class:`LLaDAModel` with seeded N(0, std^2) weights, in eval mode.

    ``logit_scale`` multiplies the LM head; with the head's std = logit_scale * std the
    logits of a unit-RMS hidden state have standard deviation about
    logit_scale * std * sqrt(d_model).
    """
    if std <= 0 or logit_scale <= 0:
        raise ValueError(f"std and logit_scale must be positive, got {std}, {logit_scale}")
    gen = torch.Generator().manual_seed(seed)
    model = LLaDAModel(config)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.endswith("norm.weight") or name.endswith("ln_f.weight"):
                param.fill_(1.0)
                continue
            scale = std
            if name.endswith("transformer.ff_out.weight"):
                scale = std * logit_scale
            elif name.endswith("attn_out.weight") or name.endswith(".ff_out.weight"):
                scale = std / math.sqrt(2 * config.n_layers)
            param.copy_(torch.randn(param.shape, generator=gen) * scale)
    return model.to(dtype).eval()
