"""The decoding simulator: static decoding, certificates that hold, violations that show."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulate import ChainDenoiser, DecodeConfig, MarkovChain, decode, is_certified, random_chain
from theory import (
    EntropyBound,
    Factor,
    Frechet,
    Quota,
    Threshold,
    TightCertificate,
    llada_quota,
    make_rule,
)


def _world(seed, rho, V=6, rows=6, prompt=2, beta=3.0):
    rng = np.random.default_rng(seed)
    chain = random_chain(V, rho, rng, beta=beta)
    return ChainDenoiser(chain), chain.sample(rows, prompt, rng)


def _funnel():
    """Token 0 leads to a (0.6) or b (0.4); a leads to c or d evenly, b always to c.
    Marginals two steps after 0: a 0.6 and c 0.7, yet P(a, c) = 0.3 < P(b, c) = 0.4."""
    e = 1e-9
    T = np.full((5, 5), e)
    T[0, 1], T[0, 2] = 0.6, 0.4          # 0 -> a=1 | b=2
    T[1, 3], T[1, 4] = 0.5, 0.5          # a -> c=3 | d=4
    T[2, 3] = 1.0                        # b -> c
    T[3, 0] = T[4, 0] = 1.0              # c, d -> 0
    T = T / T.sum(axis=1, keepdims=True)
    return ChainDenoiser(MarkovChain(pi=np.full(5, 0.2), T=T))


SMALL = DecodeConfig(gen_length=12, block_length=6)

certified_rules = st.one_of(
    st.floats(0.05, 1.0).map(Factor),
    st.floats(0.0, 0.9).map(Frechet),
    st.floats(0.0, 0.9).map(TightCertificate),
    st.just(Quota(1)))


@given(certified_rules, st.floats(0.0, 1.0), st.integers(0, 2**16))
def test_certified_rules_commit_only_joint_modes(rule, rho, seed):
    den, prompts = _world(seed, rho)
    trace = decode(den, prompts, rule, SMALL)
    assert trace.certified
    assert not trace.violations.any()


@given(st.sampled_from(["threshold", "factor", "frechet", "tight", "entropy"]),
       st.floats(0.0, 1.0), st.integers(0, 2**16))
def test_any_commit_with_positive_tight_margin_is_a_joint_mode(name, rho, seed):
    rule = make_rule(name, {"threshold": 0.3, "factor": 4.0, "frechet": -0.5, "tight": -0.5,
                            "entropy": 3.0}[name])
    den, prompts = _world(seed, rho)
    trace = decode(den, prompts, rule, SMALL)
    assert not (trace.violations & (trace.tight > 0)).any()
    assert (trace.log_gap[~np.isnan(trace.log_gap)] <= 1e-12).all()  # nothing beats the mode


def test_threshold_commits_a_tuple_that_is_not_the_mode_in_a_funnel():
    den = _funnel()
    config = DecodeConfig(gen_length=2, block_length=2)
    trace = decode(den, np.array([[0]]), Threshold(0.55), config)
    assert trace.n[0, 0] == 2 and trace.violations[0, 0]
    assert abs(trace.log_gap[0, 0] - np.log(0.3 / 0.4)) < 1e-6
    safe = decode(den, np.array([[0]]), Factor(1.0), config)
    assert safe.n[0, 0] == 1 and not safe.violations.any()


def test_static_decoding_commits_one_token_per_call():
    den, prompts = _world(0, 0.6)
    trace = decode(den, prompts, Quota(1), SMALL)
    assert (trace.calls == SMALL.gen_length).all() and (trace.n == 1).all()
    assert (trace.tokens_per_call == 1.0).all()
    assert (trace.tokens[:, :2] == prompts).all()


def test_reference_agreement_counts_committed_tokens_equal_to_the_reference():
    den, prompts = _world(1, 0.5)
    static = decode(den, prompts, Quota(1), SMALL)
    again = decode(den, prompts, Quota(1), SMALL, reference=static.tokens)
    assert (again.ref_agreement == 1.0).all() and (again.agree == again.n).all()
    fast = decode(den, prompts, Threshold(0.2), SMALL, reference=static.tokens)
    per_row = fast.agree.sum(axis=1) / SMALL.gen_length
    np.testing.assert_allclose(per_row, fast.ref_agreement)


def test_batched_decoding_equals_one_sequence_at_a_time():
    den, prompts = _world(2, 0.5, rows=5)
    rule = Frechet(-0.2)
    batch = decode(den, prompts, rule, SMALL)
    for b in range(prompts.shape[0]):
        one = decode(den, prompts[b:b + 1], rule, SMALL)
        assert (one.tokens[0] == batch.tokens[b]).all() and one.calls[0] == batch.calls[b]
        steps = one.n.shape[1]
        assert (one.n[0] == batch.n[b, :steps]).all() and (batch.n[b, steps:] == 0).all()
        assert abs(one.loglik[0] - batch.loglik[b]) < 1e-12


def test_equal_inputs_give_identical_traces():
    den, prompts = _world(3, 0.7)
    a = decode(den, prompts, EntropyBound(1.0), SMALL)
    b = decode(den, prompts, EntropyBound(1.0), SMALL)
    for field in ("tokens", "calls", "n", "log_gap", "frechet", "tight", "loglik"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))


def test_the_observer_sees_every_step_of_every_unfinished_row():
    den, prompts = _world(4, 0.8)
    seen = []
    trace = decode(den, prompts, Threshold(0.7), SMALL, observe=lambda v: seen.append(v))
    assert len(seen) == trace.n.shape[1]
    for view in seen:
        assert (np.asarray(view.commit.n) == trace.n[view.rows, view.t]).all()


def test_the_whole_sequence_mode_is_matched_by_its_own_decode_at_rho_zero():
    den, prompts = _world(5, 0.0)
    trace = decode(den, prompts, Quota(1), SMALL)
    assert (trace.mode_agreement == 1.0).all()  # independent positions: greedy is the mode


@pytest.mark.parametrize("rule, certified", [
    (Factor(1.0), True), (Factor(1.5), False), (Factor(0.5, fastdllm_quirks=True), False),
    (Frechet(0.0), True), (Frechet(-0.1), False), (TightCertificate(0.2), True),
    (Threshold(0.99), False), (EntropyBound(0.1), False), (Quota(1), True), (Quota(2), False)])
def test_which_rules_are_certified(rule, certified):
    assert is_certified(rule) is certified


@pytest.mark.parametrize("steps", [2, 4, 6, 8, 10, 12])
def test_llada_schedule_commits_its_quota_at_every_step_of_every_block(steps):
    den, prompts = _world(6, 0.5)
    config = DecodeConfig(gen_length=12, block_length=6, steps=steps)
    trace = decode(den, prompts, Quota(1), config)
    per_block = steps // 2
    want = [llada_quota(6, per_block, t % per_block) for t in range(steps)]
    assert (trace.n == np.array(want)[None, :]).all() and (trace.calls == steps).all()
    assert trace.rule == f"quota(steps={steps})" and trace.certified is (steps == 12)
    assert not (trace.tokens == den.mask_id).any()


def test_llada_schedule_with_one_step_per_token_is_static_decoding():
    den, prompts = _world(7, 0.6)
    static = decode(den, prompts, Quota(1), SMALL)
    llada = decode(den, prompts, Quota(1), DecodeConfig(12, 6, steps=12))
    assert (llada.tokens == static.tokens).all() and (llada.n == static.n).all()
    assert DecodeConfig().steps is None  # the default is the rule as given: static decoding


def test_bad_configurations_are_refused():
    with pytest.raises(ValueError, match="divide"):
        DecodeConfig(gen_length=10, block_length=4)
    with pytest.raises(ValueError, match="multiple"):
        DecodeConfig(gen_length=12, block_length=6, steps=5)
    with pytest.raises(ValueError, match="steps"):
        DecodeConfig(gen_length=12, block_length=6, steps=14)
    with pytest.raises(ValueError, match="steps"):
        DecodeConfig(gen_length=12, block_length=6, steps=1)
    den, prompts = _world(0, 0.5)
    with pytest.raises(ValueError, match="mask"):
        decode(den, np.full_like(prompts, den.mask_id), Quota(1), SMALL)
    with pytest.raises(ValueError, match="reference"):
        decode(den, prompts, Quota(1), SMALL, reference=prompts)
    with pytest.raises(ValueError, match="quota"):
        decode(den, prompts, Threshold(0.9), DecodeConfig(12, 6, steps=6))


def test_on_one_dependent_world_frechet_commits_in_parallel_safely_and_threshold_does_not():
    rng = np.random.default_rng(0)
    chain = random_chain(6, 0.5, rng)
    den, prompts = ChainDenoiser(chain), chain.sample(32, 2, rng)
    safe = decode(den, prompts, Frechet(0.0), SMALL)
    loose = decode(den, prompts, Threshold(0.3), SMALL)
    assert (safe.n >= 2).sum() > 50 and safe.violations.sum() == 0
    assert loose.violations.sum() > 10
