"""LLaDA's quota schedule: the step index as a function of the state, from the tokens a
block has committed (what lets FreeDave reproduce ``--steps``), and per-row quotas in one
commit (commit_quotas)."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from theory import Profile, Quota, commit, commit_quotas, profile_from_confidences
from theory.profile import FIELDS
from theory.rules import llada_quota, llada_step_index
from theory.strategies import confidence_profiles


@given(st.integers(1, 64), st.integers(1, 40), st.data())
def test_the_step_index_on_the_schedules_path_is_the_step(m0, steps, data):
    t = data.draw(st.integers(0, steps - 1))
    committed = sum(llada_quota(m0, steps, tau) for tau in range(t))
    if committed < m0:  # steps after the block is complete are never taken
        assert llada_step_index(m0, steps, committed) == t


@given(st.integers(1, 64), st.integers(1, 40), st.data())
def test_off_the_path_the_index_is_the_last_step_not_past_the_count(m0, steps, data):
    c = data.draw(st.integers(0, m0))
    t = llada_step_index(m0, steps, c)
    assert sum(llada_quota(m0, steps, tau) for tau in range(t)) <= c
    assert t == steps - 1 or sum(llada_quota(m0, steps, tau) for tau in range(t + 1)) > c \
        or llada_quota(m0, steps, t) == 0


@pytest.mark.parametrize("args, match", [((4, 2, 5), "exceeds"), ((4, 0, 1), "steps"),
                                         ((-1, 2, 0), "m0"), ((4, 2, -1), "committed")])
def test_impossible_counts_are_refused(args, match):
    with pytest.raises(ValueError, match=match):
        llada_step_index(*args)


@given(confidence_profiles(), st.data())
def test_per_row_quotas_commit_each_rows_own_quota(profile, data):
    rows = profile.c.shape[0]
    k = np.array(data.draw(st.lists(st.integers(0, 9), min_size=rows, max_size=rows)),
                 dtype=np.int64)
    got = commit_quotas(profile, k)
    for i in range(rows):
        if k[i] == 0:
            assert int(got.n[i]) == 0 and not got.mask[i].any()
            continue
        want = commit(Quota(int(k[i])), profile)
        assert int(got.n[i]) == int(want.n[i]) == min(int(k[i]), int(profile.valid[i].sum()))
        assert np.array_equal(got.mask[i], want.mask[i])
        assert np.array_equal(got.order[i], want.order[i])


@given(confidence_profiles(), st.data())
def test_per_row_quotas_on_cpu_torch_equal_numpy(profile, data):
    rows = profile.c.shape[0]
    k = data.draw(st.lists(st.integers(0, 9), min_size=rows, max_size=rows))
    want = commit_quotas(profile, np.array(k, dtype=np.int64))
    got = commit_quotas(Profile(*(torch.from_numpy(np.asarray(getattr(profile, f)))
                                  for f in FIELDS)), torch.tensor(k))
    assert isinstance(got.mask, torch.Tensor)
    for name in ("n", "mask", "order"):
        assert np.array_equal(getattr(got, name).numpy(), getattr(want, name))


@pytest.mark.parametrize("k, error, match", [
    (np.array([1, 2]), ValueError, "shape"), (np.array([-1]), ValueError, ">= 0"),
    (np.array([1.0]), TypeError, "int32 or int64"), ([1], TypeError, "int32 or int64"),
    (torch.tensor([1]), TypeError, "library")])
def test_bad_quotas_are_refused_by_name(k, error, match):
    profile = profile_from_confidences([[0.9, 0.8]])
    with pytest.raises(error, match=match):
        commit_quotas(profile, k)
