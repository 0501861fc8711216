"""The array-namespace primitives the standard lacks: numpy and torch give the same answer."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from theory import argmax_tokens
from theory._xp import (
    _LONG_ROW,
    at_least,
    inverse_permutation,
    logsumexp,
    max_argmax,
    namespace,
    nansum,
    set_at,
    take_last,
)

torch = pytest.importorskip("torch")

small = arrays(np.float64, st.tuples(st.integers(1, 3), st.integers(1, 6)),
               elements=st.sampled_from([-np.inf, -2.0, 0.0, 0.5, 0.5, 3.0]))


@given(small)
def test_max_argmax_takes_the_first_maximum_in_both_libraries(x):
    for a in (x, torch.from_numpy(x)):
        m, i = max_argmax(namespace(a), a)
        np.testing.assert_array_equal(np.asarray(m), x.max(-1))
        np.testing.assert_array_equal(np.asarray(i), x.argmax(-1))


# rows long enough for numpy's reduction of CPU tensors, with many ties and NaN (the maximum)
long_rows = arrays(np.float32, st.tuples(st.integers(1, 3), st.integers(_LONG_ROW, _LONG_ROW + 9)),
                   elements=st.sampled_from([-np.inf, -2.0, 0.0, 0.5, 3.0, np.inf, np.nan]))


@given(long_rows, st.sampled_from(["float16", "bfloat16", "float32", "float64"]))
def test_long_rows_of_cpu_tensors_give_torch_s_own_maximum_and_index(x, dtype):
    t = torch.from_numpy(x).to(getattr(torch, dtype))  # every element is exact in each dtype
    values, index = t.max(dim=-1)
    np.testing.assert_array_equal(argmax_tokens(t).numpy(), index.numpy())
    np.testing.assert_array_equal(index.numpy(), x.argmax(-1))  # torch's is the first, too
    m, i = max_argmax(namespace(t), t)  # bfloat16 through a float32 copy
    assert m.dtype == t.dtype and i.dtype == torch.int64
    np.testing.assert_array_equal(m.float().numpy(), values.float().numpy())
    np.testing.assert_array_equal(i.numpy(), index.numpy())


@given(small)
def test_logsumexp_agrees_across_libraries_and_gives_minus_inf_on_empty_rows(x):
    a, b = logsumexp(np, x), logsumexp(namespace(torch.from_numpy(x)), torch.from_numpy(x))
    empty = (x == -np.inf).all(-1)
    assert (a[empty] == -np.inf).all() and (b.numpy()[empty] == -np.inf).all()
    # |log sum exp| <= 3 + log 6 here: a few eps of float64 apart at most
    np.testing.assert_allclose(b.numpy()[~empty], a[~empty], rtol=0, atol=16 * 2.0**-52 * 5)


@given(small)
def test_logsumexp_given_the_row_maxima_is_the_same_number(x):
    np.testing.assert_array_equal(logsumexp(np, x, np.max(x, axis=-1)), logsumexp(np, x))


@given(small, st.data())
def test_take_last_and_set_at_index_the_last_axis(x, data):
    idx = np.array(data.draw(st.lists(st.integers(0, x.shape[1] - 1), min_size=x.shape[0],
                                      max_size=x.shape[0])))
    want = np.take_along_axis(x, idx[:, None], axis=-1)
    for a, i in ((x, idx), (torch.from_numpy(x), torch.from_numpy(idx))):
        np.testing.assert_array_equal(np.asarray(take_last(namespace(a), a, i[:, None])), want)
        out = set_at(a.copy() if isinstance(a, np.ndarray) else a.clone(), i, 7.0)
        assert (np.asarray(out)[np.arange(len(idx)), idx] == 7.0).all()


def test_at_least_keeps_nan_and_nansum_skips_it():
    x = np.array([[np.nan, -1.0, 2.0]])
    for a in (x, torch.from_numpy(x)):
        xp = namespace(a)
        got = np.asarray(at_least(xp, a, 0.0))
        assert np.isnan(got[0, 0]) and got[0, 1] == 0.0 and got[0, 2] == 2.0
        assert float(nansum(xp, a)[0]) == 1.0


@given(st.integers(1, 5), st.integers(0, 12), st.integers(0, 2**32 - 1))
def test_inverse_permutation_ranks_every_position_in_both_libraries(rows, m, seed):
    order = np.argsort(np.random.default_rng(seed).random((rows, m)), axis=-1)
    want = np.empty_like(order)
    for i in range(rows):
        for j in range(m):
            want[i, order[i, j]] = j
    assert np.array_equal(inverse_permutation(np, order), want)
    got = inverse_permutation(namespace(torch.from_numpy(order)), torch.from_numpy(order))
    assert np.array_equal(got.numpy(), want)
