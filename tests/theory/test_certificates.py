"""[FastdLLM++] Kasa et al., arXiv 2606.02955, Thm 4.1, Cor 4.2, Prop 4.3, Cor 4.4, and
the tight certificate (this project, docs/theory/tight_certificate.md)."""

import math

import numpy as np
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from theory import (
    Factor,
    Frechet,
    TightCertificate,
    certificate_spread_bonus,
    check_frechet_certificate,
    check_frechet_equals_factor,
    check_heterogeneity_decomposition,
    check_tight_certificate,
    commit,
    equal_confidence_margin,
    factor_implies_frechet,
    frechet_certificate,
    frechet_margin,
    heterogeneity_decomposition,
    marginal_modes,
    prefix_margins_reference,
    profile_from_confidences,
    profile_from_logits,
    tight_certificate,
    tight_extremal_coupling,
    tight_margin,
    worst_case_margin,
)
from theory.strategies import couplings, marginal_matrices

PAPER_PROFILE = [0.99, 0.95, 0.82, 0.78, 0.74]
confidences = st.lists(st.floats(0.0, 1.0), min_size=1, max_size=12)
small = dict(n=st.integers(1, 3), V=st.integers(2, 3))


def _with_coupling(marginals):
    return marginals.flatmap(lambda p: st.tuples(st.just(p), couplings(p)))


# --- Thm 4.1 -----------------------------------------------------------------------------
@given(_with_coupling(marginal_matrices(**small)))
def test_positive_frechet_margin_certifies_the_joint_mode_of_every_coupling(case):
    p, joint = case
    assert check_frechet_certificate(joint)


@given(confidences)
@example(PAPER_PROFILE)
def test_frechet_certificate_agrees_with_the_exact_prefix_loop(c):
    r = sorted(1.0 - v for v in c)
    G = prefix_margins_reference(r, r)["G"][-1]
    assert math.isclose(frechet_certificate(c), float(G), abs_tol=1e-12)


# --- Cor 4.2 -----------------------------------------------------------------------------
@given(st.integers(1, 40), st.floats(0.0, 1.0), st.floats(0.0, 1.0, exclude_max=True))
@example(5, 0.9, 0.3)
@example(3, 0.75, 0.0)  # G_n = 0 = delta: both reject
def test_frechet_equals_factor_on_flat_profiles_exactly(n, c, delta):
    assert check_frechet_equals_factor(n, c, delta)


@given(st.integers(1, 40).flatmap(lambda n: st.tuples(st.just(n), st.floats(1.0 - 1.0 / n, 1.0))))
def test_equal_confidence_margin_is_the_frechet_certificate_of_a_flat_profile(case):
    n, c = case
    assume(n * (1.0 - c) <= 1.0)
    assert math.isclose(equal_confidence_margin(n, c), frechet_certificate([c] * n),
                        abs_tol=1e-12)


@given(st.integers(1, 16), st.floats(0.5, 1.0), st.floats(0.0, 0.95))
def test_frechet_and_factor_commit_the_same_on_flat_profiles(m, c, delta):
    r = 1.0 - c
    margins = [1.0 - (k + 1) * r for k in range(1, m + 1)]
    assume(all(abs(g - delta) > 1e-9 for g in margins))  # float ties are not the theorem
    p = profile_from_confidences([c] * m)
    assert int(commit(Frechet(delta), p).n[0]) == int(commit(Factor(1.0 - delta), p).n[0])


def test_the_clip_breaks_frechet_equals_factor_for_negative_delta():
    """Cor 4.2 needs delta >= 0 with the clip: flat c = 0.5, delta = -0.7 disagree."""
    p = profile_from_confidences([0.5, 0.5, 0.5])
    assert int(commit(Frechet(-0.7), p).n[0]) == 3
    assert int(commit(Factor(1.7), p).n[0]) == 2
    assert int(commit(Frechet(-0.7, clip=False), p).n[0]) == 2
    assert check_frechet_equals_factor(3, 0.5, -0.7, clip=False)
    with pytest.raises(ValueError, match="delta"):
        check_frechet_equals_factor(3, 0.5, -0.7)


def test_equal_confidence_margin_rejects_the_clipped_regime():
    with pytest.raises(ValueError, match="n \\(1 - c\\) <= 1"):
        equal_confidence_margin(3, 0.5)


# --- Prop 4.3 ----------------------------------------------------------------------------
@given(confidences)
@example([0.8] * 4)
@example([1.0])
def test_heterogeneity_decomposition_holds_exactly(c):
    assert check_heterogeneity_decomposition(c)


@given(confidences)
@example(PAPER_PROFILE)
def test_heterogeneity_decomposition_floats_add_up(c):
    G, F, B = heterogeneity_decomposition(c)
    assert math.isclose(G, F + B, abs_tol=1e-12)
    assert B >= -1e-15


def test_heterogeneity_bonus_is_zero_iff_flat():
    assert heterogeneity_decomposition([0.9, 0.9, 0.9])[2] == 0.0
    assert heterogeneity_decomposition([0.9, 0.9, 0.8])[2] > 0.0


# --- Cor 4.4 -----------------------------------------------------------------------------
@given(confidences, st.floats(-1.0, 1.0, exclude_max=True))
@example(PAPER_PROFILE, 0.3)
def test_factor_implies_frechet_exactly(c, delta):
    assert factor_implies_frechet(c, delta)


def test_paper_worked_example_factor_commits_2_and_frechet_commits_4():
    p = profile_from_confidences(PAPER_PROFILE)
    assert int(commit(Factor(0.7), p).n[0]) == 2
    assert int(commit(Frechet(0.3), p).n[0]) == 4
    assert factor_implies_frechet(PAPER_PROFILE, 0.3)


@pytest.mark.parametrize("delta", [-0.5, 0.0, 0.05, 0.2, 0.5, 0.9])
def test_tight_accepts_at_least_frechet_which_accepts_at_least_factor_on_every_row(delta):
    rng = np.random.default_rng(20261123)
    scale = rng.choice([1.0, 3.0, 8.0], size=(4000, 1, 1))
    logits = rng.normal(size=(4000, 16, 8)) * scale
    p = profile_from_logits(logits)
    n_tight = commit(TightCertificate(delta), p).n
    n_frechet = commit(Frechet(delta), p).n
    n_factor = commit(Factor(1.0 - delta), p).n
    assert (n_tight >= n_frechet).all() and (n_frechet >= n_factor).all()
    assert (n_tight > n_factor).any()  # not vacuous: the rules differ on some rows


# --- 3.4 tight certificate ---------------------------------------------------------------
@given(marginal_matrices(**small, max_residual_sum=1.0))
@example(np.array([[0.75, 0.25, 0.0], [0.875, 0.0625, 0.0625]]))
@example(np.array([[0.5, 0.5], [1.0, 0.0]]))
def test_tight_certificate_equals_the_lp_worst_case(p):
    assert math.isclose(tight_certificate(p), worst_case_margin(p).margin, abs_tol=1e-9)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_tight_certificate_equals_the_lp_worst_case_at_n_4_v_4(seed):
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.full(4, 0.5), size=4)
    top = p.argmax(axis=1)
    p = 0.3 * p + 0.7 * np.eye(4)[top]  # keeps sum r <= 1
    assert math.isclose(tight_certificate(p), worst_case_margin(p).margin, abs_tol=1e-9)


@given(marginal_matrices(st.integers(1, 4), st.integers(2, 4), max_residual_sum=1.0))
def test_tight_extremal_coupling_attains_the_certificate(p):
    joint = tight_extremal_coupling(p)
    assert np.abs(joint.marginals - p).max() < 1e-12
    x_star = marginal_modes(p).x_star
    assert math.isclose(joint.mode_margin(x_star), tight_certificate(p), abs_tol=1e-12)


@given(_with_coupling(marginal_matrices(**small, max_residual_sum=1.0)))
def test_tight_certificate_lower_bounds_the_margin_of_every_coupling(case):
    p, joint = case
    assert check_tight_certificate(joint)


@given(marginal_matrices(st.integers(1, 3), st.just(2), max_residual_sum=1.0))
def test_frechet_is_tight_when_all_residual_mass_is_on_one_token(p):
    """Binary vocabularies have s = r: the Fréchet certificate is the exact worst case."""
    assert math.isclose(frechet_certificate(marginal_modes(p).c), worst_case_margin(p).margin,
                        abs_tol=1e-9)


def test_tight_certificate_rejects_residual_mass_above_one():
    with pytest.raises(ValueError, match="sum r <= 1"):
        tight_certificate([[0.4, 0.3, 0.3], [0.4, 0.3, 0.3]])
    with pytest.raises(ValueError, match="sum r <= 1"):
        tight_extremal_coupling([[0.4, 0.3, 0.3], [0.4, 0.3, 0.3]])


@given(marginal_matrices(st.integers(1, 6), st.integers(1, 5), max_residual_sum=1.0))
def test_spread_bonus_is_the_gap_between_tight_and_frechet(p):
    bonus = certificate_spread_bonus(p)
    gap = tight_certificate(p) - frechet_certificate(marginal_modes(p).c)
    assert bonus >= 0.0 and math.isclose(bonus, gap, abs_tol=1e-12)


@given(marginal_matrices(st.integers(1, 6), st.integers(1, 5), max_residual_sum=1.0))
def test_tight_certificate_is_the_last_column_of_the_batched_tight_margin(p):
    modes = marginal_modes(p)
    order = np.argsort(modes.r, kind="stable")
    r, s = modes.r[order][None, :], modes.s[order][None, :]
    assert math.isclose(tight_certificate(p), float(tight_margin(r, s)[0, -1]), abs_tol=1e-12)
    assert math.isclose(frechet_certificate(modes.c), float(frechet_margin(r)[0, -1]),
                        abs_tol=1e-12)
