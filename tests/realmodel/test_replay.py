"""Replay: the logged rule reproduces every logged decision; other rules are labelled
counterfactual after their first difference; margins and summaries."""

import functools

import numpy as np
import pytest

from realmodel.engine import DecodeConfig, decode
from realmodel.engine.prompts import Prompt
from realmodel.model.denoiser import LLaDADenoiser
from realmodel.model.tiny import random_llada, tiny_config
from realmodel.replay import LOGGED, default_rules, replay, replay_all
from realmodel.replay.calibration import (
    compute_margin_calibration,
    compute_prefix_calibration,
    compute_reliability,
    prefix_observations,
)
from realmodel.trace import TraceWriter, provenance, read_trace
from theory import Quota, Threshold, commit, make_rule, margins


@functools.cache
def denoiser():
    """Built on first use, not at import (so that -k filtering stays fast)."""
    return LLaDADenoiser(random_llada(tiny_config(), seed=5, logit_scale=4.0))

PROMPTS = [Prompt(ids=[7 + i, 30, 11 + 2 * i][: 2 + i % 2], name=f"p{i}") for i in range(3)]


def write_trace(path, config, batch_size=2):
    with TraceWriter(path, provenance(denoiser(), config, batch_size=batch_size)) as writer:
        result = decode(denoiser(), PROMPTS, config, batch_size=batch_size, trace=writer)
    return read_trace(path), result


RUNS = [("quota", None, None, {}), ("quota", None, 8, {}), ("threshold", 0.5, None, {}),
        ("factor", 1.0, None, {}), ("factor", 1.0, None, {"fastdllm_quirks": True}),
        ("frechet", 0.0, None, {}), ("tight", 0.0, None, {}), ("entropy", 0.5, None, {})]


@pytest.mark.parametrize("name,value,steps,options", RUNS)
def test_replaying_the_logged_rule_reproduces_every_logged_decision(tmp_path, name, value,
                                                                    steps, options):
    config = DecodeConfig(rule=make_rule(name, value, **options), gen_length=16,
                          block_length=8,
                          steps=steps, cache="prefix")
    trace, result = write_trace(tmp_path / "t.parquet", config)
    rep = replay(trace, LOGGED)
    assert rep.rule == config.rule
    logged = list(trace.steps())
    assert rep.logged and len(rep.records) == len(logged) == result.sequence_steps
    for rec, step in zip(rep.records, logged, strict=True):
        assert (rec.sequence, rec.step) == (step.sequence, step.step)
        assert np.array_equal(rec.positions, step.committed)  # same set, same order
        assert rec.same_as_logged and not rec.counterfactual and rec.n == step.n
        assert rec.agree.all()  # committed tokens are never changed afterwards
    assert all(v is None for v in rep.counterfactual_from.values())
    summary = rep.summary()
    assert summary["token_agreement"] == 1.0 and summary["approx_calls"] == len(logged)
    assert summary["mean_tokens_per_step"] == pytest.approx(
        result.generated_tokens / result.sequence_steps)


@pytest.fixture(scope="module")
def threshold_trace(tmp_path_factory):
    path = tmp_path_factory.mktemp("thr") / "t.parquet"
    return write_trace(path, DecodeConfig(rule=Threshold(0.3), gen_length=16,
                                          block_length=8))[0]


def test_another_rule_is_counterfactual_after_its_first_difference(threshold_trace):
    rep = replay(threshold_trace, Quota(1))
    assert not rep.logged
    by_seq: dict[int, list] = {}
    for rec in rep.records:
        by_seq.setdefault(rec.sequence, []).append(rec)
    assert any(v is not None for v in rep.counterfactual_from.values())
    for seq, recs in by_seq.items():
        first = next((r.step for r in recs if not r.same_as_logged), None)
        cf = rep.counterfactual_from[seq]
        assert cf == (None if first is None else first + 1)
        assert [r.counterfactual for r in recs] == [cf is not None and r.step >= cf
                                                    for r in recs]
    assert rep.summary()["mean_tokens_per_step"] == 1.0
    assert rep.summary()["factual_steps"] < len(rep.records)


def test_replay_of_a_padded_batch_equals_commit_on_each_row_alone(threshold_trace):
    rules = [r for r in default_rules() if r != LOGGED]
    for rule, rep in zip(rules, replay_all(threshold_trace, rules), strict=True):
        for rec, step in zip(rep.records, threshold_trace.steps(), strict=True):
            d = commit(rule, step.profile())
            alone = step.positions[d.order[0][: int(d.n[0])]]
            assert np.array_equal(rec.positions, alone), rule.label()


def test_margins_of_a_confidence_prefix_are_the_closed_forms_at_n(threshold_trace):
    rep = replay(threshold_trace, make_rule("frechet", 0.0))
    for rec, step in zip(rep.records, threshold_trace.steps(), strict=True):
        order = np.argsort(step.log_r, kind="stable")
        r, s = np.exp(step.log_r[order])[None], step.s[order][None]
        j = rec.n - 1
        assert rec.G == pytest.approx(margins.frechet_margin(r)[0, j], abs=1e-12)
        assert rec.G_star == pytest.approx(margins.tight_margin(r, s)[0, j], abs=1e-12)
        assert rec.heterogeneity == pytest.approx(margins.heterogeneity_bonus(r)[0, j],
                                                  abs=1e-12)
        assert rec.spread >= -1e-15 and rec.heterogeneity >= -1e-15
        assert rec.G > 0 or rec.n == 1  # the Fréchet rule commits only certified prefixes


def test_an_unknown_rule_spec_is_refused(threshold_trace):
    with pytest.raises(ValueError, match="unknown rule spec"):
        replay(threshold_trace, "best")


def test_the_reliability_table_counts_every_masked_position_once(threshold_trace):
    steps = list(threshold_trace.steps())
    rel = compute_reliability(threshold_trace, bins=4)
    assert rel["n"] == int(rel["count"].sum()) == sum(len(s.c) for s in steps)
    final = {f["sequence"]: np.asarray(f["generated"]) for f in threshold_trace.sequences()}
    c = np.concatenate([s.c for s in steps])
    agree = np.concatenate([final[s.sequence][s.positions] == s.tokens for s in steps])
    b = np.minimum((c * 4).astype(int), 3)
    ece = sum(abs(agree[b == i].mean() - c[b == i].mean()) * (b == i).sum()
              for i in range(4) if (b == i).any()) / len(c)
    assert rel["ece"] == pytest.approx(ece)


def test_margin_calibration_bins_every_replayed_step(threshold_trace):
    rep = replay(threshold_trace, LOGGED)
    cal = compute_margin_calibration(rep, bins=8)
    for name, field in (("frechet", "G"), ("tight", "G_star")):
        table = cal[name]
        assert int(table["count"].sum()) == len(rep.records) == table["n"]
        assert np.nanmax(table["mean_margin"]) <= rep.column(field).max() + 1e-12
    assert np.all(rep.column("G_star") >= rep.column("G") - 1e-12)  # tight >= Fréchet


def test_prefix_calibration_covers_every_prefix_and_joint_agreement_is_monotone(
        threshold_trace):
    steps = list(threshold_trace.steps())
    obs = prefix_observations(threshold_trace)
    assert len(obs["n"]) == sum(len(s.c) for s in steps)
    start = np.flatnonzero(obs["n"] == 1)
    for a, b in zip(start, [*start[1:], len(obs["n"])], strict=True):
        joint = obs["joint"][a:b]
        assert np.all(joint[1:] <= joint[:-1])  # a longer prefix never agrees more
        assert np.all(np.diff(obs["L"][a:b]) <= 1e-15)
    cal = compute_prefix_calibration(threshold_trace, bins=4)
    assert int(cal["tight"]["count"].sum()) == len(obs["n"])
