"""Array-namespace helpers: one implementation of the math for numpy and torch.

The rules and confidence quantities are written against the array API standard
(through ``array_api_compat``), so the same code runs on numpy arrays and on torch
tensors on any device without copies. This module holds the few primitives the
standard lacks; it never imports torch itself.
"""

from __future__ import annotations

import sys
from typing import Any

import array_api_compat
import numpy as np

Array = Any  # an array of the array API standard (numpy.ndarray, torch.Tensor, ...)


_NAMESPACES: dict[type, Any] = {}


def namespace(*arrays: Array) -> Any:
    """The array-API namespace of ``arrays`` (numpy for Python scalars and lists).

    One array of a type seen before is answered from a cache: the decode loop asks for
    the namespace of small arrays many times per step."""
    if len(arrays) == 1 and type(arrays[0]) in _NAMESPACES:
        return _NAMESPACES[type(arrays[0])]
    ns = _namespace(*arrays)
    if len(arrays) == 1 and (is_numpy(arrays[0]) or _is_torch(arrays[0])):
        _NAMESPACES[type(arrays[0])] = ns
    return ns


def _namespace(*arrays: Array) -> Any:
    arrays = tuple(np.asarray(a) if isinstance(a, (list, tuple, float, int)) else a
                   for a in arrays)
    if _NUMPY_IS_STANDARD and all(isinstance(a, np.ndarray) for a in arrays):
        return np  # no wrapper layer: a few microseconds per call on the decode loop's arrays
    return array_api_compat.array_namespace(*arrays)


#: numpy 2.1 and later implement the array API standard the rules use in their own
#: namespace (cumulative_sum and astype among it); array_api_compat's wrapper is for older
#: numpy.
_NUMPY_IS_STANDARD = hasattr(np, "cumulative_sum") and hasattr(np, "astype")


_TORCH_TYPES: dict[type, bool] = {}


def _is_torch(x: Array) -> bool:
    """``array_api_compat.is_torch_array``, answered per type from a cache."""
    kind = type(x)
    if kind not in _TORCH_TYPES:
        _TORCH_TYPES[kind] = array_api_compat.is_torch_array(x)
    return _TORCH_TYPES[kind]


def is_numpy(x: Array) -> bool:
    return array_api_compat.is_numpy_array(x)


def cummax(xp: Any, x: Array) -> Array:
    """Running maximum along the last axis (absent from the array API standard)."""
    if _is_torch(x):
        return x.cummax(dim=-1).values
    return xp.asarray(np.maximum.accumulate(np.asarray(x), axis=-1))


def float_dtype(xp: Any, x: Array, minimum_bits: int = 32) -> Any:
    """float64 for float64 input, else float32 (at least ``minimum_bits``)."""
    if x.dtype == xp.float64 or minimum_bits >= 64:
        return xp.float64
    return xp.float32


def to_numpy(x: Array) -> np.ndarray:
    """``x`` as a numpy array: a zero-copy view of a CPU torch tensor (moved to the CPU
    otherwise)."""
    if _is_torch(x):
        if x.device.type != "cpu":
            x = x.cpu()
        return (x.detach() if x.requires_grad else x).numpy()
    return np.asarray(x)


def any_true(xp: Any, x: Array) -> bool:
    return bool(xp.any(x))


def cpu_torch(x: Array) -> bool:
    """True for a torch tensor on the CPU (numpy can view it without a copy)."""
    return _is_torch(x) and x.device.type == "cpu"


def host(x: Array) -> Array:
    """A zero-copy numpy view of a CPU torch tensor; any other array as it is. A decode
    step's small arrays are worked on through it: each numpy call on them costs a
    fraction of torch's, and writes through the view reach the tensor."""
    return x.numpy() if cpu_torch(x) and not x.requires_grad else x


def from_numpy_like(x: Array, like: Array) -> Array:
    """A numpy ``x`` as an array of ``like``'s library (zero copy for CPU torch), on the
    CPU; any other ``x`` as it is (the inverse of :func:`host`)."""
    if _is_torch(like) and isinstance(x, np.ndarray):  # torch is loaded: no wrapper
        return sys.modules["torch"].from_numpy(np.ascontiguousarray(x))
    return x


def supports_float64(xp: Any, like: Array) -> bool:
    """Whether ``like``'s device can hold float64 (Apple's MPS cannot); asked once per
    library and device type."""
    device = getattr(like, "device", None)
    key = (xp.__name__, getattr(device, "type", str(device)))
    if key not in _FLOAT64:
        try:
            xp.zeros(1, dtype=xp.float64, device=device)
            _FLOAT64[key] = True
        except (TypeError, RuntimeError):
            _FLOAT64[key] = False
    return _FLOAT64[key]


_FLOAT64: dict[tuple[str, str], bool] = {}
# CPU tensor dtypes max_argmax reduces by numpy (bfloat16 through a float32 copy)
_NUMPY_REDUCED = ("torch.float16", "torch.bfloat16", "torch.float32", "torch.float64")
_LONG_ROW = 256  # from this row length on, numpy reduces CPU tensors faster (max_argmax)


def max_argmax(xp: Any, x: Array) -> tuple[Array, Array]:
    """The maximum along the last axis and its index (the first one on ties; a NaN
    counts as the maximum, as in both libraries).

    Long rows of a CPU torch tensor are reduced by numpy through a zero-copy view (a
    bfloat16 tensor, which numpy cannot view, through an exact float32 copy): torch's CPU
    ``max(dim)`` and ``argmax`` are several times slower on vocabulary-wide rows
    (benchmarks/argmax_cpu.py); on short rows torch's own call is cheaper than the views.
    Both libraries return the same values and indices (tested)."""
    if x.shape[-1] >= _LONG_ROW and cpu_torch(x) and str(x.dtype) in _NUMPY_REDUCED:
        n = (x.float() if str(x.dtype) == "torch.bfloat16" else x).detach().numpy()
        index = n.argmax(axis=-1)
        values = xp.asarray(_at_index(n, index))
        return xp.astype(values, x.dtype, copy=False), xp.asarray(index)
    if _is_torch(x):
        values, index = x.max(dim=-1)
        return values, index
    index = xp.argmax(x, axis=-1)
    return _at_index(np.asarray(x), index), index


def _rows_at(x: np.ndarray, index: Array) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """x as rows (n, V) (a view when x is contiguous) and the flat fancy index of
    ``index[...]`` (x's shape without the last axis) in each row: on a decode step's small
    arrays a fraction of the cost of ``take_along_axis``'s generic index building."""
    rows = x.reshape(-1, x.shape[-1])
    return rows, (np.arange(rows.shape[0]), np.asarray(index).reshape(-1))


def _at_index(x: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``x[..., index]`` along the last axis (``index`` has x's shape without it)."""
    rows, at = _rows_at(x, index)
    return rows[at].reshape(index.shape)


def set_at(x: Array, index: Array, value: float) -> Array:
    """``x[..., index] = value`` in place along the last axis (``index`` has x's shape
    without the last axis); returns ``x``."""
    if _is_torch(x):
        return x.scatter_(-1, index[..., None], value)
    if not x.flags.c_contiguous:  # a reshape would copy, and the write would be lost
        np.put_along_axis(x, np.asarray(index)[..., None], value, axis=-1)
        return x
    rows, at = _rows_at(x, index)
    rows[at] = value
    return x


def nansum(xp: Any, x: Array) -> Array:
    """Sum along the last axis with NaN entries left out (numpy's and torch's nansum,
    absent from the array API standard)."""
    return xp.nansum(x, axis=-1)


def take_last(xp: Any, x: Array, index: Array) -> Array:
    """``take_along_axis(x, index, axis=-1)`` for 2-d ``x`` and ``index`` (rows, k),
    without the generic index building that dominates on the small arrays of a decode
    step."""
    if _is_torch(x):
        return x.gather(-1, index)
    if x.ndim != 2:
        return xp.take_along_axis(x, index, axis=-1)
    return x[np.arange(x.shape[0])[:, None], index]


def inverse_permutation(xp: Any, order: Array) -> Array:
    """The rank of every position: ``rank[..., order[..., j]] = j`` for permutations
    ``order`` (rows, m) along the last axis."""
    m = order.shape[-1]
    if _is_torch(order):
        ranks = xp.arange(m, dtype=order.dtype, device=order.device).expand(order.shape)
        return order.new_empty(order.shape).scatter_(-1, order, ranks)
    rank = np.empty_like(order)
    rank[np.arange(order.shape[0])[:, None], order] = np.arange(m, dtype=order.dtype)
    return rank


def at_least(xp: Any, x: Array, low: float) -> Array:
    """max(x, low) elementwise (NaN stays NaN), as ``clip(x, low, None)``."""
    if _is_torch(x):
        return x.clamp_min(low)
    return np.maximum(x, low)


def logsumexp(xp: Any, x: Array, m: Array | None = None) -> Array:
    """log sum exp along the last axis, relative to the row maximum m (any m = -inf row
    gives -inf): m + log sum exp(x - m). torch's fused reduction; the same formula in
    numpy, where a caller that has the row maxima passes them as ``m`` (one reduction
    fewer)."""
    if _is_torch(x):
        return x.logsumexp(dim=-1)
    if m is None:
        m = xp.max(x, axis=-1)
    shift = xp.where(m > -float("inf"), m, 0.0)
    with np.errstate(divide="ignore"):
        return shift + xp.log(np.add.reduce(xp.exp(x - shift[..., None]), axis=-1))
