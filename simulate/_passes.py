"""Left-to-right passes of a Markov chain over per-row windows, position-major.

A :class:`Window` lists, for each row, the positions lo+1 .. lo+W after a start state
(the known token at lo, or the virtual start V when lo = -1) and what each position is:
SUM (masked, summed out), CLAMP (known, or clamped to a given value) or MAX (maximised
over). Arrays are (W, rows) so that each position is one contiguous slice. Rows with a
shorter window are padded with SUM, which changes nothing: rows of every power of the
transition matrix sum to 1. ``T`` is the (V+1, V+1) transition matrix with the virtual
start state V, whose row is the start law pi and which is never re-entered; or a stack
(rows, V+1, V+1) of them, one chain per row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SUM, MAX, CLAMP = 0, 1, 2


@dataclass(frozen=True)
class Window:
    """Per-row windows. kind, tok, pos: (W, rows); start: (rows,)."""

    kind: np.ndarray
    tok: np.ndarray
    pos: np.ndarray
    start: np.ndarray


def make_window(x: np.ndarray, mask_id: int, V: int, lo: np.ndarray, width: np.ndarray,
                S: np.ndarray | None = None, treat: str = "sum",
                values: np.ndarray | None = None) -> Window:
    """The window of positions lo+1 .. lo+width of each row of states ``x`` (rows, N).

    Rows with lo = -1 start from the virtual start state V.
    Known tokens are CLAMP; masked positions are SUM, except those in ``S``, which are
    MAX (``treat="max"``), CLAMP to ``values`` (``"clamp"``) or SUM (``"sum"``).
    """
    rows, N = x.shape
    W = int(width.max(initial=0))
    pos = lo[None, :] + 1 + np.arange(W)[:, None]
    inside = np.arange(W)[:, None] < width[None, :]
    pos_c = np.clip(pos, 0, N - 1)
    r = np.arange(rows)[None, :]
    tok = x[r, pos_c]
    kind = np.where(inside & (tok != mask_id), CLAMP, SUM).astype(np.int8)
    if S is not None and treat != "sum":
        in_S = S[r, pos_c] & inside
        if treat == "max":
            kind[in_S] = MAX
        elif treat == "clamp" and values is not None:
            kind[in_S] = CLAMP
            tok = np.where(in_S, values[r, pos_c], tok)
        else:
            raise ValueError(f"unknown treatment {treat!r} (or clamp without values)")
    start = np.where(lo >= 0, x[np.arange(rows), np.clip(lo, 0, None)], V)
    return Window(kind=kind, tok=tok, pos=pos, start=start)


_CHUNK_FLOPS = 200_000  # OpenBLAS threads GEMMs above ~262k multiply-adds; stay below


def rowmatmul(a: np.ndarray, B: np.ndarray) -> np.ndarray:
    """a @ B for a tall ``a`` (rows, K), in row chunks small enough for one BLAS thread.

    Threaded GEMMs on tiny matrices are slower than one thread and erratic on a busy
    machine; chunking keeps each product single-threaded and the result deterministic.
    """
    rows = a.shape[0]
    step = max(1, _CHUNK_FLOPS // (B.shape[0] * B.shape[1]))
    if rows <= step:
        return a @ B
    out = np.empty((rows, B.shape[1]))
    for i in range(0, rows, step):
        np.matmul(a[i:i + step], B, out=out[i:i + step])
    return out


def forward(a: np.ndarray, T: np.ndarray) -> np.ndarray:
    """One step of the chain for every row: a @ T (rows, V1)."""
    if T.ndim == 2:
        return rowmatmul(a, T)
    return np.einsum("bi,bij->bj", a, T)


def backward(b: np.ndarray, T: np.ndarray) -> np.ndarray:
    """One step back for every row: T @ b, i.e. b @ T^T (rows, V1)."""
    if T.ndim == 2:
        return rowmatmul(b, T.T)
    return np.einsum("bj,bij->bi", b, T)


def carry(M: np.ndarray, T: np.ndarray) -> np.ndarray:
    """M @ T for a stack of matrices M (rows, V1, V1)."""
    rows, V1, _ = M.shape
    if T.ndim == 2:
        return rowmatmul(M.reshape(rows * V1, V1), T).reshape(rows, V1, V1)
    return np.matmul(M, T)


def evidence(w: Window, V1: int) -> np.ndarray:
    """(W, rows, V1) float: one-hot of the clamped token, ones where summed or maximised."""
    hit = np.arange(V1)[None, None, :] == w.tok[:, :, None]
    return (hit | (w.kind != CLAMP)[:, :, None]).astype(np.float64)


def _onehot(idx: np.ndarray, V1: int) -> np.ndarray:
    out = np.zeros((idx.shape[0], V1))
    out[np.arange(idx.shape[0]), idx] = 1.0
    return out


def forward_log(T: np.ndarray, w: Window) -> np.ndarray:
    """log P(all CLAMP positions of the window | start state), shape (rows,).

    MAX positions are summed here; use :func:`max_pass` to maximise over them.
    """
    V1 = T.shape[-1]
    a = _onehot(w.start, V1)
    log_z = np.zeros(a.shape[0])
    E = evidence(w, V1)
    for k in range(w.kind.shape[0]):
        a = forward(a, T) * E[k]
        s = a.sum(axis=1)
        with np.errstate(divide="ignore"):
            log_z += np.log(s)
        a /= np.where(s > 0, s, 1.0)[:, None]
    return log_z


def forward_backward(T: np.ndarray, w: Window) -> np.ndarray:
    """Posterior marginals of every window position, shape (W, rows, V1) float64."""
    V1 = T.shape[-1]
    W, rows = w.kind.shape
    E = evidence(w, V1)
    post = np.empty((W, rows, V1))
    a = _onehot(w.start, V1)
    for k in range(W):
        a = forward(a, T) * E[k]
        a /= a.sum(axis=1, keepdims=True)
        post[k] = a
    b = np.ones((rows, V1))
    for k in range(W - 1, -1, -1):
        q = post[k] * b
        post[k] = q / q.sum(axis=1, keepdims=True)
        if k > 0:
            b = backward(b * E[k], T)
            b /= b.sum(axis=1, keepdims=True)
    return post


def max_pass(T: np.ndarray, w: Window,
             backtrack: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """log max over the MAX positions of P(MAX and CLAMP positions | start), (rows,), and
    the maximiser (W, rows) int64 (-1 off the MAX positions) when ``backtrack``.

    Summing the positions between two anchors (CLAMP or MAX) multiplies their transition
    matrices, so the objective is a chain over the anchors with links T^d (d = distance):
    Viterbi over the anchors. The pass carries M[x_a, y] = (best mass with the last anchor
    at value x_a) x P(current = y | x_a), a (V1, V1) matrix per row: O(rows W V^3).
    """
    V1 = T.shape[-1]
    W, rows = w.kind.shape
    M = np.zeros((rows, V1, V1))
    M[np.arange(rows), w.start, w.start] = 1.0
    log_scale = np.zeros(rows)
    bp = np.zeros((W, rows, V1), np.int16) if backtrack else None
    prev = np.full((W, rows), -1, np.int64)
    last = np.full(rows, -1, np.int64)
    eye = np.eye(V1)[None, :, :]
    for k in range(W):
        M = carry(M, T)
        kind = w.kind[k]
        for which in (CLAMP, MAX):
            r = np.nonzero(kind == which)[0]
            if r.size == 0:
                continue
            if which == CLAMP:  # only the column of the clamped token matters
                tok = w.tok[k, r]
                col = M[r, :, tok]
                arg = col.argmax(axis=1)
                best = _onehot(tok, V1) * col[np.arange(r.size), arg][:, None]
                arg_all = np.broadcast_to(arg[:, None], (r.size, V1))
            else:
                Mr = M[r]
                arg_all = Mr.argmax(axis=1)
                best = np.take_along_axis(Mr, arg_all[:, None, :], axis=1)[:, 0]
            scale = best.max(axis=1)
            with np.errstate(divide="ignore"):  # 0 only for an impossible known token
                log_scale[r] += np.log(scale)
            best = best / np.where(scale > 0, scale, 1.0)[:, None]
            M[r] = best[:, :, None] * eye
            if bp is not None:
                bp[k, r] = arg_all
            prev[k, r] = last[r]
            last[r] = k
    m = M.sum(axis=2)  # rows of every power of T sum to 1: the tail adds nothing
    with np.errstate(divide="ignore"):
        log_value = np.log(m.max(axis=1)) + log_scale
    if bp is None:
        return log_value, None
    out = np.full((W, rows), -1, np.int64)
    cur = m.argmax(axis=1)
    at = last.copy()  # each row's current anchor, walking back
    while (at >= 0).any():
        r = np.nonzero(at >= 0)[0]
        kr = at[r]
        take = w.kind[kr, r] == MAX
        out[kr[take], r[take]] = cur[r[take]]
        cur[r] = bp[kr, r, cur[r]]
        at[r] = prev[kr, r]
    return log_value, out
