"""The sorted-quantities helpers (sorted_profile, at_prefix, commit_bonuses, make_rules)
against plain per-row loops; numpy == torch."""

import math

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from theory import (
    Factor,
    Frechet,
    Profile,
    Quota,
    Threshold,
    TightCertificate,
    at_prefix,
    commit,
    commit_bonuses,
    make_rules,
    profile_from_confidences,
    sorted_profile,
)
from theory.margins import heterogeneity_bonus
from theory.strategies import confidence_profiles

WORKED = profile_from_confidences([0.99, 0.95, 0.82, 0.78, 0.74])  # [FastdLLM++]
TIES = profile_from_confidences([[0.9, 0.9, 0.5, 0.9]], valid=[[True, True, False, True]])


def _row_order(profile: Profile, i: int, by_entropy: bool = False) -> list[int]:
    """Row i's valid positions by (key, position)."""
    key = np.asarray(profile.H if by_entropy else profile.log_r)[i]
    valid = np.asarray(profile.valid)[i]
    return sorted((j for j in range(len(key)) if valid[j]), key=lambda j: (key[j], j))


@given(confidence_profiles(), st.booleans())
@example(WORKED, False)
@example(TIES, False)
def test_sorted_profile_gathers_each_row_in_the_order_a_plain_sort_gives(profile, by_entropy):
    sp = sorted_profile(profile, by_entropy=by_entropy)
    for i in range(profile.shape[0]):
        order = _row_order(profile, i, by_entropy)  # then the invalid ones, in any order
        k = len(order)
        assert sp.order[i, :k].tolist() == order
        assert sorted(sp.order[i].tolist()) == list(range(profile.shape[1]))
        for name in ("c", "s", "H", "tokens"):
            assert np.array_equal(getattr(sp, name)[i, :k], getattr(profile, name)[i, order],
                                  equal_nan=name == "H")
        assert np.array_equal(sp.r[i, :k], np.exp(profile.log_r[i, order]))
        assert sp.valid[i, :k].all() and not sp.valid[i, k:].any()


@given(st.lists(st.lists(st.floats(-1.0, 1.0), min_size=3, max_size=3), min_size=1,
                max_size=6), st.data())
def test_at_prefix_reads_column_n_minus_one_and_nan_where_nothing_is_committed(rows, data):
    x = np.array(rows)
    n = np.array(data.draw(st.lists(st.integers(0, 3), min_size=len(rows),
                                    max_size=len(rows))))
    got = at_prefix(x, n)
    for i in range(len(rows)):
        assert math.isnan(got[i]) if n[i] == 0 else got[i] == x[i, n[i] - 1]


def test_at_prefix_of_an_empty_window_is_nan():
    assert np.isnan(at_prefix(np.zeros((2, 0)), np.zeros(2, np.int64))).all()


@given(confidence_profiles(), st.sampled_from([0.0, 0.1, 0.3]))
@example(WORKED, 0.3)
def test_commit_bonuses_equal_a_per_row_computation(profile, delta):
    b = commit_bonuses(profile, delta)
    for i in range(profile.shape[0]):
        row = profile.take([i])
        n = {k: int(commit(rule, row).n[0]) for k, rule in
             (("factor", Factor(1.0 - delta)), ("frechet", Frechet(delta)),
              ("tight", TightCertificate(delta)))}
        assert [int(b[f"n_{k}"][i]) for k in n] == list(n.values())
        if n["frechet"] == 0:
            assert math.isnan(b["heterogeneity_bonus"][i]) and math.isnan(b["spread_bonus"][i])
            continue
        order = _row_order(profile, i)
        r, s = np.exp(profile.log_r[i, order]), profile.s[i, order]
        k = n["tight"]
        assert b["spread_bonus"][i] == r[k - 1] - max(s[:k])
        assert b["heterogeneity_bonus"][i] == heterogeneity_bonus(r[None])[0, n["frechet"] - 1]


def test_sorted_quantities_and_bonuses_are_the_same_on_torch():
    torch = pytest.importorskip("torch", reason="torch is needed to compare backends")
    rng = np.random.default_rng(0)
    c = rng.uniform(0.3, 1.0, (64, 9))
    valid = rng.random((64, 9)) < 0.8
    p = profile_from_confidences(c, valid=valid)
    t = Profile(*(torch.from_numpy(np.asarray(getattr(p, f))) for f in
                  ("tokens", "c", "log_r", "s", "H", "valid")))
    a, b = sorted_profile(p), sorted_profile(t)
    first = np.arange(9)[None, :] < valid.sum(1)[:, None]  # past them the order is free
    for name in ("order", "c", "s", "valid"):  # gathered, not computed: the same bits
        assert np.array_equal(getattr(a, name)[first], getattr(b, name).numpy()[first])
    # r = exp(log r) is computed by each library's own exp, each within 1 ulp of the true
    # value (numpy's SIMD loops, torch's Sleef), so they may differ by 2 ulp <= 2 eps r:
    # they do on AMD Zen CPUs, where the two exp kernels round some inputs apart.
    eps = np.finfo(np.float64).eps
    assert np.allclose(a.r[first], b.r.numpy()[first], rtol=2 * eps, atol=0.0)
    # the bonuses are r_(n) - max s and B_n = n r_(n) - sum_{j<=n} r_(j) (telescoped); a
    # 2 eps perturbation of each r <= 1 moves them by at most 2 m (2 eps), and the m
    # products and partial sums (each <= m) round once more each: m (4 + m) eps, m = 9.
    # The counts n are decisions: identical.
    m = 9
    ours, theirs = commit_bonuses(p, 0.1), commit_bonuses(t, 0.1)
    for key, value in ours.items():
        other = theirs[key].numpy()
        if key.startswith("n_"):
            assert np.array_equal(value, other)
        else:
            assert np.allclose(value, other, rtol=0.0, atol=m * (4 + m) * eps,
                               equal_nan=True)


def test_make_rules_expands_a_grid_in_its_order():
    grid = {"threshold": (0.9, 0.5), "quota": (2,), "frechet": ()}
    assert make_rules(grid) == [Threshold(0.9), Threshold(0.5), Quota(2)]
    with pytest.raises(ValueError, match="unknown rule"):
        make_rules({"greedy": (1,)})
