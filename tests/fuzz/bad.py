"""Strategies for bad input, shared by the fuzz tests.

Each strategy draws a *kind* of bad input together with the words its error message must
contain, so a test can assert both the exception type and that the message names the
problem.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from theory.strategies import logit_arrays

# Values that are not a valid rule parameter of any kind, with a word the message has.
NOT_A_NUMBER = st.sampled_from([None, "abc", "", [], {}, 1j, object(), b"1"])
NON_FINITE = st.sampled_from([math.nan, math.inf, -math.inf])


def shapes(min_dims: int = 3, max_dims: int = 3, max_side: int = 4) -> Any:
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1,
                            max_side=max_side)


@st.composite
def valid_logits(draw: Any) -> np.ndarray:
    """Finite logits (rows, m, V), float32 or float64, some entries -inf (never a whole
    position), some huge (|z| up to 1e30), mixed signs."""
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    z = draw(logit_arrays(dtype=np.float64))
    if draw(st.booleans()):
        scale = draw(st.sampled_from([1e4, 1e30, -1e4]))
        z = z * scale
    if z.shape[-1] > 1 and draw(st.booleans()):
        z[..., -1] = -np.inf
    return z.astype(dtype)


@st.composite
def corrupt_logits(draw: Any) -> tuple[np.ndarray, str]:
    """Logits with NaN, +inf or a position whose logits are all -inf, and the word the
    error must name."""
    z = draw(valid_logits()).astype(np.float64)
    kind = draw(st.sampled_from(["NaN", "+inf", "-inf"]))
    i = tuple(draw(st.integers(0, n - 1)) for n in z.shape)
    if kind == "NaN":
        z[i] = np.nan
    elif kind == "+inf":
        z[i] = np.inf
    else:
        z[i[:2]] = -np.inf
    return z, kind


@st.composite
def wrong_dtype_arrays(draw: Any, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """Arrays of a dtype that is not a real number: complex, bool, object, str."""
    shape = shape or draw(shapes())
    kind = draw(st.sampled_from(["complex", "bool", "object", "str"]))
    base = np.ones(shape)
    if kind == "complex":
        return base + 1j * draw(st.floats(-1, 1))
    if kind == "bool":
        return base.astype(bool)
    if kind == "object":
        return base.astype(object)
    return base.astype(str)


@st.composite
def wrong_ndim_arrays(draw: Any, ndim: int) -> np.ndarray:
    """Real arrays with any number of dimensions except ``ndim`` (0 to 4)."""
    dims = draw(st.sampled_from([d for d in range(5) if d != ndim]))
    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=dims, max_size=dims)))
    return np.full(shape, 0.5)


@st.composite
def probabilities(draw: Any) -> np.ndarray:
    """Valid marginals (rows, m, V): softmax of drawn logits."""
    z = draw(valid_logits()).astype(np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=-1, keepdims=True)


@st.composite
def bad_probabilities(draw: Any) -> tuple[np.ndarray, str]:
    """Marginals with a negative entry, an entry above 1, NaN, inf, or a row that does not
    sum to 1; and the phrase the error must contain."""
    p = draw(probabilities())
    i = tuple(draw(st.integers(0, n - 1)) for n in p.shape)
    kind = draw(st.sampled_from(["negative", "above one", "NaN", "inf", "unnormalised"]))
    if kind == "negative":
        p[i] = -draw(st.floats(1e-6, 10.0))
        return p, "[0, 1]"
    if kind == "above one":
        p[i] = 1.0 + draw(st.floats(1e-6, 10.0))
        return p, "[0, 1]"
    if kind == "NaN":
        p[i] = np.nan
        return p, "NaN"
    if kind == "inf":
        p[i] = np.inf
        return p, "[0, 1]"
    factor = draw(st.sampled_from([0.0, 0.5, 0.9, 1.1, 3.0]))
    p[i[:2]] *= factor
    if abs(p[i[:2]].sum() - 1.0) <= 1e-6:  # scaling a one-hot zero row, say: force it off
        p[i[:2]] = 0.0
    return p, "[0, 1]" if (p[i[:2]] > 1).any() else "sum to 1"
