"""Per-row reference loops == the batched commit, for all six rules; numpy == torch CPU."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theory import (
    EntropyBound,
    Factor,
    Frechet,
    Quota,
    Threshold,
    TightCertificate,
    commit,
    commit_count_reference,
    commit_counts_reference,
    profile_from_confidences,
    profile_from_logits,
)
from theory.strategies import confidence_profiles, logit_arrays, rules

EVERY_RULE = [Quota(1), Quota(3), Threshold(0.9), Threshold(0.0), Factor(1.0), Factor(0.5),
              Factor(1.0, fastdllm_quirks=True), Frechet(0.0), Frechet(0.3), Frechet(-0.5),
              TightCertificate(0.0), TightCertificate(0.3), EntropyBound(0.1),
              EntropyBound(1.0)]


@given(confidence_profiles(), rules())
def test_reference_loop_equals_batched_commit_on_random_profiles(profile, rule):
    assert (commit(rule, profile).n == commit_counts_reference(rule, profile)).all()


@settings(max_examples=30)
@given(logit_arrays(), rules())
def test_reference_loop_equals_batched_commit_on_float32_logits_near_certainty(z, rule):
    profile = profile_from_logits(z)
    assert (commit(rule, profile).n == commit_counts_reference(rule, profile)).all()


EDGE_CASES = {
    "c = 1 exactly": dict(c=[[1.0, 1.0, 0.9, 0.5]], s=[[0.0, 0.0, 0.1, 0.25]],
                          H=[[0.0, 0.0, 0.33, 1.0]]),
    "ties": dict(c=[[0.8, 0.8, 0.8, 0.8]], s=[[0.2, 0.1, 0.2, 0.1]], H=[[0.5, 0.6, 0.5, 0.6]]),
    "one position": dict(c=[[0.6]], s=[[0.3]], H=[[0.9]]),
    "one valid position": dict(c=[[0.6, 0.99]], s=[[0.3, 0.01]], H=[[0.9, 0.05]],
                               valid=[[True, False]]),
    "all rows invalid": dict(c=[[0.9, 0.9], [0.5, 0.5]], s=[[0.1, 0.1], [0.5, 0.5]],
                             H=[[0.3, 0.3], [0.7, 0.7]], valid=[[False, False], [False, False]]),
}


@pytest.mark.parametrize("case", list(EDGE_CASES))
@pytest.mark.parametrize("rule", EVERY_RULE, ids=lambda r: r.label())
def test_reference_loop_equals_batched_commit_on_edge_cases(case, rule):
    profile = profile_from_confidences(**EDGE_CASES[case])
    expected = commit_counts_reference(rule, profile)
    assert (commit(rule, profile).n == expected).all()
    if case == "all rows invalid":
        assert (expected == 0).all()


def test_c_within_1e9_of_1_in_float32_keeps_its_residual_mass():
    z = np.array([[[25.0, 0.0, 0.0], [25.0, 0.0, 0.0], [0.0, 0.0, 0.0]]], dtype=np.float32)
    profile32 = profile_from_logits(z, float64=False)
    assert profile32.c[0, 0] == 1.0 and 0.0 < float(profile32.r[0, 0]) < 1e-9
    profile = profile_from_logits(z)
    assert 1.0 - 1e-9 < profile.c[0, 0] < 1.0 and 0.0 < float(profile.r[0, 0]) < 1e-9
    for p in (profile32, profile):
        for rule in EVERY_RULE:
            assert (commit(rule, p).n == commit_counts_reference(rule, p)).all()
    # exact margin G*_3 = -2 r_1 < 0: the float64 profile refuses the third token
    assert int(commit(TightCertificate(0.0), profile).n[0]) == 2
    assert commit_count_reference(Frechet(0.0), [1.0, 1.0], r=[2.8e-11, 2.8e-11]) == 2


def test_reference_loop_refuses_the_entropy_rule_without_entropies():
    with pytest.raises(ValueError, match="entropies"):
        commit_count_reference(EntropyBound(0.1), [0.9, 0.8])


@pytest.mark.parametrize("rule", EVERY_RULE, ids=lambda r: r.label())
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_numpy_and_torch_cpu_commit_the_same(rule, dtype):
    torch = pytest.importorskip("torch", reason="torch is needed to compare backends")
    rng = np.random.default_rng(7)
    z = (rng.normal(size=(300, 12, 6)) * rng.choice([1.0, 4.0, 12.0], size=(300, 1, 1)))
    z = z.astype(dtype)
    valid = rng.random((300, 12)) > 0.1
    valid[:5] = False  # finished rows
    a = commit(rule, profile_from_logits(z, valid))
    b = commit(rule, profile_from_logits(torch.from_numpy(z), torch.from_numpy(valid)))
    assert (a.n == b.n.numpy()).all()
    assert (a.mask == b.mask.numpy()).all()
    assert (a.n == commit_counts_reference(rule, profile_from_logits(z, valid))).all()


@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=8), st.integers(1, 8))
def test_quota_reference_commits_min_k_m(c, k):
    assert commit_count_reference(Quota(k), c) == min(k, len(c))
