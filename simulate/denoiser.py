"""A coherent denoiser: exact conditionals of a Markov-chain language, batched over rows.

States are int arrays of shape (rows, N): token ids ``0..V-1`` where known, ``mask_id``
(default V) where masked. One call of :meth:`ChainDenoiser.marginals` plays the role of
a forward pass of a masked diffusion LM, except that its answers are exact:

* ``marginals``: P(x_i = v | known tokens) at every position, by scaled forward-backward
  in float64, O(rows N V^2); ``marginals_window`` gives a contiguous range of positions
  only, running from the last known token before it to the first known token after it
  (by the Markov property nothing outside changes the answer).
* ``joint_mode``: argmax over x_S of P(x_S | known tokens) for any set S of masked
  positions, the other masked positions summed out (marginal MAP). On a visible chain
  this is exact and cheap: summing the free positions between two anchors (known, or in
  S) multiplies transition matrices, so the objective is a chain over the anchors with
  links T^d, solved by Viterbi with the known tokens clamped: O(rows W V^3) over the
  window W from the last known token before S to the first known token after S.
  ``method="enumerate"`` is the slow twin (V^|S| clamped passes, refused above
  ``max_assignments``); :mod:`simulate.brute` enumerates the whole joint table.
* ``log_prob``: log P(x_S = given tokens | known tokens), a forward pass with S clamped,
  divided by one with S summed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from simulate import _passes
from simulate.chain import MarkovChain

__all__ = ["ChainDenoiser", "JointMode"]


@dataclass(frozen=True)
class JointMode:
    """Exact joint mode of a set of masked positions given the known tokens.

    Attributes:
        tokens: (rows, N) int64, the mode at the positions of S and -1 elsewhere.
        log_prob: (rows,) float64, log P(x_S = mode | known tokens); 0 where S is empty.
    """

    tokens: np.ndarray
    log_prob: np.ndarray


class ChainDenoiser:
    """Exact denoiser of the language defined by ``chain`` (module docstring).

    With a list of chains and ``model`` (rows,) int, row b follows ``chains[model[b]]``:
    many random worlds decoded in one batch. Such a denoiser answers only for its own
    rows; :meth:`take` selects a subset of them.

    >>> import numpy as np
    >>> from simulate.chain import MarkovChain
    >>> chain = MarkovChain(pi=[0.5, 0.5], T=[[0.9, 0.1], [0.2, 0.8]])
    >>> d = ChainDenoiser(chain)
    >>> p = d.marginals(np.array([[0, 2, 2]]))  # token 0 known, two masks (mask id 2)
    >>> np.round(p[0, 1], 12).tolist(), np.round(p[0, 2], 12).tolist()
    ([0.9, 0.1], [0.83, 0.17])
    >>> S = np.array([[False, True, True]])
    >>> m = d.joint_mode(np.array([[0, 2, 2]]), S)
    >>> m.tokens.tolist(), round(float(np.exp(m.log_prob[0])), 12)
    ([[-1, 0, 0]], 0.81)
    """

    def __init__(self, chain: MarkovChain | Sequence[MarkovChain],
                 model: np.ndarray | None = None, mask_id: int | None = None) -> None:
        chains = [chain] if isinstance(chain, MarkovChain) else list(chain)
        if not chains:
            raise ValueError("need at least one chain")
        V = chains[0].V
        if any(c.V != V for c in chains):
            raise ValueError("all chains must share one vocabulary size")
        self.chains = chains
        self.V = V
        self.mask_id = V if mask_id is None else int(mask_id)
        if 0 <= self.mask_id < V:
            raise ValueError(f"mask_id {self.mask_id} collides with a token id in 0..{V - 1}")
        T_aug = np.zeros((len(chains), V + 1, V + 1))  # state V: a virtual start before 0
        for i, c in enumerate(chains):
            T_aug[i, :V, :V] = c.T
            T_aug[i, V, :V] = c.pi
        if model is None:
            if len(chains) != 1:
                raise ValueError("several chains need ``model``: the chain of each row")
            self.model = None
            self._T = T_aug[0]
        else:
            model = np.asarray(model)
            if model.ndim != 1 or not np.issubdtype(model.dtype, np.integer) \
                    or (model < 0).any() or (model >= len(chains)).any():
                raise ValueError(f"model must be a (rows,) int array of indices into the "
                                 f"{len(chains)} chains")
            self.model = model.astype(np.int64)
            self._T = T_aug[self.model]

    @property
    def chain(self) -> MarkovChain:
        """The chain of a one-chain denoiser."""
        if len(self.chains) != 1:
            raise ValueError("this denoiser holds several chains; see ``chains``")
        return self.chains[0]

    def take(self, rows: np.ndarray) -> ChainDenoiser:
        """The denoiser of a subset of rows (itself when every row shares one chain)."""
        if self.model is None:
            return self
        return ChainDenoiser(self.chains, self.model[np.asarray(rows)], self.mask_id)

    def log_likelihood(self, x: np.ndarray, start: int = 0) -> np.ndarray:
        """log P(x[:, start:] | x[:, :start]) of complete sequences (rows, N), per row."""
        if self.model is None:
            return self.chain.log_likelihood(x, start)
        x = np.asarray(x)
        self._check_rows(x.shape[0])
        out = np.empty(x.shape[0])
        for i, c in enumerate(self.chains):
            r = self.model == i
            if r.any():
                out[r] = c.log_likelihood(x[r], start)
        return out

    def _check_rows(self, rows: int) -> None:
        if self.model is not None and rows != self.model.shape[0]:
            raise ValueError(f"this denoiser has one chain per row for {self.model.shape[0]} "
                             f"rows; got {rows} rows (use take(rows) for a subset)")

    # -- inputs ----------------------------------------------------------------------------
    def check_states(self, states: np.ndarray) -> np.ndarray:
        """Validate ``states`` (rows, N) int and return them as int64."""
        x = np.asarray(states)
        if x.ndim != 2 or x.shape[1] < 1:
            raise ValueError(f"states must have shape (rows, N) with N >= 1, got {x.shape}")
        if not np.issubdtype(x.dtype, np.integer):
            raise ValueError(f"states must be integer token ids, got dtype {x.dtype}")
        bad = ((x < 0) | (x >= self.V)) & (x != self.mask_id)
        if bad.any():
            raise ValueError(f"states hold ids outside 0..{self.V - 1} that are not the mask id "
                             f"{self.mask_id}: {np.unique(x[bad])[:5].tolist()}")
        self._check_rows(x.shape[0])
        return x.astype(np.int64, copy=False)

    def _check_subset(self, x: np.ndarray, subset: np.ndarray) -> np.ndarray:
        S = np.asarray(subset)
        if S.shape != x.shape or S.dtype != bool:
            raise ValueError(f"subset must be a bool array of shape {x.shape}, got "
                             f"{S.dtype} {S.shape}")
        if (S & (x != self.mask_id)).any():
            raise ValueError("subset contains positions that are not masked")
        return S

    def _known_before(self, x: np.ndarray, before: np.ndarray) -> np.ndarray:
        """Per row, the last known position < ``before`` (-1 if none)."""
        pos = np.arange(x.shape[1])[None, :]
        known = (x != self.mask_id) & (pos < before[:, None])
        return np.max(np.where(known, pos, -1), axis=1)

    def _known_after(self, x: np.ndarray, after: np.ndarray, default: np.ndarray) -> np.ndarray:
        """Per row, the first known position > ``after`` (``default`` if none)."""
        pos = np.arange(x.shape[1])[None, :]
        known = (x != self.mask_id) & (pos > after[:, None])
        return np.where(known.any(axis=1), np.argmax(known, axis=1), default)

    # -- marginals -------------------------------------------------------------------------
    def marginals(self, states: np.ndarray) -> np.ndarray:
        """P(x_i = v | known tokens), shape (rows, N, V) float64; one-hot at known positions.

        One call is one "forward pass" of the denoiser.
        """
        x = self.check_states(states)
        return self.marginals_window(x, np.zeros(x.shape[0], np.int64), x.shape[1])

    def marginals_window(self, states: np.ndarray, start: np.ndarray, width: int) -> np.ndarray:
        """The marginals of positions start_b .. start_b + width - 1 of each row b,
        shape (rows, width, V) float64, exactly as :meth:`marginals` would give them."""
        x = self.check_states(states)
        rows, N = x.shape
        start = np.asarray(start, np.int64)
        if start.shape != (rows,) or (start < 0).any() or (start + width > N).any():
            raise ValueError(f"need start of shape ({rows},) with 0 <= start <= N - width")
        lo = self._known_before(x, start)
        end = start + width - 1
        hi = self._known_after(x, end, end)
        w = _passes.make_window(x, self.mask_id, self.V, lo, hi - lo)
        post = _passes.forward_backward(self._T, w)
        k = (start - lo - 1)[:, None] + np.arange(width)[None, :]
        return post[k, np.arange(rows)[:, None], :self.V]

    def oracle(self, states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(argmax tokens, confidences), each (rows, N): the greedy view of one forward pass.

        Argmax ties go to the lowest token id; known positions return their token with
        confidence 1. Deterministic: the same states always give the same answer.
        """
        p = self.marginals(states)
        return np.argmax(p, axis=-1).astype(np.int64), np.max(p, axis=-1)

    # -- joint queries ---------------------------------------------------------------------
    def _subset_window(self, x: np.ndarray, S: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(lo, width): from the last known position before S to the first known position
        after S, or to the last position of S; width 0 where S is empty."""
        N = x.shape[1]
        has = S.any(axis=1)
        first = np.where(has, np.argmax(S, axis=1), 0)
        last = np.where(has, N - 1 - np.argmax(S[:, ::-1], axis=1), -1)
        lo = np.where(has, self._known_before(x, first), -1)
        hi = self._known_after(x, last, last)
        return lo, np.where(has, hi - lo, 0)

    def _log_evidence(self, x: np.ndarray, S: np.ndarray, lo: np.ndarray,
                      width: np.ndarray) -> np.ndarray:
        return _passes.forward_log(self._T, _passes.make_window(
            x, self.mask_id, self.V, lo, width, S, "sum"))

    def joint_mode(self, states: np.ndarray, subset: np.ndarray, method: str = "viterbi",
                   max_assignments: int = 65536) -> JointMode:
        """Exact argmax over x_S of P(x_S | known tokens), other masked positions summed out.

        Args:
            states: (rows, N) int, mask id at unknown positions.
            subset: (rows, N) bool, the positions S (all masked) of each row.
            method: ``"viterbi"`` (max-product over anchors, O(rows W V^3)) or
                ``"enumerate"`` (V^|S| clamped passes, the slow twin).
            max_assignments: ``enumerate`` refuses (ValueError) when V^|S| exceeds this.

        Ties go to the lowest token ids (Viterbi: earlier anchors first; enumeration:
        lexicographic); the mode's probability is exact either way.
        """
        x = self.check_states(states)
        S = self._check_subset(x, subset)
        lo, width = self._subset_window(x, S)
        log_norm = self._log_evidence(x, S, lo, width)
        if method == "viterbi":
            w = _passes.make_window(x, self.mask_id, self.V, lo, width, S, "max")
            log_best, inner = _passes.max_pass(self._T, w, True)
            mode = np.full(x.shape, -1, np.int64)
            if inner is not None and inner.size:
                hit = inner >= 0
                mode[np.nonzero(hit)[1], w.pos[hit]] = inner[hit]
        elif method == "enumerate":
            log_best, mode = self._enumerate(x, S, lo, width, max_assignments)
        else:
            raise ValueError(f"unknown method {method!r}; use 'viterbi' or 'enumerate'")
        empty = ~S.any(axis=1)
        return JointMode(tokens=mode, log_prob=np.where(empty, 0.0, log_best - log_norm))

    def log_prob(self, states: np.ndarray, subset: np.ndarray, tokens: np.ndarray) -> np.ndarray:
        """log P(x_S = tokens_S | known tokens), shape (rows,) float64; 0 where S is empty.

        ``tokens`` (rows, N) int supplies the values at the positions of ``subset``.
        """
        x = self.check_states(states)
        S = self._check_subset(x, subset)
        values = np.asarray(tokens)
        if values.shape != x.shape:
            raise ValueError(f"tokens must have shape {x.shape}, got {values.shape}")
        if ((values < 0) | (values >= self.V))[S].any():
            raise ValueError(f"tokens at the subset must lie in 0..{self.V - 1}")
        lo, width = self._subset_window(x, S)
        num = _passes.forward_log(self._T, _passes.make_window(
            x, self.mask_id, self.V, lo, width, S, "clamp", values.astype(np.int64)))
        return np.where(S.any(axis=1), num - self._log_evidence(x, S, lo, width), 0.0)

    def _enumerate(self, x: np.ndarray, S: np.ndarray, lo: np.ndarray, width: np.ndarray,
                   max_assignments: int) -> tuple[np.ndarray, np.ndarray]:
        """Slow twin of the max pass: all V^|S| assignments, lexicographic, first max."""
        k = int(S.sum(axis=1).max(initial=0))
        count = self.V ** k
        if count > max_assignments:
            raise ValueError(f"enumerating V^|S| = {self.V}^{k} = {count} assignments exceeds "
                             f"max_assignments = {max_assignments}; use method='viterbi'")
        rank = np.clip(np.cumsum(S, axis=1) - 1, 0, None)  # index of a position within S
        best = np.full(x.shape[0], -np.inf)
        mode = np.full(x.shape, -1, np.int64)
        place = self.V ** np.arange(k)[::-1]
        for a in range(count):
            digits = (a // place) % self.V
            values = np.where(S, digits[rank] if k else 0, -1)
            w = _passes.make_window(x, self.mask_id, self.V, lo, width, S, "clamp", values)
            logp = _passes.forward_log(self._T, w)
            better = logp > best
            best = np.where(better, logp, best)
            mode[better] = values[better]
        return best, mode
