"""Seeded random LLaDA-shaped models built in memory (tests, smoke runs, benchmarks).

Weights are drawn with an explicit ``torch.Generator``; norms are 1. The LM head is
scaled by ``logit_scale`` so that confidences spread over (0, 1) the way a trained model's
do (a small head gives near-uniform marginals, where every adaptive rule degenerates to
one token per step). The numbers such a model produces are about
speed and mechanics, never about quality.
"""

from __future__ import annotations

import math

import torch

from realmodel.model.llada import LLaDAConfig, LLaDAModel

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


def random_llada(config: LLaDAConfig, *, seed: int = 0, logit_scale: float = 3.0,
                 qk_gain: float = 8.0, mask_scale: float = 0.3,
                 dtype: torch.dtype = torch.float32,
                 device: str | torch.device = "cpu") -> LLaDAModel:
    """A :class:`LLaDAModel` with seeded variance-preserving random weights, in eval mode.

    Embeddings are N(0, 1); every projection is N(0, 1/fan_in), the ones writing into the
    residual stream further divided by sqrt(2 n_layers); the LM head is
    N(0, logit_scale^2 / d_model), so the logits of a unit-RMS hidden state have standard
    deviation about ``logit_scale``. Masked positions all carry the same input, so a
    random model tends to predict one token everywhere; ``qk_gain`` sharpens attention
    (queries times qk_gain) and ``mask_scale`` shrinks the mask embedding, so that what a
    masked position predicts depends on where it attends (through RoPE), as in a trained
    denoiser. Like a trained denoiser it does not predict the mask token (its head row is
    zero, so its logit is 0 while the largest of the others is about 2.5 logit_scale).

    ``device``: where the weights are drawn and stay (an 8B shape is drawn on the GPU,
    with that device's generator: the same seed gives other weights than on the CPU).
    """
    if not logit_scale > 0:
        raise ValueError(f"logit_scale must be positive, got {logit_scale}")
    gen = torch.Generator(device=device).manual_seed(seed)
    with torch.device(device):
        model = LLaDAModel(config)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.endswith("norm.weight") or name.endswith("ln_f.weight"):
                param.fill_(1.0)
                continue
            if param.ndim == 1:  # q/k/v biases (Qwen2-style models): small, not zero
                param.copy_(torch.randn(param.shape, generator=gen, device=device) * 0.1)
                continue
            if name.endswith("wte.weight"):
                scale = 1.0
            elif name.endswith("q_proj.weight"):
                scale = qk_gain / math.sqrt(param.shape[1])
            elif name.endswith("transformer.ff_out.weight"):
                scale = logit_scale / math.sqrt(config.d_model)
            else:
                scale = 1.0 / math.sqrt(param.shape[1])
                if name.endswith("attn_out.weight") or name.endswith(".ff_out.weight"):
                    scale /= math.sqrt(2 * config.n_layers)
            param.copy_(torch.randn(param.shape, generator=gen, device=device) * scale)
        model.model.transformer.wte.weight[config.mask_token_id] *= mask_scale
        head = model.model.transformer.ff_out
        if head is not None:  # the mask token's logit is 0, below the top of the others
            head.weight[config.mask_token_id] = 0.0
    return model.to(dtype).eval()
