"""FreeDave in the engine: identical output to static decoding, and the exact call count
that theory predicts from the static trace (fp32, random LLaDA-shaped model)."""

import functools

import numpy as np
import pytest
import torch

from realmodel.engine import DecodeConfig, Engine, decode
from realmodel.engine.prompts import Prompt
from realmodel.freedave import FreeDaveConfig, freedave_decode, predict_calls, static_trace
from realmodel.model.denoiser import LLaDADenoiser
from realmodel.model.tiny import random_llada, tiny_config
from realmodel.trace import TraceWriter, provenance, read_trace
from theory import commit, make_rule
from theory.freedave.core import FreeDave
from theory.freedave.trace import predicted_calls


@functools.cache
def denoiser():
    """Built on first use, not at import (so that -k filtering stays fast)."""
    return LLaDADenoiser(random_llada(tiny_config(), seed=21, logit_scale=4.0))

GEN = torch.Generator().manual_seed(5)
PROMPTS = [Prompt(ids=torch.randint(4, 96, (n,), generator=GEN).tolist(),
                  suffix=torch.randint(4, 96, (s,), generator=GEN).tolist(), name=f"p{n}")
           for n, s in ((6, 0), (11, 2), (3, 1))]
CACHES = ["none", "prefix", "dual"]


def _config(cache, **options):
    return DecodeConfig(**{"gen_length": 16, "block_length": 8, "cache": cache, **options})


def _static(cache, tmp_path=None):
    cfg = _config(cache)
    if tmp_path is None:
        return decode(denoiser(), PROMPTS, cfg), None
    path = tmp_path / f"static-{cache}.parquet"
    with TraceWriter(path, provenance(denoiser(), cfg, batch_size=1)) as writer:
        result = decode(denoiser(), PROMPTS, cfg, trace=writer)
    return result, read_trace(path)


def _freedave(cache, K, draft="nested", verify="batch", batch_size=1, trace=None):
    return freedave_decode(Engine(denoiser(), _config(cache)), FreeDaveConfig(K, draft, verify),
                           PROMPTS, batch_size=batch_size, trace=trace)


@functools.cache
def static_result(cache):
    return _static(cache)[0]


@pytest.mark.parametrize("cache", CACHES)
@pytest.mark.parametrize("verify", ["batch", "tree-attention"])
@pytest.mark.parametrize("K", [2, 4, 8])
def test_freedave_output_equals_static_decoding_alone_and_in_a_batch(cache, verify, K):
    static = [s.generated for s in static_result(cache).sequences]
    for draft in ("nested", "tree"):
        alone = _freedave(cache, K, draft, verify)
        batched = _freedave(cache, K, draft, verify, batch_size=3)
        assert [s.generated for s in alone.result.sequences] == static
        assert [s.generated for s in batched.result.sequences] == static
        # rows advance independently: a row's own calls do not depend on its batch
        assert [s.steps for s in alone.result.sequences] == \
            [s.steps for s in batched.result.sequences]
        assert alone.states == batched.states
        assert max(s.steps for s in batched.result.sequences) <= batched.result.calls \
            <= alone.result.calls <= static_result(cache).calls


@pytest.mark.parametrize("cache", CACHES)
def test_one_draft_per_call_is_static_decoding_call_for_call(cache):
    run = _freedave(cache, 1)
    assert run.result.calls == static_result(cache).calls
    assert run.states == [s.steps for s in static_result(cache).sequences]
    assert all(set(a) == {1} for a in run.accepted)


@pytest.mark.parametrize("cache", CACHES)
@pytest.mark.parametrize("K", [2, 4])
def test_calls_predicted_from_the_static_trace_equal_the_real_calls(cache, K, tmp_path):
    _, trace = _static(cache, tmp_path)
    predicted = predict_calls(trace, K)
    for batch_size in (1, 3):
        run = _freedave(cache, K, batch_size=batch_size)
        assert predicted["per_sequence"] == [s.steps for s in run.result.sequences]
        assert predicted["states"] == run.states
        hist = {}
        for rounds in run.accepted:
            for b in rounds:
                hist[b] = hist.get(b, 0) + 1
        assert predicted["acceptance_histogram"] == dict(sorted(hist.items()))
    assert predicted["total"] == _freedave(cache, K).result.calls
    assert predicted["static_calls"] == static_result(cache).calls


@pytest.mark.parametrize("cache", CACHES)
def test_a_freedave_run_records_the_static_trace(cache, tmp_path):
    _, static = _static(cache, tmp_path)
    path = tmp_path / "freedave.parquet"
    cfg = _config(cache)
    with TraceWriter(path, provenance(denoiser(), cfg, batch_size=3)) as writer:
        _freedave(cache, 4, "tree", batch_size=3, trace=writer)
    ours = read_trace(path)
    for seq in range(len(PROMPTS)):
        assert static_trace(ours, seq) == static_trace(static, seq)
    refresh = cache != "none"
    assert [predicted_calls(static_trace(ours, s), FreeDave(4, refresh=refresh)).calls
            for s in range(len(PROMPTS))] == [s.steps for s in _freedave(cache, 4).result
                                              .sequences]


RULES = [("quota", 2), ("threshold", 0.5), ("factor", 1.0), ("frechet", 0.0), ("tight", 0.0),
         ("entropy", 1.0)]


@pytest.mark.parametrize("cache", CACHES)
@pytest.mark.parametrize("name, value", RULES)
def test_freedave_over_a_rule_equals_that_rules_decoding(cache, name, value, tmp_path):
    cfg = _config(cache, rule=make_rule(name, value))
    path = tmp_path / "rule.parquet"
    with TraceWriter(path, provenance(denoiser(), cfg, batch_size=1)) as writer:
        plain = decode(denoiser(), PROMPTS, cfg, trace=writer)
    tokens = [s.generated for s in plain.sequences]
    for K, draft, verify, batch_size in ((2, "nested", "batch", 1),
                                         (4, "stride", "tree-attention", 3),
                                         (8, "tree", "batch", 3)):
        fast = freedave_decode(Engine(denoiser(), cfg), FreeDaveConfig(K, draft, verify),
                               PROMPTS, batch_size=batch_size)
        assert [s.generated for s in fast.result.sequences] == tokens
        assert all(f.steps <= p.steps for f, p in
                   zip(fast.result.sequences, plain.sequences, strict=True))
        assert [sum(a) for a in fast.accepted] == [len(s.commits) for s in plain.sequences]
    # the trace of a FreeDave run is the rule's own trace: same steps, same commits
    fd_path = tmp_path / "fd.parquet"
    with TraceWriter(fd_path, provenance(denoiser(), cfg, batch_size=3)) as writer:
        freedave_decode(Engine(denoiser(), cfg), FreeDaveConfig(4), PROMPTS, batch_size=3,
                        trace=writer)
    ours, theirs = read_trace(fd_path), read_trace(path)
    for seq in range(len(PROMPTS)):
        assert [st.committed.tolist() for st in ours.steps(seq)] == \
            [st.committed.tolist() for st in theirs.steps(seq)]
    # and the calls of FreeDave over the rule follow from the rule's trace alone
    for K, draft in ((2, "nested"), (4, "stride"), (4, "tree")):
        predicted = predict_calls(theirs, K, draft)
        run = freedave_decode(Engine(denoiser(), cfg), FreeDaveConfig(K, draft), PROMPTS)
        assert predicted["per_sequence"] == [s.steps for s in run.result.sequences]
        assert predicted["states"] == run.states


@pytest.mark.parametrize("cache", CACHES)
@pytest.mark.parametrize("steps", [4, 6, 16])
def test_freedave_over_llada_schedule_equals_its_decoding_and_trace(cache, steps, tmp_path):
    cfg = _config(cache, steps=steps)  # 2 blocks of 8: quotas (4,4), (3,3,2), (1,...)
    path = tmp_path / "schedule.parquet"
    with TraceWriter(path, provenance(denoiser(), cfg, batch_size=1)) as writer:
        plain = decode(denoiser(), PROMPTS, cfg, trace=writer)
    theirs = read_trace(path)
    for K, draft, batch_size in ((2, "nested", 1), (4, "stride", 3), (8, "nested", 3)):
        fd_path = tmp_path / f"fd{K}.parquet"
        with TraceWriter(fd_path, provenance(denoiser(), cfg, batch_size=batch_size)) as w:
            fast = freedave_decode(Engine(denoiser(), cfg), FreeDaveConfig(K, draft), PROMPTS,
                                   batch_size=batch_size, trace=w)
        assert [s.generated for s in fast.result.sequences] == \
            [s.generated for s in plain.sequences]
        ours = read_trace(fd_path)
        for seq in range(len(PROMPTS)):
            assert [(st.committed.tolist(), st.k) for st in ours.steps(seq)] == \
                [(st.committed.tolist(), st.k) for st in theirs.steps(seq)]
        predicted = predict_calls(theirs, K, draft)
        assert predicted["per_sequence"] == [s.steps for s in fast.result.sequences]


@pytest.mark.parametrize("cache", CACHES)
@pytest.mark.parametrize("name, value", [("quota", 1), *RULES])
def test_every_width_from_one_to_eight_reproduces_the_rule_with_predicted_calls(cache, name,
                                                                               value, tmp_path):
    cfg = _config(cache, rule=make_rule(name, value))
    path = tmp_path / "rule.parquet"
    with TraceWriter(path, provenance(denoiser(), cfg, batch_size=1)) as writer:
        plain = decode(denoiser(), PROMPTS, cfg, trace=writer)
    trace = read_trace(path)
    for K in range(1, 9):
        predicted = predict_calls(trace, K)["per_sequence"]
        for batch_size in (1, 3):
            run = freedave_decode(Engine(denoiser(), cfg), FreeDaveConfig(K), PROMPTS,
                                  batch_size=batch_size).result
            assert [s.generated for s in run.sequences] == [s.generated for s in plain.sequences]
            assert [s.steps for s in run.sequences] == predicted
    assert predict_calls(trace, 1)["per_sequence"] == [s.steps for s in plain.sequences]


def test_freedave_refuses_what_it_cannot_verify(tmp_path):
    with pytest.raises(ValueError, match="needs 0"):
        freedave_decode(Engine(denoiser(), _config("none", temperature=1.0)), FreeDaveConfig(2),
                        PROMPTS)
    for bad in (dict(K=0), dict(draft="wide"), dict(verify="magic")):
        with pytest.raises(ValueError):
            FreeDaveConfig(**bad)
    _, trace = _static("dual", tmp_path)
    with pytest.raises(ValueError, match="unknown draft"):
        predict_calls(trace, 2, draft="wide")


@pytest.mark.parametrize("cache", CACHES)
def test_tree_draft_calls_predicted_from_the_static_trace_equal_the_real_calls(cache, tmp_path):
    _, trace = _static(cache, tmp_path)
    predicted = predict_calls(trace, 4, draft="tree")
    run = _freedave(cache, 4, "tree")
    assert predicted["per_sequence"] == [s.steps for s in run.result.sequences]
    assert predicted["states"] == run.states


def _cli(argv):
    import argparse

    from paradec.commands import decode as decode_command

    parser = argparse.ArgumentParser()
    decode_command.add_parser(parser.add_subparsers())
    args = parser.parse_args(["decode", *argv])
    return args.run(args)


def test_decode_cli_freedave_json_counts_calls_and_states(tmp_path, capsys):
    import json

    common = ["--model", "tiny-random", "--rule", "quota", "--k", "1", "--cache", "prefix",
              "--block", "8", "--gen-length", "16", "--limit", "2", "--batch-size", "2",
              "--json", "--progress", "off"]
    assert _cli([*common, "--trace", str(tmp_path / "s.parquet")]) == 0
    static = json.loads(capsys.readouterr().out)
    assert _cli([*common, "--trace", str(tmp_path / "f.parquet"), "--freedave", "4",
                 "--verify", "tree-attention"]) == 0
    fd = json.loads(capsys.readouterr().out)
    assert [s["generated"] for s in fd["sequences"]] == \
        [s["generated"] for s in static["sequences"]]
    assert fd["freedave"]["states"] == fd["totals"]["states"] >= fd["totals"]["sequence_calls"]
    predicted = predict_calls(read_trace(tmp_path / "s.parquet"), 4)
    assert predicted["per_sequence"] == [s["calls"] for s in fd["sequences"]]
    assert fd["totals"]["calls"] <= static["totals"]["calls"]
    with pytest.raises(ValueError, match="need --freedave"):
        _cli([*common, "--trace", str(tmp_path / "x.parquet"), "--draft", "tree"])


@pytest.mark.parametrize("cache", CACHES)
@pytest.mark.parametrize("name, value", [("frechet", 0.0), ("threshold", 0.5), ("quota", 2)])
def test_subset_acceptance_commits_part_of_the_rules_set_at_every_logged_step(cache, name,
                                                                               value,
                                                                               tmp_path):
    """FreeDave++ on the engine: the trace records what each move committed; replaying the
    rule at every logged state gives a superset of it."""
    rule = make_rule(name, value)
    cfg = _config(cache, rule=rule)
    path = tmp_path / "subset.parquet"
    with TraceWriter(path, provenance(denoiser(), cfg, batch_size=3)) as writer:
        run = freedave_decode(Engine(denoiser(), cfg), FreeDaveConfig(4, accept="subset"),
                              PROMPTS, batch_size=3, trace=writer)
    assert all(3 not in s.generated for s in run.result.sequences)  # 3: the mask id
    trace = read_trace(path)
    for seq in range(len(PROMPTS)):
        for st in trace.steps(seq):
            want = set(st.positions[np.asarray(commit(rule, st.profile()).mask)[0]].tolist())
            assert set(st.committed.tolist()) <= want and len(st.committed) >= 1
