"""A Markov-chain "language" over V tokens whose every conditional is known exactly.

A :class:`MarkovChain` is a homogeneous first-order chain: start distribution ``pi``
(V,) and transition matrix ``T`` (V, V), ``T[x, y] = P(x_{i+1} = y | x_i = x)``.
:func:`random_chain` draws one from a log-linear family with a dependence dial ``rho``:

    T[x, y] ∝ exp(beta (u_y + kappa W[x, y])),   kappa = rho / (1 - rho),

then mixed with eps of the uniform matrix. u (V,) and W (V, V) have independent
standard normal entries: u is the unigram preference, W the preference of each token
for its successor. Equivalently T ∝ exp(beta / (1 - rho) ((1 - rho) u + rho W)): rho is
the share of the pairwise term and also lowers the temperature. rho = 0 gives
independent positions with identical marginals (flat confidence profiles); as rho -> 1
each token nearly determines its successor (at rho = 1 the successor is argmax_y W[x, y]
with probability 1 - eps), so positions next to known tokens are confident and the rest
follow (heterogeneous profiles). ``beta`` sets how confident the marginals are. Token
rows differ in how sharply they predict, so a likely token may have a spread-out
successor while a less likely one has a sure successor: the funnels where the tuple of
marginal argmaxes stops being the joint mode. ``pi`` is the stationary law of ``T``:
every position has the same prior marginal, and a prompt drawn from the chain is
typical. The eps floor keeps every transition positive, so any partially known sequence
has positive probability and every conditional is defined.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theory.domains import PROBABILITY, Integer, Real

__all__ = ["MarkovChain", "random_chain", "stationary", "RHO"]

RHO = Real("rho", 0.0, 1.0, meaning="dependence dial: 0 independent, 1 nearly deterministic")
VOCAB = Integer("V", 2, meaning="vocabulary size")
BETA = Real("beta", 0.0, np.inf, low_open=True, high_open=True,
            meaning="inverse temperature of the chain's transitions")
_ROW_TOL = 1e-12


@dataclass(frozen=True, eq=False)
class MarkovChain:
    """A homogeneous Markov chain over tokens ``0..V-1``.

    Attributes:
        pi: (V,) float64 start distribution.
        T: (V, V) float64 row-stochastic transition matrix, ``T[x, y] = P(y | x)``.
    """

    pi: np.ndarray
    T: np.ndarray

    def __post_init__(self) -> None:
        pi, T = _real_array(self.pi, "pi"), _real_array(self.T, "T")
        if pi.ndim != 1 or pi.shape[0] < 2:
            raise ValueError(f"pi must have shape (V,) with V >= 2, got {pi.shape}")
        V = pi.shape[0]
        if T.shape != (V, V):
            raise ValueError(f"T must have shape (V, V) = {(V, V)}, got {T.shape}")
        for name, x in (("pi", pi), ("T", T)):
            if not np.all(np.isfinite(x)) or np.any(x < 0):
                raise ValueError(f"{name} must be finite and non-negative")
        if abs(pi.sum() - 1.0) > _ROW_TOL * V:
            raise ValueError(f"pi must sum to 1, sums to {pi.sum()!r}")
        worst = np.max(np.abs(T.sum(axis=1) - 1.0))
        if worst > _ROW_TOL * V:
            raise ValueError(f"rows of T must sum to 1 (worst deviation {worst:.3g})")
        pi.flags.writeable = False
        T.flags.writeable = False
        object.__setattr__(self, "pi", pi)
        object.__setattr__(self, "T", T)

    @property
    def V(self) -> int:
        return int(self.pi.shape[0])

    def sample(self, rows: int, length: int, rng: np.random.Generator) -> np.ndarray:
        """``rows`` independent sequences of ``length`` tokens, shape (rows, length) int64."""
        Integer("rows", 0).check(rows)
        Integer("length", 1).check(length)
        check_rng(rng)
        x = np.empty((rows, length), dtype=np.int64)
        cum_T = np.cumsum(self.T, axis=1)
        x[:, 0] = _draw(np.cumsum(self.pi)[None, :], rng.random(rows))
        for i in range(1, length):
            x[:, i] = _draw(cum_T[x[:, i - 1]], rng.random(rows))
        return x

    def log_likelihood(self, x: np.ndarray, start: int = 0) -> np.ndarray:
        """log P(x[:, start:] | x[:, :start]) for complete sequences x (rows, N) int.

        With ``start = 0`` this is the log-likelihood of the whole sequence; with
        ``start = P`` it is that of a continuation given a prompt of length P.
        """
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[1] < 1:
            raise ValueError(f"sequences must have shape (rows, N) with N >= 1, got {x.shape}")
        if x.min(initial=0) < 0 or x.max(initial=0) >= self.V:
            raise ValueError(f"tokens must lie in 0..{self.V - 1}")
        if not 0 <= start < x.shape[1]:
            raise ValueError(f"start must lie in 0..{x.shape[1] - 1}, got {start}")
        with np.errstate(divide="ignore"):
            log_T = np.log(self.T)
            total = np.log(self.pi[x[:, 0]]) if start == 0 else np.zeros(x.shape[0])
        lo = max(start, 1)
        return total + log_T[x[:, lo - 1:-1], x[:, lo:]].sum(axis=1)


def _draw(cum: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse-CDF draws: first index whose cumulative probability exceeds u."""
    idx = (cum <= u[:, None]).sum(axis=1)
    return np.minimum(idx, cum.shape[1] - 1)


def stationary(T: np.ndarray) -> np.ndarray:
    """The stationary law of a positive row-stochastic matrix (solves pi T = pi, sum 1)."""
    V = T.shape[0]
    A = np.vstack([T.T - np.eye(V), np.ones((1, V))])
    b = np.zeros(V + 1)
    b[-1] = 1.0
    pi = np.linalg.lstsq(A, b, rcond=None)[0]
    pi = np.clip(pi, 0.0, None)
    return pi / pi.sum()


def _real_array(x: object, name: str) -> np.ndarray:
    """A float64 copy of ``x``, or a ValueError naming ``name`` (ragged or not numbers)."""
    try:
        arr = np.array(x)
    except ValueError as err:
        raise ValueError(f"{name} must be a rectangular array: {err}") from None
    if arr.dtype.kind not in "iuf":
        raise ValueError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    return arr.astype(np.float64)


def check_rng(rng: object) -> np.random.Generator:
    """``rng`` itself, or a TypeError: randomness is an explicit numpy Generator."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), "
                        f"got {type(rng).__name__}")
    return rng


def random_chain(V: int, rho: float, rng: np.random.Generator, *, beta: float = 3.0,
                 eps: float = 1e-6) -> MarkovChain:
    """Draw a chain with dependence dial ``rho`` (module docstring gives the family).

    Args:
        V: vocabulary size (>= 2).
        rho: 0 = independent positions, 1 = each token fixes its successor.
        rng: source of u and W.
        beta: inverse temperature; larger = more confident marginals.
        eps: weight of the uniform matrix mixed in, so every transition is positive.

    >>> c = random_chain(4, 0.0, np.random.default_rng(0))
    >>> bool(np.allclose(c.T, c.T[0]))  # rho = 0: every row the same, positions independent
    True
    """
    V = VOCAB.check(V)
    rho = RHO.check(rho)
    beta = BETA.check(beta)
    eps = PROBABILITY.check(eps)
    if eps == 0.0:
        raise ValueError("eps must be > 0 so that every transition has positive probability")
    u = check_rng(rng).standard_normal(V)
    W = rng.standard_normal((V, V))
    if rho < 1.0:
        score = beta * (u[None, :] + (rho / (1.0 - rho)) * W)
        score = score - score.max(axis=1, keepdims=True)
        T = np.exp(score)
        T = T / T.sum(axis=1, keepdims=True)
    else:
        T = (np.arange(V)[None, :] == np.argmax(W, axis=1)[:, None]).astype(np.float64)
    T = (1.0 - eps) * T + eps / V
    T = T / T.sum(axis=1, keepdims=True)
    if rho == 0.0:  # rows identical: the stationary law is the row itself, exactly
        T = np.broadcast_to(T[0], (V, V)).copy()
        return MarkovChain(pi=T[0].copy(), T=T)
    return MarkovChain(pi=stationary(T), T=T)
