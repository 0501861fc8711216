"""Confidence quantities of one decoding step, batched (docs/theory.md, section 1).

A :class:`Profile` holds, for ``rows`` sequences and ``m`` masked positions of the
active window, the argmax token, the confidence ``c``, the log residual mass
``log_r`` (computed in log space, never as ``1 - c``), the runner-up probability
``s``, the entropy ``H`` in nats, and a ``valid`` mask for ragged rows. All arrays
have shape ``(rows, m)``; the same code serves numpy arrays and torch tensors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from theory._xp import (
    Array,
    float_dtype,
    logsumexp,
    max_argmax,
    namespace,
    nansum,
    set_at,
    supports_float64,
)

__all__ = ["Profile", "argmax_tokens", "profile_from_logits", "profile_from_probabilities",
           "profile_from_confidences"]

FIELDS = ("tokens", "c", "log_r", "s", "H", "valid")
_TOL = 1e-9  # slack for float rounding when checking s <= r and rows summing to 1


@dataclass(frozen=True)
class Profile:
    """Per-position confidence quantities of a batch of active windows.

    Attributes (all shape ``(rows, m)``):
        tokens: argmax token ids (int64), ties broken towards the lowest id.
        c: confidence p_i(x̂_i).
        log_r: log of the residual mass r_i = 1 - c_i, computed stably.
        s: runner-up probability (second largest entry of p_i), ``s <= r``.
        H: entropy of p_i in nats.
        valid: bool, False for padding positions of ragged rows.
    """

    tokens: Array
    c: Array
    log_r: Array
    s: Array
    H: Array
    valid: Array

    def __post_init__(self) -> None:
        shape = tuple(self.c.shape)
        if len(shape) != 2:
            raise ValueError(f"profile arrays must have shape (rows, m), got c.shape={shape}")
        for name in ("tokens", "log_r", "s", "H", "valid"):
            got = tuple(getattr(self, name).shape)
            if got != shape:
                raise ValueError(f"profile field {name} has shape {got}, expected {shape}")

    @property
    def r(self) -> Array:
        """Residual mass r = exp(log_r) = 1 - c."""
        xp = namespace(self.log_r)
        return xp.exp(self.log_r)

    @property
    def shape(self) -> tuple[int, int]:
        rows, m = self.c.shape
        return int(rows), int(m)

    def take(self, rows: Any) -> Profile:
        """The profile of ``rows`` (an integer index array, a slice or a bool mask)."""
        return Profile(**{name: getattr(self, name)[rows] for name in FIELDS})


def _check_array(x: Array, what: str) -> None:
    """TypeError unless ``x`` is a real (integer or floating) numpy array or torch tensor.

    Lists, bool, complex and object arrays are refused by name: a complex array would
    silently lose its imaginary part, a bool one is not a vector of scores.
    """
    dtype = getattr(x, "dtype", None)
    if dtype is None or not hasattr(x, "ndim"):
        raise TypeError(f"{what} must be a numpy array or torch tensor, got {type(x).__name__}")
    kind = getattr(dtype, "kind", None)  # numpy dtypes have a kind; torch dtypes do not
    if kind is not None:
        ok = kind in "iuf"
    else:
        ok = bool(dtype.is_floating_point) or str(dtype) in _TORCH_INTS
    if not ok:
        raise TypeError(f"{what} must hold real numbers (integer or floating dtype), "
                        f"got dtype {dtype}")


_TORCH_INTS = ("torch.uint8", "torch.int8", "torch.int16", "torch.int32", "torch.int64")


def _check_logits(xp: Any, logits: Array, top: Array, valid: Array | None = None) -> None:
    """ValueError for NaN, +inf or an all -inf position; ``top`` is the maximum over the
    vocabulary, which propagates NaN and is +inf or -inf exactly in the other two cases,
    so the common case costs no pass of its own. Only the ``valid`` positions are
    checked when given."""
    if valid is not None:
        top = xp.where(valid, top, 0.0)
    if bool(xp.all(xp.isfinite(top))):
        return
    if valid is not None:
        logits = logits[valid]  # (n, V): the checked positions
    if bool(xp.any(xp.isnan(logits))):
        raise ValueError("logits contain NaN")
    if bool(xp.any(logits == float("inf"))):
        raise ValueError("logits contain +inf")
    if bool(xp.any(xp.all(logits == -float("inf"), axis=-1))):
        raise ValueError("a position has all logits equal to -inf (no token has probability)")


def _default_valid(xp: Any, like: Array, valid: Array | None) -> Array:
    if valid is None:
        return xp.ones(like.shape, dtype=xp.bool, device=getattr(like, "device", None))
    if tuple(valid.shape) != tuple(like.shape):
        raise ValueError(f"valid has shape {tuple(valid.shape)}, expected {tuple(like.shape)}")
    return xp.astype(valid, xp.bool)


def argmax_tokens(logits: Array) -> Array:
    """The argmax token of each position of ``logits`` (..., V), the lowest id on ties:
    the tokens :func:`profile_from_logits` picks, for callers that need only them
    (numpy's reduction for a CPU tensor's long rows: torch's CPU argmax is several times
    slower there)."""
    _check_array(logits, "logits")
    return max_argmax(namespace(logits), logits)[1]


def profile_from_logits(logits: Array, valid: Array | None = None, *,
                        check: bool = True, float64: bool = True,
                        entropy: bool = True) -> Profile:
    """Confidence quantities from logits of shape ``(rows, m, V)``.

    With z1 the top logit (token x̂, the lowest id on ties) and d_i = z_i - z1, the
    residual is summed relative to the runner-up logit z2 = max_{i != x̂} z_i, so it stays
    finite and exact when every other probability underflows:

        log rest = (z2 - z1) + log sum_{i != x̂} exp(z_i - z2),   lse = log(1 + rest),
        c = exp(-lse),  log r = log rest - lse,  s = exp(z2 - z1 - lse),
        H = c lse + sum_{i != x̂} p_i (lse - d_i),   p_i = exp(d_i - lse).

    Computed in float64 by default (float32 with ``float64=False``, or on devices
    without float64), with every probability taken relative to the log-sum-exp, so
    ``r`` keeps full relative precision even when ``c`` rounds to 1. float64 matters
    for certificates: a float32 profile carries relative errors near 6e-8, enough to
    certify a prefix whose exact margin is negative (tests/theory/test_reference_rules).
    The maximum and argmax are taken on the widened copy (widening float logits is exact,
    so they are the logits' own), and the check shares that pass.
    The residual's log-sum-exp is one fused reduction (torch's ``logsumexp``: several
    times faster than an exp pass on a CPU in float64), the same whether or not H is
    asked for, so H never changes a decision. ``check`` rejects NaN, +inf and all -inf
    rows (it synchronises a GPU; the decode loop may turn it off); positions marked
    invalid are not checked (their quantities are computed all the same, from whatever
    they hold). ``entropy=False`` skips H (NaN, which the entropy-bound rule refuses):
    the pass over the vocabulary it costs is a third of the work, and only that rule and
    traces read H.

    >>> import numpy as np
    >>> p = profile_from_logits(np.log(np.array([[[0.7, 0.2, 0.1]]])))
    >>> int(p.tokens[0, 0]), round(float(p.c[0, 0]), 12), round(float(p.s[0, 0]), 12)
    (0, 0.7, 0.2)
    """
    _check_array(logits, "logits")
    xp = namespace(logits)
    if logits.ndim != 3:
        raise ValueError(f"logits must have shape (rows, m, V), got shape {tuple(logits.shape)}")
    if logits.shape[-1] < 1:
        raise ValueError("logits have an empty vocabulary axis (V = 0)")
    dtype = float_dtype(xp, logits, 64 if float64 and supports_float64(xp, logits) else 32)
    d = xp.astype(logits, dtype, copy=True)  # float logits widen exactly: the same order
    z1, tokens = max_argmax(xp, d)
    ok = _default_valid(xp, z1, valid)
    if check:
        _check_logits(xp, logits, z1, None if valid is None else ok)
    with np.errstate(over="ignore", invalid="ignore"):  # 1e308 - (-1e308) = -inf: p = 0
        d -= z1[..., None]  # in place: exactly 0 at the top
        d = set_at(d, tokens, -float("inf"))  # the top token leaves the residual
        z2 = xp.max(d, axis=-1)  # runner-up logit minus the top one (<= 0)
        log_rest = logsumexp(xp, d, z2)  # -inf when c = 1 exactly (r = 0)
        lse = xp.log1p(xp.exp(log_rest))  # sum exp(d) = 1 + rest; log1p keeps c near 1
        c = xp.exp(-lse)
        if entropy:  # p log p = 0 where p = 0: e = 0 there and 0 * inf = NaN is skipped
            e = xp.exp(d - lse[..., None])  # p_i of the others, 0 at the top
            d -= lse[..., None]
            d *= e
            H = c * lse - nansum(xp, d)
        else:
            H = xp.full(c.shape, float("nan"), dtype=dtype, device=getattr(c, "device", None))
    return Profile(tokens=xp.astype(tokens, xp.int64, copy=False), c=c, log_r=log_rest - lse,
                   s=xp.exp(z2 - lse), H=H, valid=ok)


def profile_from_probabilities(p: Array, valid: Array | None = None, *,
                               atol: float = 1e-6, check: bool = True) -> Profile:
    """Confidence quantities from marginals ``p`` of shape ``(rows, m, V)``.

    Each valid row must lie in [0, 1] and sum to 1 within ``atol``; exact zeros are
    fine (log 0 = -inf enters the log-space computation of
    :func:`profile_from_logits` without a warning). Positions marked invalid are not
    validated and are read as the uniform law, so padding may hold anything.
    ``check=False`` trusts every row to be a distribution and skips both (the
    simulator passes its own exact marginals).

    >>> import numpy as np
    >>> q = profile_from_probabilities(np.array([[[0.75, 0.25, 0.0]]]))
    >>> [round(float(x[0, 0]), 12) for x in (q.c, q.r, q.s)], round(float(q.H[0, 0]), 6)
    ([0.75, 0.25, 0.25], 0.562335)
    """
    _check_array(p, "marginals")
    xp = namespace(p)
    if p.ndim != 3:
        raise ValueError(f"marginals must have shape (rows, m, V), got shape {tuple(p.shape)}")
    if p.shape[-1] < 1:
        raise ValueError("marginals have an empty vocabulary axis (V = 0)")
    if check:
        ok = _default_valid(xp, p[..., 0], valid)
        p = xp.where(ok[..., None], p, xp.ones_like(p) / p.shape[-1])
        if bool(xp.any(xp.isnan(p))):
            raise ValueError("marginals contain NaN")
        if bool(xp.any(p < 0)) or bool(xp.any(p > 1)):
            raise ValueError("marginal probabilities must lie in [0, 1]")
        total = xp.sum(p, axis=-1)
        if not bool(xp.all(xp.abs(total - 1.0) <= atol)):
            worst = float(xp.max(xp.abs(total - 1.0)))
            raise ValueError(f"marginal rows must sum to 1 (worst deviation {worst:.3g} > {atol})")
    with np.errstate(divide="ignore"):
        logits = xp.log(p)
    return profile_from_logits(logits, valid, check=check, float64=True)


def profile_from_confidences(c: Array, s: Array | None = None, H: Array | None = None,
                             valid: Array | None = None) -> Profile:
    """A profile from confidences alone (float64), for certificates and replay.

    Without ``s`` the runner-up is taken as the worst case ``s = min(r, c)`` (all
    residual mass on one token, but no more than the top token's own probability, so
    c < 1/2 is fine), which makes the tight certificate equal Fréchet's when c >= 1/2. Without
    ``H`` the entropy is NaN and the entropy-bound rule refuses the profile.
    Tokens are unknown and set to -1.

    Raises ValueError for shapes that disagree, NaN, c outside [0, 1], s outside
    [0, r] or c < s, and negative H. A row with no valid position is allowed (a
    finished sequence: every rule commits 0 there).
    """
    c = _real64(c, "confidences c")
    if c.ndim == 1:
        c = c[None, :]
    if c.ndim != 2 or c.shape[1] == 0:
        raise ValueError(f"confidences must be a non-empty (rows, m) array, got shape {c.shape}")
    valid_arr = np.ones(c.shape, bool) if valid is None else _mask(valid)
    if valid_arr.ndim == 1:
        valid_arr = valid_arr[None, :]
    if valid_arr.shape != c.shape:
        raise ValueError(f"valid has shape {valid_arr.shape}, expected {c.shape}")
    cv = np.where(valid_arr, c, 0.5)
    if np.isnan(cv).any():
        raise ValueError("confidences contain NaN")
    if ((cv < 0) | (cv > 1)).any():
        raise ValueError(f"confidences must lie in [0, 1]; got {cv[(cv < 0) | (cv > 1)][:3]}")
    with np.errstate(divide="ignore"):
        log_r = np.log1p(-cv)
    r = np.exp(log_r)
    s_arr = np.minimum(r, cv) if s is None else _companion(s, c.shape, "s")
    s_arr = np.where(valid_arr, s_arr, 0.0)
    if not np.isfinite(s_arr).all():
        raise ValueError("runner-up probabilities s contain NaN or inf")
    if (s_arr < 0).any():
        raise ValueError("runner-up probabilities s must be >= 0")
    if (s_arr > cv + _TOL).any():
        raise ValueError("runner-up probability exceeds confidence (c < s): c must be the largest")
    if (s_arr > r + _TOL).any():
        raise ValueError("runner-up probability exceeds the residual mass (s > 1 - c)")
    s_arr = np.minimum(s_arr, r)
    H_arr = np.full(c.shape, np.nan) if H is None else _companion(H, c.shape, "H")
    if H is not None:
        Hv = np.where(valid_arr, H_arr, 0.0)
        if np.isnan(Hv).any():
            raise ValueError("entropies H contain NaN (leave H out when it is unknown)")
        if (Hv < 0).any() or np.isinf(Hv).any():
            raise ValueError("entropies H must be finite and >= 0")
    return Profile(tokens=np.full(c.shape, -1, np.int64), c=cv, log_r=log_r, s=s_arr,
                   H=H_arr, valid=valid_arr)


def _real64(x: Any, name: str) -> np.ndarray:
    """``x`` as a float64 numpy array, or a ValueError / TypeError naming ``name``."""
    if hasattr(x, "detach"):  # a torch tensor (theory never imports torch)
        x = x.detach().cpu()
        x = (x.double() if x.dtype.is_floating_point else x).numpy()  # bf16 has no numpy
    try:
        arr = np.asarray(x)
    except ValueError as err:  # ragged nested lists
        raise ValueError(f"{name} must be a rectangular array: {err}") from None
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    return arr.astype(np.float64)


def _mask(valid: Any) -> np.ndarray:
    if hasattr(valid, "detach"):
        valid = valid.detach().cpu().numpy()
    try:
        arr = np.asarray(valid)
    except ValueError as err:
        raise ValueError(f"valid must be a rectangular array: {err}") from None
    if arr.dtype.kind not in "biu":
        raise TypeError(f"valid must be a bool (or 0/1 integer) mask, got dtype {arr.dtype}")
    return arr.astype(bool)


def _companion(x: Array, shape: tuple[int, ...], name: str) -> np.ndarray:
    arr = _real64(x, name)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.shape != shape:
        raise ValueError(f"{name} has shape {arr.shape}, but the confidences have shape {shape}")
    return arr
