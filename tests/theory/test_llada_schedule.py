"""LLaDA's quota schedule as a function of the state: the step index from the tokens a
block has committed (what lets FreeDave reproduce ``--steps``)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from theory.rules import llada_quota, llada_step_index


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
