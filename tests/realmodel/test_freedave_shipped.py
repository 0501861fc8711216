"""FreeDave on the shipped trained model: token-for-token static decoding, fewer calls, and
calls predicted exactly from the static trace."""

import functools

import pytest

from realmodel.engine import DecodeConfig, Engine, decode
from realmodel.freedave import FreeDaveConfig, freedave_decode, predict_calls
from realmodel.shipped import heldout_problems, load_shipped, problem_prompts
from realmodel.trace import TraceWriter, provenance, read_trace
from theory import Quota, make_rule


@functools.cache
def denoiser():
    """Loaded on first use, not at import (so that -k filtering stays fast)."""
    return load_shipped("tiny-arith")


@functools.cache
def prompts():
    return problem_prompts(heldout_problems()[:6], denoiser())



def _config(cache):
    return DecodeConfig(rule=Quota(1), gen_length=32, block_length=8, cache=cache)


@pytest.mark.parametrize("cache", ["none", "dual"])
def test_freedave_reproduces_static_decoding_of_the_trained_model_with_fewer_calls(cache,
                                                                                      tmp_path):
    path = tmp_path / "static.parquet"
    with TraceWriter(path, provenance(denoiser(), _config(cache), batch_size=3)) as writer:
        static = decode(denoiser(), prompts(), _config(cache), batch_size=3, trace=writer)
    predicted = predict_calls(read_trace(path), 4)
    for verify in ("batch", "tree-attention"):
        run = freedave_decode(Engine(denoiser(), _config(cache)),
                              FreeDaveConfig(4, "nested", verify), prompts())
        assert [s.generated for s in run.result.sequences] == \
            [s.generated for s in static.sequences]
        assert [s.steps for s in run.result.sequences] == predicted["per_sequence"]
    assert predicted["total"] * 2 <= sum(s.steps for s in static.sequences)


@pytest.mark.parametrize("cache", ["none", "dual"])
@pytest.mark.parametrize("name, value", [("threshold", 0.9), ("frechet", 0.1), ("tight", 0.1),
                                         ("quota", 2), ("factor", 0.9), ("entropy", 0.5)])
def test_freedave_over_each_rule_reproduces_it_on_the_trained_model(cache, name, value,
                                                                    tmp_path):
    config = DecodeConfig(rule=make_rule(name, value), gen_length=32, block_length=8,
                          cache=cache)
    path = tmp_path / "rule.parquet"
    with TraceWriter(path, provenance(denoiser(), config, batch_size=3)) as writer:
        alone = decode(denoiser(), prompts(), config, batch_size=3, trace=writer)
    trace = read_trace(path)
    for K, batch_size in ((2, 1), (4, 3), (8, 3)):
        run = freedave_decode(Engine(denoiser(), config), FreeDaveConfig(K), prompts(),
                              batch_size=batch_size).result
        assert [s.generated for s in run.sequences] == [s.generated for s in alone.sequences]
        assert [s.steps for s in run.sequences] == predict_calls(trace, K)["per_sequence"]
