"""Toy deterministic oracles and random static traces for FreeDave's property tests.

Oracles (all deterministic functions of the state, batch-invariant):

- :class:`HashOracle`: pseudo-random logits seeded by a hash of the whole state, so
  the ranking is reshuffled after every commit (adversarial to drafting);
- :class:`ConsistentOracle`: a hidden target sequence and a hidden priority order,
  blurred by state-dependent noise; with ``noise = flip = 0`` every ranking predicts
  the rest of the static path exactly (long acceptance);
- :class:`LeftToRightAdversary`: the static path decodes left to right with token 0,
  while every forward predicts tokens 1 (argmax) and 2 (runner-up) away from the
  front, so no draft but d_1 is ever on the static path: every lossless
  draft-from-forwards algorithm needs T calls (see :mod:`theory.freedave.optimal`).

Traces: :func:`random_trace` draws a valid :class:`~theory.freedave.trace.StaticTrace`
directly (any trace is realised by a :class:`~theory.freedave.trace.TraceOracle`),
optionally *consistent* (hypotheses H1 and H2 of :mod:`theory.freedave.optimal`).
Hypothesis strategies over all of these are exported for users' own tests.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from theory.freedave.core import Blocks, OracleOutput
from theory.freedave.trace import StaticStep, StaticTrace
from theory.profile import profile_from_logits

__all__ = ["HashOracle", "ConsistentOracle", "LeftToRightAdversary", "random_trace",
           "toy_oracles", "decode_problems", "static_traces"]


def _state_seed(seed: int, y: np.ndarray) -> int:
    digest = hashlib.blake2b(np.int64(seed).tobytes() + y.astype(np.int64).tobytes(),
                             digest_size=8).digest()
    return int.from_bytes(digest, "little")


def _from_logits(logits: np.ndarray) -> OracleOutput:
    """Tokens, c, log_r, s, H via :func:`theory.profile.profile_from_logits`; runner-up
    too (so every rule, tight and entropy included, can decide on the output)."""
    p = profile_from_logits(logits, float64=True)
    tokens = np.asarray(p.tokens)
    rest = np.where(np.arange(logits.shape[-1]) == tokens[..., None], -np.inf, logits)
    return OracleOutput(tokens, np.asarray(p.c), np.minimum(np.asarray(p.log_r), 0.0),
                        np.argmax(rest, axis=-1), np.asarray(p.s),
                        np.maximum(np.asarray(p.H), 0.0))


class HashOracle:
    """Logits ``scale * N(0, 1)`` of shape (L, V), seeded by (seed, state)."""

    def __init__(self, V: int = 3, seed: int = 0, scale: float = 1.0) -> None:
        if V < 2:
            raise ValueError(f"need a vocabulary of V >= 2 tokens, got V={V}")
        self.V, self.seed, self.scale = V, seed, scale

    def __call__(self, states: np.ndarray) -> OracleOutput:
        logits = np.stack([np.random.default_rng(_state_seed(self.seed, y)).standard_normal(
            (states.shape[1], self.V)) * self.scale for y in states])
        return _from_logits(logits)

    def __repr__(self) -> str:
        return f"HashOracle(V={self.V}, seed={self.seed}, scale={self.scale})"


class ConsistentOracle:
    """Hidden target tokens and priorities, blurred by state-dependent noise.

    For position i of state y: the target token gets logit 3 + omega_i + noise * e_i(y)
    (omega_i a fixed N(0,1) priority, e_i(y) hashed N(0,1)); with probability ``flip``
    (hashed) the next token takes that logit instead. Other tokens get small fixed
    logits, so the runner-up is well defined.
    """

    def __init__(self, V: int = 3, seed: int = 0, noise: float = 0.0,
                 flip: float = 0.0) -> None:
        if V < 2 or noise < 0 or not 0 <= flip <= 1:
            raise ValueError(f"need V >= 2, noise >= 0, flip in [0, 1]; got {V}, {noise}, {flip}")
        self.V, self.seed, self.noise, self.flip = V, seed, noise, flip

    def __call__(self, states: np.ndarray) -> OracleOutput:
        N, L = states.shape
        hidden = np.random.default_rng([self.seed, L])
        target = hidden.integers(0, self.V, L)
        omega = hidden.standard_normal(L)
        base = hidden.standard_normal((L, self.V)) * 0.1
        logits = np.empty((N, L, self.V))
        for n, y in enumerate(states):
            rng = np.random.default_rng(_state_seed(self.seed, y))
            e, flips = rng.standard_normal(L), rng.random(L) < self.flip
            top = np.where(flips, (target + 1) % self.V, target)
            logits[n] = base
            logits[n, np.arange(L), top] = 3.0 + omega + self.noise * e
        return _from_logits(logits)

    def __repr__(self) -> str:
        return (f"ConsistentOracle(V={self.V}, seed={self.seed}, noise={self.noise}, "
                f"flip={self.flip})")


class LeftToRightAdversary:
    """Front position: token 0 (c = 0.9); others: argmax 1, runner-up 2, c < 0.5. The
    runner-up takes s = min(1 - c, c) and the rest of the mass is one more token, which
    fixes the entropy H (so every rule can decide on the output)."""

    mask_id_hint = -1

    def __init__(self, mask_id: int = -1) -> None:
        self.mask_id = mask_id

    def __call__(self, states: np.ndarray) -> OracleOutput:
        N, L = states.shape
        masked = states == self.mask_id
        front = np.where(masked.any(axis=1), np.argmax(masked, axis=1), -1)
        is_front = np.arange(L)[None, :] == front[:, None]
        c = np.where(is_front, 0.9, np.broadcast_to(0.5 * (1 - np.arange(L) / (L + 1)), (N, L)))
        s = np.minimum(1.0 - c, c)
        rest = np.clip(1.0 - c - s, 0.0, None)
        with np.errstate(divide="ignore", invalid="ignore"):
            H = -sum(np.where(p > 0, p * np.log(p), 0.0) for p in (c, s, rest))
        return OracleOutput(np.where(is_front, 0, 1), c, runner_up=np.where(is_front, 1, 2),
                            s=s, H=np.maximum(H, 0.0))

    def __repr__(self) -> str:
        return f"LeftToRightAdversary(mask_id={self.mask_id})"


def random_trace(rng: np.random.Generator, block_sizes: tuple[int, ...], *, V: int = 3,
                 consistent: bool = False, p_token: float = 0.8) -> StaticTrace:
    """A random valid static trace with the given number of masks per block.

    Static order: a random permutation within each block; static tokens uniform in
    [0, V). Step j ranks p_j first, then the block's other masked positions. Generic
    (``consistent=False``): random order, each predicted token equal to the static one
    with probability ``p_token``. Consistent: a random agreement length A(j) with
    A(j+1) >= A(j) - 1 (H2), the ranking follows the static order for A(j) ranks, and
    rank A(j)+1 carries a wrong token, so no longer prefix is on the path (H1).
    """
    if V < 3 or any(b < 1 for b in block_sizes):
        raise ValueError(f"need V >= 3 and block sizes >= 1, got {V}, {block_sizes}")
    offsets = np.cumsum((0,) + tuple(block_sizes))
    order = np.concatenate([rng.permutation(np.arange(a, b)) for a, b in
                            zip(offsets[:-1], offsets[1:], strict=True)]).astype(np.int64)
    tau = rng.integers(0, V, order.size)
    static_tok = dict(zip(order.tolist(), tau.tolist(), strict=True))
    steps, prev_A = [], 1
    for j, q in enumerate(order.tolist()):
        b = int(np.searchsorted(offsets, q, side="right") - 1)
        left = order[j:offsets[b + 1]].tolist()
        m = len(left)
        wrong: set[int] = set()
        if consistent:
            A = int(rng.integers(max(1, prev_A - 1), m + 1)) if j > offsets[b] else \
                int(rng.integers(1, m + 1))
            prev_A = A
            ranked = left[:A] + rng.permutation(left[A:]).tolist()
            if A < m:
                wrong.add(ranked[A])
        else:
            ranked = [q] + rng.permutation(left[1:]).tolist()
            wrong = {p for p in ranked[1:] if rng.random() > p_token}
        tokens = [(static_tok[p] + int(rng.integers(1, V))) % V if p in wrong else static_tok[p]
                  for p in ranked]
        runner = [(t + 1 + int(rng.integers(0, V - 1))) % V for t in tokens]
        steps.append(StaticStep(j, b, tuple(ranked), tuple(tokens), tuple(runner)))
    return StaticTrace(tuple(steps))


def toy_oracles(max_vocab: int = 4) -> Any:
    """Hypothesis strategy over the three toy oracle families (mask id -1)."""
    from hypothesis import strategies as st

    seeds = st.integers(0, 2**31 - 1)
    V = st.integers(2, max_vocab)
    return st.one_of(
        st.builds(HashOracle, V, seeds, st.sampled_from([0.5, 1.0, 4.0])),
        st.builds(ConsistentOracle, V, seeds, st.sampled_from([0.0, 0.1, 0.5, 2.0]),
                  st.sampled_from([0.0, 0.05, 0.3])),
        st.just(LeftToRightAdversary(-1)))


def decode_problems(max_length: int = 10, max_rows: int = 1) -> Any:
    """Hypothesis strategy for (x0 (B, L), blocks) with mask id -1 after a prompt."""
    from hypothesis import strategies as st

    @st.composite
    def problems(draw: Any) -> tuple[np.ndarray, Blocks]:
        L = draw(st.integers(1, max_length))
        P = draw(st.integers(0, L - 1))
        size = draw(st.integers(1, L - P))
        B = draw(st.integers(1, max_rows))
        masked = draw(st.lists(st.lists(st.booleans(), min_size=L - P, max_size=L - P),
                               min_size=B, max_size=B))
        fill = draw(st.integers(0, 2))
        x0 = np.full((B, L), fill, dtype=np.int64)
        x0[:, P:][np.array(masked, dtype=bool)] = -1
        return x0, Blocks.uniform(P, size, L)

    return problems()


def static_traces(max_T: int = 8, *, consistent: bool | None = None) -> Any:
    """Hypothesis strategy for random static traces (see :func:`random_trace`)."""
    from hypothesis import strategies as st

    @st.composite
    def traces(draw: Any) -> StaticTrace:
        sizes = draw(st.lists(st.integers(1, max_T), min_size=1, max_size=3).filter(
            lambda s: sum(s) <= max_T))
        flag = draw(st.booleans()) if consistent is None else consistent
        seed = draw(st.integers(0, 2**31 - 1))
        return random_trace(np.random.default_rng(seed), tuple(sizes), consistent=flag,
                            p_token=draw(st.sampled_from([0.5, 0.8, 1.0])))

    return traces()
