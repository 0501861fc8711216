"""Fuzz: bad input to theory's public API gets a clear error; valid input still works."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import example, given
from hypothesis import strategies as st

from tests.fuzz.bad import (
    NON_FINITE,
    NOT_A_NUMBER,
    bad_probabilities,
    corrupt_logits,
    probabilities,
    valid_logits,
    wrong_dtype_arrays,
    wrong_ndim_arrays,
)
from theory import (
    RULES,
    Profile,
    Quota,
    commit,
    frechet_margin,
    heterogeneity_bonus,
    llada_quota,
    make_rule,
    profile_from_confidences,
    profile_from_logits,
    profile_from_probabilities,
    tight_margin,
)
from theory.strategies import confidence_arrays, rules

PARAMETER = {name: cls.parameter for name, cls in RULES.items()}


def _is_profile_of(p: Profile, z: np.ndarray) -> None:
    """Invariants of a profile computed from finite logits z."""
    rows, m, _ = z.shape
    assert p.shape == (rows, m)
    c, r, s, H = (np.asarray(x, dtype=np.float64) for x in (p.c, p.r, p.s, p.H))
    assert np.all((c > 0) & (c <= 1)) and np.all(np.isfinite(H)) and np.all(H >= -1e-12)
    assert np.all(s <= r * (1 + 1e-9) + 1e-300) and np.allclose(c + r, 1.0)
    assert np.array_equal(np.asarray(p.tokens), np.argmax(z, axis=-1))


@given(valid_logits())
@example(np.array([[[1e308, -1e308, 0.0]]]))
@example(np.array([[[0.0, -np.inf, -np.inf]]]))
def test_profile_from_logits_accepts_finite_logits_of_any_scale(z):
    _is_profile_of(profile_from_logits(z), z)


@given(corrupt_logits())
def test_profile_from_logits_names_nan_inf_and_dead_positions(case):
    z, kind = case
    word = {"NaN": "NaN", "+inf": "+inf", "-inf": "-inf"}[kind]
    with pytest.raises(ValueError, match=f"logits.*{word}|{word}.*logit".replace("+", r"\+")):
        profile_from_logits(z)


@given(wrong_dtype_arrays())
def test_profile_from_logits_refuses_non_real_dtypes_by_name(z):
    with pytest.raises(TypeError, match=r"logits must hold real numbers.*dtype"):
        profile_from_logits(z)


@given(wrong_ndim_arrays(3))
def test_profile_from_logits_names_the_expected_shape(z):
    with pytest.raises(ValueError, match=r"logits must have shape \(rows, m, V\)"):
        profile_from_logits(z)


@given(st.sampled_from([[[[0.0, 1.0]]], ((0.0,),), 3.0, "logits", None]))
def test_profile_from_logits_refuses_non_arrays(z):
    with pytest.raises(TypeError, match="logits must be a numpy array or torch tensor"):
        profile_from_logits(z)


@given(valid_logits(), st.sampled_from([torch.bfloat16, torch.float16, torch.float32]))
def test_low_precision_tensors_are_upcast_before_the_softmax(z, dtype):
    t = torch.from_numpy(np.clip(z, -1e4, 1e4)).to(dtype)
    p = profile_from_logits(t)
    assert p.c.dtype == torch.float64
    ref = profile_from_logits(t.double().numpy())
    assert np.allclose(p.c.numpy(), ref.c, rtol=1e-12, atol=0)
    assert np.array_equal(p.tokens.numpy(), ref.tokens)


@given(valid_logits(), st.integers(0, 4), st.integers(0, 4))
def test_a_valid_mask_of_another_shape_is_named(z, dr, dm):
    shape = (z.shape[0] + dr, z.shape[1] + dm)
    if shape == z.shape[:2]:
        shape = (shape[0], shape[1] + 1)
    with pytest.raises(ValueError, match="valid has shape"):
        profile_from_logits(z, valid=np.ones(shape, bool))


@given(probabilities())
@example(np.array([[[1.0, 0.0, 0.0]]]))
def test_profile_from_probabilities_accepts_distributions(p):
    q = profile_from_probabilities(p)
    assert np.allclose(q.c, p.max(axis=-1))


@given(bad_probabilities())
@example((np.array([[[-0.5, 1.5]]]), "[0, 1]"))
@example((np.array([[[0.3, 0.3]]]), "sum to 1"))
def test_profile_from_probabilities_names_negative_and_unnormalised_rows(case):
    p, phrase = case
    with pytest.raises(ValueError) as err:
        profile_from_probabilities(p)
    assert phrase in str(err.value) and "marginal" in str(err.value)


@given(wrong_dtype_arrays())
def test_profile_from_probabilities_refuses_non_real_dtypes(p):
    with pytest.raises(TypeError, match="marginals must hold real numbers"):
        profile_from_probabilities(p)


@given(st.integers(1, 3), st.integers(1, 3))
def test_an_empty_vocabulary_is_named(rows, m):
    with pytest.raises(ValueError, match=r"empty vocabulary axis \(V = 0\)"):
        profile_from_probabilities(np.zeros((rows, m, 0)))
    with pytest.raises(ValueError, match=r"empty vocabulary axis \(V = 0\)"):
        profile_from_logits(np.zeros((rows, m, 0)))


@given(confidence_arrays())
def test_profile_from_confidences_accepts_consistent_arrays(a):
    p = profile_from_confidences(a.c, a.s, a.H, a.valid)
    assert p.shape == a.c.shape


@st.composite
def bad_confidences(draw):
    """(c, s, H, valid, error type, phrase)."""
    a = draw(confidence_arrays(padding=False))
    c, s, H = a.c.copy(), a.s.copy(), a.H.copy()
    i = (draw(st.integers(0, c.shape[0] - 1)), draw(st.integers(0, c.shape[1] - 1)))
    kind = draw(st.sampled_from(["c nan", "c out", "s nan", "s neg", "s big", "H neg",
                                 "H nan", "ragged", "empty", "complex", "text", "shape"]))
    if kind == "c nan":
        c[i] = np.nan
        return c, s, H, ValueError, "confidences contain NaN"
    if kind == "c out":
        c[i] = draw(st.sampled_from([-0.1, 1.5, np.inf, -np.inf]))
        return c, s, H, ValueError, "must lie in [0, 1]"
    if kind == "s nan":
        s[i] = draw(NON_FINITE)
        return c, s, H, ValueError, "runner-up probabilities s contain NaN or inf"
    if kind == "s neg":
        s[i] = -draw(st.floats(1e-6, 1.0))
        return c, s, H, ValueError, "must be >= 0"
    if kind == "s big":
        s[i] = 1.0 - c[i] + 0.01
        return c, s, H, ValueError, "runner-up probability exceeds"
    if kind == "H neg":
        H[i] = -draw(st.floats(1e-6, 1.0))
        return c, s, H, ValueError, "entropies H must be finite and >= 0"
    if kind == "H nan":
        H[i] = np.nan
        return c, s, H, ValueError, "entropies H contain NaN"
    if kind == "ragged":
        return [[0.5], [0.5, 0.4]], None, None, ValueError, "rectangular"
    if kind == "empty":
        return np.zeros((draw(st.integers(0, 2)), 0)), None, None, ValueError, "non-empty"
    if kind == "complex":
        return c + 1j, None, None, TypeError, "confidences c must hold real numbers"
    if kind == "text":
        return np.array(["0.5"]), None, None, TypeError, "confidences c must hold real"
    return c, s[:, :-1] if s.shape[1] > 1 else s[:0], None, ValueError, "s has shape"


@given(bad_confidences())
def test_profile_from_confidences_names_the_bad_field(case):
    c, s, H, kind, phrase = case
    with pytest.raises(kind) as err:
        profile_from_confidences(c, s, H)
    assert phrase in str(err.value)


@given(st.sampled_from(sorted(RULES)), st.one_of(NOT_A_NUMBER, NON_FINITE))
@example("quota", 0)
@example("quota", 1.5)
@example("threshold", 1.01)
@example("factor", 0.0)
@example("frechet", -1.5)
@example("entropy", -0.1)
@example("threshold", True)
def test_out_of_domain_parameters_are_named(name, value):
    if value is None:  # None means "the default" to make_rule
        return
    with pytest.raises(ValueError) as err:
        make_rule(name, value)
    assert str(err.value).startswith(PARAMETER[name])


@given(st.text(max_size=12).filter(lambda t: t not in RULES))
@example("Frechet")
@example("")
def test_unknown_rule_names_are_named_with_the_known_ones(name):
    with pytest.raises(ValueError, match="unknown rule") as err:
        make_rule(name, 0.5)
    assert "frechet" in str(err.value)


@given(rules(), confidence_arrays())
def test_every_rule_commits_between_one_and_the_valid_count(rule, a):
    n = commit(rule, profile_from_confidences(a.c, a.s, a.H, a.valid)).n
    n_valid = a.valid.sum(axis=1)
    assert np.all(n <= n_valid) and np.all((n >= 1) | (n_valid == 0))


@given(st.sampled_from(["frechet", Quota, 0.5, None]), confidence_arrays())
def test_commit_refuses_what_is_not_a_rule_or_not_a_profile(thing, a):
    with pytest.raises(TypeError, match="rule must be a theory rule"):
        commit(thing, profile_from_confidences(a.c))
    with pytest.raises(TypeError, match="profile must be a theory.Profile"):
        commit(Quota(1), a.c)


@given(st.one_of(st.integers(-5, -1), st.floats(0.1, 9.9).filter(lambda x: x != int(x)),
                 NOT_A_NUMBER, NON_FINITE), st.sampled_from(["m0", "steps", "t"]))
def test_llada_quota_names_a_bad_argument(bad, which):
    args = {"m0": 8, "steps": 4, "t": 0}
    args[which] = bad
    if which == "steps" and bad is not None and not isinstance(bad, (str, bytes)):
        pass
    with pytest.raises(ValueError, match=which):
        llada_quota(**args)


@given(st.lists(st.lists(st.floats(0, 0.5), min_size=3, max_size=3), min_size=1,
                max_size=3))
def test_margins_take_lists_like_arrays(r):
    r = [sorted(row) for row in r]
    assert np.array_equal(frechet_margin(r), frechet_margin(np.array(r)))
    assert np.array_equal(tight_margin(r, r), tight_margin(np.array(r), np.array(r)))
    assert np.allclose(heterogeneity_bonus(r), heterogeneity_bonus(np.array(r)))


def test_margins_name_ragged_lists():
    with pytest.raises(ValueError, match="rectangular"):
        frechet_margin([[0.1, 0.2], [0.1]])


def test_rule_defaults_survive_the_checks():
    for name in RULES:
        rule = make_rule(name)
        assert math.isfinite(float(getattr(rule, rule.parameter)))


@given(confidence_arrays(padding=False),
       st.sampled_from([torch.bfloat16, torch.float16, torch.float32, torch.float64]))
def test_profile_from_confidences_takes_torch_tensors_of_any_float_dtype(a, dtype):
    c = torch.from_numpy(a.c).to(dtype)
    p = profile_from_confidences(c)
    assert np.array_equal(p.c, c.double().numpy())
