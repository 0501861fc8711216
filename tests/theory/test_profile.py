"""Profiles of marginals: the quantities of docs/theory.md, section 1, exact zeros included."""

import warnings

import numpy as np
import pytest
from hypothesis import given

from theory import profile_from_logits, profile_from_probabilities
from theory.strategies import confidence_arrays


@given(confidence_arrays())
def test_profile_from_probabilities_agrees_with_a_direct_computation(a):
    profile = profile_from_probabilities(a.marginals, a.valid)
    ok = a.valid
    np.testing.assert_allclose(profile.c[ok], a.c[ok], rtol=1e-12)
    s = np.sort(a.marginals, axis=-1)[..., -2] if a.marginals.shape[-1] > 1 else 0 * a.c
    np.testing.assert_allclose(profile.s[ok], s[ok], rtol=1e-12)
    np.testing.assert_allclose(profile.H[ok], a.H[ok], rtol=1e-12, atol=1e-15)
    r = 1.0 - a.marginals.max(axis=-1)
    np.testing.assert_allclose(profile.r[ok], r[ok], rtol=1e-9, atol=1e-15)
    assert (profile.tokens[ok] == a.marginals.argmax(axis=-1)[ok]).all()


@given(confidence_arrays(padding=False))
def test_unchecked_profiles_equal_checked_ones_on_distributions(a):
    checked = profile_from_probabilities(a.marginals)
    trusted = profile_from_probabilities(a.marginals, check=False)
    for field in ("tokens", "c", "log_r", "s", "H"):
        np.testing.assert_array_equal(getattr(trusted, field), getattr(checked, field))


@pytest.mark.parametrize("check", [True, False])
def test_exact_zero_probabilities_give_no_warning(check):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        prof = profile_from_probabilities(np.array([[[0.9, 0.1, 0.0], [1.0, 0.0, 0.0]]]),
                                          check=check)
        logits = profile_from_logits(np.array([[[0.0, -np.inf, -np.inf]]]))
    assert abs(float(prof.r[0, 0]) - 0.1) < 1e-15 and float(prof.s[0, 0]) == pytest.approx(0.1)
    assert float(prof.r[0, 1]) == 0.0 and float(prof.H[0, 1]) == 0.0
    assert float(logits.H[0, 0]) == 0.0 and float(logits.c[0, 0]) == 1.0


def test_padding_may_hold_anything():
    p = np.array([[[0.75, 0.25], [np.nan, 0.0]], [[0.0, 0.0], [0.5, 0.5]]])
    valid = np.array([[True, False], [False, True]])
    prof = profile_from_probabilities(p, valid)
    assert float(prof.c[0, 0]) == pytest.approx(0.75) and float(prof.c[1, 1]) == pytest.approx(0.5)
    assert np.isfinite(prof.c).all() and (prof.valid == valid).all()


@pytest.mark.parametrize("bad, match", [(np.nan, "NaN"), (np.inf, r"\+inf"),
                                        (-np.inf, "all logits equal to -inf")])
@pytest.mark.parametrize("library", ["numpy", "torch"])
def test_logits_are_checked_at_valid_positions_only(bad, match, library):
    logits = np.array([[[2.0, 1.0, 0.0], [0.0, 0.5, 1.0]]])
    valid = np.array([[True, False]])
    logits[0, 1, :] = bad  # padding may hold anything
    if library == "torch":
        torch = pytest.importorskip("torch", reason="the torch half needs torch")
        logits, valid = torch.from_numpy(logits), torch.from_numpy(valid)
    prof = profile_from_logits(logits, valid)
    assert float(prof.c[0, 0]) == pytest.approx(np.exp(2) / (np.exp(2) + np.exp(1) + 1))
    with pytest.raises(ValueError, match=match):
        profile_from_logits(logits)  # every position is valid: the bad one is refused
    with pytest.raises(ValueError, match=match):
        profile_from_logits(logits, valid[:, ::-1].copy() if library == "numpy"
                            else valid.flip(-1))


@pytest.mark.parametrize("p, match", [
    ([[[0.5, 0.4]]], "sum to 1"), ([[[1.5, -0.5]]], r"\[0, 1\]"), ([[[np.nan, 1.0]]], "NaN"),
    ([[0.5, 0.5]], "shape")])
def test_bad_marginals_are_refused(p, match):
    with pytest.raises(ValueError, match=match):
        profile_from_probabilities(np.array(p))
