"""Array-namespace helpers: one implementation of the math for numpy and torch.

The rules and confidence quantities are written against the array API standard
(through ``array_api_compat``), so the same code runs on numpy arrays and on torch
tensors on any device without copies. This module holds the few primitives the
standard lacks; it never imports torch itself.
"""

from __future__ import annotations

from typing import Any

import array_api_compat
import numpy as np

Array = Any  # an array of the array API standard (numpy.ndarray, torch.Tensor, ...)


def namespace(*arrays: Array) -> Any:
    """The array-API namespace of ``arrays`` (numpy for Python scalars and lists)."""
    arrays = tuple(np.asarray(a) if isinstance(a, (list, tuple, float, int)) else a
                   for a in arrays)
    return array_api_compat.array_namespace(*arrays)


def is_numpy(x: Array) -> bool:
    return array_api_compat.is_numpy_array(x)


def cummax(xp: Any, x: Array) -> Array:
    """Running maximum along the last axis (absent from the array API standard)."""
    if array_api_compat.is_torch_array(x):
        return x.cummax(dim=-1).values
    return xp.asarray(np.maximum.accumulate(np.asarray(x), axis=-1))


def float_dtype(xp: Any, x: Array, minimum_bits: int = 32) -> Any:
    """float64 for float64 input, else float32 (at least ``minimum_bits``)."""
    if x.dtype == xp.float64 or minimum_bits >= 64:
        return xp.float64
    return xp.float32


def to_numpy(x: Array) -> np.ndarray:
    """A numpy copy of ``x`` (moves torch tensors to the CPU)."""
    if array_api_compat.is_torch_array(x):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def any_true(xp: Any, x: Array) -> bool:
    return bool(xp.any(x))


def cpu_torch(x: Array) -> bool:
    """True for a torch tensor on the CPU (numpy can view it without a copy)."""
    return array_api_compat.is_torch_array(x) and x.device.type == "cpu"


def from_numpy_like(x: np.ndarray, like: Array) -> Array:
    """``x`` as an array of ``like``'s library (zero copy for CPU torch)."""
    if array_api_compat.is_torch_array(like):
        return array_api_compat.array_namespace(like).asarray(np.ascontiguousarray(x))
    return x


def supports_float64(xp: Any, like: Array) -> bool:
    """Whether ``like``'s device can hold float64 (Apple's MPS cannot)."""
    try:
        xp.zeros(1, dtype=xp.float64, device=getattr(like, "device", None))
        return True
    except (TypeError, RuntimeError):
        return False
