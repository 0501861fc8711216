"""The engine reproduces LLaDA's reference sampler and Fast-dLLM's cached loops exactly."""

import pytest
import torch

from realmodel.engine import DecodeConfig, decode
from realmodel.engine.prompts import Prompt
from realmodel.model.denoiser import LLaDADenoiser
from realmodel.model.tiny import TINY_SPECIALS, random_llada, tiny_config
from tests.realmodel.oracles import fastdllm_generate, llada_generate, naive_forward
from tests.tolerance import assert_close, float_tolerance, llada_path
from theory import Factor, Quota, Threshold

MASK = TINY_SPECIALS["mask_token_id"]


@pytest.fixture(scope="module")
def model():
    return random_llada(tiny_config(n_kv_heads=2), seed=11, logit_scale=4.0)
PROMPT = [5, 17, 33, 8, 61, 12, 40]


def _engine(model, rule, cache="none", steps=None, gen_length=24, block_length=8):
    cfg = DecodeConfig(rule=rule, gen_length=gen_length, block_length=block_length,
                       steps=steps, cache=cache)
    result = decode(LLaDADenoiser(model), [Prompt(ids=PROMPT)], cfg)
    return result.sequences[0].generated, result.calls


def test_naive_oracle_forward_equals_the_model(model):
    ids = torch.tensor([PROMPT + [MASK] * 5])
    with torch.no_grad():
        assert_close(naive_forward(model, ids)[0], model(ids),
                     llada_path(model.config, ids.shape[1]))


@pytest.mark.parametrize("steps", [24, 12, 6])
def test_cache_none_reproduces_llada_reference_sampler(steps, model):
    expected, calls = llada_generate(model, PROMPT, steps, 24, 8, MASK)
    got, got_calls = _engine(model, Quota(1), steps=steps)
    assert got == expected
    assert got_calls == calls == steps


def test_llada_reference_with_one_block_matches_static_decoding(model):
    expected, _ = llada_generate(model, PROMPT, 16, 16, 16, MASK)
    assert _engine(model, Quota(1), gen_length=16, block_length=16)[0] == expected


@pytest.mark.parametrize("cache", ["none", "prefix", "dual"])
@pytest.mark.parametrize("rule", ["static", "threshold"])
def test_cache_modes_reproduce_fastdllm_loops(cache, rule, model):
    threshold = 0.6 if rule == "threshold" else None
    expected, calls = fastdllm_generate(model, PROMPT, 24, 8, MASK, cache, threshold=threshold)
    got, got_calls = _engine(model, Threshold(0.6) if threshold else Quota(1), cache=cache)
    assert got == expected
    assert got_calls == calls


@pytest.mark.parametrize("cache", ["none", "dual"])
def test_theory_factor_quirk_reproduces_fastdllm(cache, model):
    expected, calls = fastdllm_generate(model, PROMPT, 24, 8, MASK, cache, factor=1.0)
    assert _engine(model, Factor(1.0, fastdllm_quirks=True), cache=cache) == (expected, calls)


def test_caches_change_the_function_being_decoded(model):
    """Prefix and dual caches are approximations: their logits differ from cache none by
    more than any rounding of one computation could (the error-model bound)."""
    ids = torch.tensor([PROMPT + [MASK] * 16])
    lo, hi = len(PROMPT), len(PROMPT) + 8
    ids2 = ids.clone()
    ids2[0, lo] = 7
    with torch.no_grad():
        full, kv = naive_forward(model, ids)
        exact, _ = naive_forward(model, ids2)
        dual, _ = naive_forward(model, ids2[:, lo:hi], lo, kv, (lo, hi))
    gap = float((exact[:, lo:hi] - dual).abs().max())
    assert gap > float_tolerance(torch.float32, llada_path(model.config, ids.shape[1]),
                                       float(exact.abs().max()))
