"""[EB] Ben-Hamu et al., arXiv 2505.24857: sum H - max H bounds the total correlation."""

import math

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from theory import (
    EntropyBound,
    ExplicitJoint,
    check_entropy_bound,
    commit,
    entropy_bound,
    profile_from_confidences,
)
from theory.strategies import couplings, explicit_joints, marginal_matrices


@given(explicit_joints(st.integers(1, 3), st.integers(1, 4)))
def test_entropy_bound_holds_on_every_explicit_joint(joint):
    assert check_entropy_bound(joint)


@given(marginal_matrices(st.integers(1, 3), st.integers(2, 3)).flatmap(couplings))
def test_entropy_bound_holds_on_every_coupling(joint):
    assert check_entropy_bound(joint)


@given(st.integers(1, 5), st.integers(2, 4))
def test_entropy_bound_is_attained_by_copies_of_one_variable(n, V):
    """X_1 = ... = X_n uniform: total correlation (n-1) log V = sum H - max H."""
    table = np.zeros((V,) * n)
    for v in range(V):
        table[(v,) * n] = 1.0 / V
    joint = ExplicitJoint(table)
    H = joint.marginal_entropies()
    assert math.isclose(joint.total_correlation(), entropy_bound(H), abs_tol=1e-12)
    assert math.isclose(entropy_bound(H), (n - 1) * math.log(V), abs_tol=1e-12)


@given(st.lists(st.floats(0.0, 5.0), min_size=1, max_size=10), st.floats(0.0, 5.0))
@example([0.1, 0.1, 0.1], 0.2)
def test_entropy_rule_commits_the_longest_prefix_within_the_bound(H, gamma):
    n = int(commit(EntropyBound(gamma), profile_from_confidences([0.5] * len(H), H=[H])).n[0])
    prefix = sorted(H)
    assert n == 1 or entropy_bound(prefix[:n]) <= gamma
    assert n == len(H) or entropy_bound(prefix[:n + 1]) > gamma


def test_entropy_bound_rejects_negative_entropies():
    with pytest.raises(ValueError, match=">= 0"):
        entropy_bound([0.5, -0.1])
