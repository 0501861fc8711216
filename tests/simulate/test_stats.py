"""Estimates with cluster-robust standard errors."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from simulate import mean, rate_interval, ratio


@given(st.lists(st.floats(-100, 100), min_size=2, max_size=50))
def test_without_clusters_the_se_of_a_mean_is_the_textbook_one(values):
    x = np.array(values)
    e = mean(x)
    assert abs(e.estimate - x.mean()) <= 1e-9 * (1 + abs(x).max())
    assert abs(e.se - x.std(ddof=1) / np.sqrt(x.size)) <= 1e-9 * (1 + x.std())
    assert e.n == x.size


def test_clusters_of_copies_count_as_one_unit_each():
    rng = np.random.default_rng(0)
    base = rng.standard_normal(30)
    copies = np.repeat(base, 10)
    clustered = mean(copies, np.repeat(np.arange(30), 10))
    assert abs(clustered.se - mean(base).se) < 1e-12
    assert mean(copies).se < clustered.se / 3  # treating copies as independent understates


def test_a_ratio_weighs_units_by_their_denominator():
    e = ratio(np.array([1, 0, 3]), np.array([2, 1, 3]))
    assert e.estimate == 4 / 6 and e.n == 6


def test_zero_events_give_an_upper_bound_near_3_84_over_n():
    e = ratio(np.zeros(10), np.full(10, 100.0), np.arange(10))
    lo, hi = rate_interval(e)
    assert lo == 0.0 and abs(hi - 3.8415 / (1000 + 3.8415)) < 1e-4


def test_an_empty_denominator_gives_nan():
    e = ratio(np.zeros(3), np.zeros(3))
    assert np.isnan(e.estimate) and np.isnan(rate_interval(e)[0])
