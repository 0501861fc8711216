"""The engine reproduces LLaDA's reference sampler and Fast-dLLM's cached loops exactly."""

import pytest
import torch

from realmodel.denoiser import LLaDADenoiser
from realmodel.engine import DecodeConfig, decode
from realmodel.prompts import Prompt
from realmodel.tiny import random_llada, tiny_config
from tests.realmodel.oracles import fastdllm_generate, llada_generate, naive_forward
from theory import Factor, Quota, Threshold

MODEL = random_llada(tiny_config(n_kv_heads=2), seed=11, logit_scale=4.0)
MASK = MODEL.config.mask_token_id
PROMPT = [5, 17, 33, 8, 61, 12, 40]


def _engine(rule, cache="none", steps=None, gen_length=24, block_length=8):
    cfg = DecodeConfig(rule=rule, gen_length=gen_length, block_length=block_length,
                       steps=steps, cache=cache)
    result = decode(LLaDADenoiser(MODEL), [Prompt(ids=PROMPT)], cfg)
    return result.sequences[0].generated, result.calls


def test_naive_oracle_forward_equals_the_model():
    ids = torch.tensor([PROMPT + [MASK] * 5])
    with torch.no_grad():
        torch.testing.assert_close(naive_forward(MODEL, ids)[0], MODEL(ids), rtol=1e-5,
                                   atol=1e-5)


@pytest.mark.parametrize("steps", [24, 12, 6])
def test_cache_none_reproduces_llada_reference_sampler(steps):
    expected, calls = llada_generate(MODEL, PROMPT, steps, 24, 8, MASK)
    got, got_calls = _engine(Quota(1), steps=steps)
    assert got == expected
    assert got_calls == calls == steps


def test_llada_reference_with_one_block_matches_static_decoding():
    expected, _ = llada_generate(MODEL, PROMPT, 16, 16, 16, MASK)
    assert _engine(Quota(1), gen_length=16, block_length=16)[0] == expected


@pytest.mark.parametrize("cache", ["none", "prefix", "dual"])
@pytest.mark.parametrize("rule", ["static", "threshold"])
def test_cache_modes_reproduce_fastdllm_loops(cache, rule):
    threshold = 0.6 if rule == "threshold" else None
    expected, calls = fastdllm_generate(MODEL, PROMPT, 24, 8, MASK, cache, threshold=threshold)
    got, got_calls = _engine(Threshold(0.6) if threshold else Quota(1), cache=cache)
    assert got == expected
    assert got_calls == calls


@pytest.mark.parametrize("cache", ["none", "dual"])
def test_theory_factor_quirk_reproduces_fastdllm(cache):
    expected, calls = fastdllm_generate(MODEL, PROMPT, 24, 8, MASK, cache, factor=1.0)
    assert _engine(Factor(1.0, fastdllm_quirks=True), cache=cache) == (expected, calls)


def test_caches_change_the_function_being_decoded():
    """Prefix and dual caches are approximations: their logits differ from cache none."""
    ids = torch.tensor([PROMPT + [MASK] * 16])
    lo, hi = len(PROMPT), len(PROMPT) + 8
    full, kv = naive_forward(MODEL, ids)
    ids2 = ids.clone()
    ids2[0, lo] = 7
    exact, _ = naive_forward(MODEL, ids2)
    dual, _ = naive_forward(MODEL, ids2[:, lo:hi], lo, kv, (lo, hi))
    assert not torch.allclose(exact[:, lo:hi], dual, atol=1e-6)
