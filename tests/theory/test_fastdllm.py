"""[FastdLLM] Wu et al., arXiv 2505.22618, Theorem 1, its tightness, and its TV and KL bounds."""

import math

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from theory import (
    ExplicitJoint,
    binary_entropy,
    check_fastdllm_theorem1,
    fastdllm_kl_bound,
    fastdllm_theorem1,
    fastdllm_tv_bound,
    kl_divergence,
    kl_to_product,
    marginal_modes,
    nested_failure_coupling,
    theorem1_counterexample,
    total_variation,
)
from theory.strategies import couplings, marginal_matrices

SMALL_N, SMALL_V = st.integers(1, 3), st.integers(2, 3)


@st.composite
def theorem1_instances(draw, n=SMALL_N, V=SMALL_V):
    """(marginals, eps, joint) with every c_j > 1 - eps, (n+1) eps <= 1, joint a coupling."""
    p = draw(marginal_matrices(n, V))
    n_ = p.shape[0]
    eps = draw(st.floats(1e-3, 1.0 / (n_ + 1)))
    top = p.argmax(axis=1)
    r = 1.0 - p[np.arange(n_), top]
    lam = min(1.0, 0.999 * eps / max(float(r.max()), 1e-300))
    p = lam * p + (1.0 - lam) * np.eye(p.shape[1])[top]  # now every r_j < eps
    return p, eps, draw(couplings(p))


@given(theorem1_instances())
def test_theorem1_conclusions_hold_on_every_coupling(case):
    p, eps, joint = case
    assert check_fastdllm_theorem1(joint, eps)


@given(theorem1_instances())
def test_theorem1_mode_is_the_product_of_marginals_mode(case):
    p, eps, joint = case
    product = ExplicitJoint.product_of_marginals(p)
    assert product.unique_mode() == joint.unique_mode() == marginal_modes(p).x_star


@given(theorem1_instances(n=st.integers(1, 4), V=st.integers(2, 3)))
def test_tv_to_the_product_is_below_the_paper_bound(case):
    p, eps, joint = case
    tv = total_variation(joint, ExplicitJoint.product_of_marginals(p))
    assert tv < fastdllm_tv_bound(p.shape[0], eps)


@given(theorem1_instances(n=st.integers(2, 4), V=st.integers(2, 3)))
def test_kl_to_the_product_is_below_the_paper_bound_for_two_or_more_positions(case):
    p, eps, joint = case
    kl = kl_to_product(joint)  # log space: the product table may underflow to 0
    assert kl < fastdllm_kl_bound(p.shape[0], eps, p.shape[1])


def test_kl_bound_is_not_strict_for_one_position():
    """Disagreement with the paper's strict '<': for n = 1 both KL and the bound are 0."""
    p = np.array([[0.9, 0.1]])
    joint = ExplicitJoint.product_of_marginals(p)
    kl = kl_divergence(joint, ExplicitJoint.product_of_marginals(p))
    assert kl == 0.0 == fastdllm_kl_bound(1, 0.2, 2)
    assert not kl < fastdllm_kl_bound(1, 0.2, 2)


@pytest.mark.parametrize("n", [2, 3, 4])
def test_tv_bound_is_not_far_from_tight_on_nested_failures(n):
    """The nested-failure coupling reaches TV close to (2n-1) eps / 2 (bound: (3n-1) eps / 2)."""
    eps = 1e-4
    p = np.array([[1.0 - eps * 0.999, eps * 0.999]] * n)
    joint = nested_failure_coupling(p)
    tv = total_variation(joint, ExplicitJoint.product_of_marginals(p))
    assert (2 * n - 1) * eps / 2 * 0.99 < tv < fastdllm_tv_bound(n, eps)


@given(st.integers(2, 6).flatmap(lambda n: st.tuples(
    st.just(n), st.floats(1.0 / (n + 1), 0.5, exclude_min=True, exclude_max=True))))
@example((2, 0.34))
@example((6, 0.49))
def test_theorem1_counterexample_has_a_joint_mode_other_than_x_star(case):
    n, eps = case
    joint = theorem1_counterexample(n, eps)
    x_star = (1,) * n
    assert joint.mode_tokens == x_star
    assert np.abs(joint.marginals[:, 1] - (1.0 - eps)).max() < 1e-12
    assert joint.mode_margin(x_star) < 0
    assert joint.unique_mode() != x_star


@pytest.mark.parametrize("n, eps", [(1, 0.4), (2, 1 / 3), (3, 0.2), (3, 0.5)])
def test_theorem1_counterexample_rejects_eps_outside_the_open_interval(n, eps):
    with pytest.raises(ValueError):
        theorem1_counterexample(n, eps)


def test_theorem1_names_the_broken_confidence():
    with pytest.raises(ValueError, match="c_j > 1 - eps fails at j = 1"):
        fastdllm_theorem1([0.95, 0.7], eps=0.25)


def test_theorem1_names_the_broken_size_condition():
    with pytest.raises(ValueError, match=r"\(n\+1\) eps <= 1 fails"):
        fastdllm_theorem1([0.95, 0.9, 0.9, 0.9], eps=0.25)


@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=8), st.floats(1e-6, 0.5))
def test_theorem1_bounds_follow_from_the_sharp_bounds(c, eps):
    try:
        b = fastdllm_theorem1(c, eps)
    except ValueError:
        return
    assert b.mode_lower_sharp >= b.mode_lower - 1e-12
    assert b.competitor_upper_sharp < b.competitor_upper
    assert b.mode_lower >= b.competitor_upper - 1e-12


def test_binary_entropy_values():
    assert binary_entropy(0.0) == binary_entropy(1.0) == 0.0
    assert binary_entropy(0.5) == pytest.approx(math.log(2))
    with pytest.raises(ValueError):
        binary_entropy(1.5)


def test_bounds_reject_bad_sizes():
    with pytest.raises(ValueError, match="V = 1"):
        fastdllm_kl_bound(2, 0.1, 1)
    with pytest.raises(ValueError, match="n >= 1|at least one"):
        fastdllm_tv_bound(0, 0.1)


@pytest.mark.parametrize("n, V", [(2, 2), (3, 3), (4, 2)])
def test_kl_bound_is_approached_by_copies_of_one_position(n, V):
    """Equal marginals with uniform residual mass, nested failures: X_1 = ... = X_n, so
    KL = (n-1) H(X_1) -> (n-1)(H_b(eps) + eps ln(V-1)) as r -> eps = 1/(n+1)."""
    eps = 1.0 / (n + 1)
    r = eps * (1.0 - 1e-9)
    p = np.tile(np.r_[1.0 - r, np.full(V - 1, r / (V - 1))], (n, 1))
    joint = nested_failure_coupling(p)
    kl = kl_divergence(joint, ExplicitJoint.product_of_marginals(p))
    assert 1.0 - 1e-8 < kl / fastdllm_kl_bound(n, eps, V) < 1.0
