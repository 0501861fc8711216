"""The pieces FreeDave is built from: oracle outputs, blocks, draft trees, one static step.

An *oracle* ``f`` is any deterministic function from a batch of states (int array
``(N, L)``; the mask id marks undecided positions) to an :class:`OracleOutput`: argmax
tokens and confidences at every position, optionally the stable log residual ``log_r``
(used for the ranking when given, exactly as :func:`theory.rules.sort_order` uses it)
and the runner-up token (needed by draft trees that branch on it). Callers only read
masked positions of the active window. Deterministic means: the same state gives the
same output whatever else is in the batch; every exactness statement here assumes it.

Cache modes fit this picture. With a prefix or dual cache, the forward of ``x`` uses
keys and values computed at the start of ``x``'s active block from the state with that
block and everything after it masked; that state is a function of ``x``, so the cached
forward is still a deterministic function of ``x``. What changes is that the forward of
a state which completes a block, computed inside a batch of the old block's drafts, is
not the refreshed forward the next block needs: :class:`FreeDave` ``refresh=True``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from theory import domains
from theory.profile import Profile
from theory.rules import Commit, Quota, Rule, commit, sort_order

__all__ = ["ACCEPT_MODES", "OracleOutput", "Oracle", "Blocks", "DraftTree", "FreeDave", "K_DRAFTS",
           "active_window", "rank_window", "rule_step", "static_step"]

ACCEPT_MODES = ("exact", "subset")
K_DRAFTS = domains.Integer("K", 1, meaning="draft width: states evaluated per oracle call")


def _int_array(x: object, name: str, ndim: int) -> np.ndarray:
    arr = np.asarray(x)
    if arr.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must hold integers, got dtype {arr.dtype}")
    return arr.astype(np.int64)


@dataclass(frozen=True)
class OracleOutput:
    """What one oracle call returns for ``N`` states of length ``L``.

    Attributes:
        tokens: (N, L) int64 argmax token per position.
        c: (N, L) float64 confidence of that token, in [0, 1].
        log_r: optional (N, L) log residual mass log(1 - c), computed stably by the
            caller; when given it decides the ranking (finer than ``c`` near 1).
        runner_up: optional (N, L) int64 second-best token (differs from ``tokens``).
        s: optional (N, L) runner-up probability (the tight rule reads it; default 0).
        H: optional (N, L) entropy in nats (the entropy rule reads it; default NaN).
    """

    tokens: np.ndarray
    c: np.ndarray
    log_r: np.ndarray | None = None
    runner_up: np.ndarray | None = None
    s: np.ndarray | None = None
    H: np.ndarray | None = None

    def __post_init__(self) -> None:
        tokens = _int_array(self.tokens, "tokens", 2)
        c = np.asarray(self.c, dtype=np.float64)
        if c.shape != tokens.shape:
            raise ValueError(f"c has shape {c.shape}, tokens have shape {tokens.shape}")
        if np.isnan(c).any() or (c < 0).any() or (c > 1).any():
            raise ValueError("confidences c must lie in [0, 1] (no NaN)")
        object.__setattr__(self, "tokens", tokens)
        object.__setattr__(self, "c", c)
        if self.log_r is not None:
            log_r = np.asarray(self.log_r, dtype=np.float64)
            if log_r.shape != tokens.shape or np.isnan(log_r).any() or (log_r > 0).any():
                raise ValueError("log_r must have the shape of tokens and lie in [-inf, 0]")
            object.__setattr__(self, "log_r", log_r)
        if self.runner_up is not None:
            u = _int_array(self.runner_up, "runner_up", 2)
            if u.shape != tokens.shape:
                raise ValueError(f"runner_up has shape {u.shape}, tokens {tokens.shape}")
            if (u == tokens).any():
                raise ValueError("runner_up must differ from the argmax token everywhere")
            object.__setattr__(self, "runner_up", u)
        for name, low in (("s", 0.0), ("H", 0.0)):
            value = getattr(self, name)
            if value is not None:
                arr = np.asarray(value, dtype=np.float64)
                if arr.shape != tokens.shape or np.isnan(arr).any() or (arr < low).any():
                    raise ValueError(f"{name} must have the shape of tokens, no NaN, >= {low}")
                object.__setattr__(self, name, arr)

    @property
    def key(self) -> np.ndarray:
        """The ranking key log r (ascending = most confident first), shape (N, L)."""
        if self.log_r is not None:
            return self.log_r
        with np.errstate(divide="ignore"):
            return np.log1p(-self.c)

    def rows(self, index: Sequence[int] | np.ndarray) -> OracleOutput:
        """The outputs of the states at ``index`` (a new OracleOutput)."""
        idx = np.asarray(index, dtype=np.int64)
        return OracleOutput(self.tokens[idx], self.c[idx],
                            *(None if x is None else x[idx]
                              for x in (self.log_r, self.runner_up, self.s, self.H)))


class Oracle(Protocol):
    """A deterministic forward: states (N, L) int -> :class:`OracleOutput` for N rows."""

    def __call__(self, states: np.ndarray) -> OracleOutput: ...


@dataclass(frozen=True)
class Blocks:
    """Semi-autoregressive blocks: block b covers ``[starts[b], starts[b+1])``, the
    last one runs to the end. Positions before ``starts[0]`` are the prompt and must
    never be masked. ``Blocks()`` is one block over the whole sequence.
    """

    starts: tuple[int, ...] = (0,)

    def __post_init__(self) -> None:
        starts = tuple(int(s) for s in self.starts)
        steps = np.diff(np.asarray(starts, dtype=np.int64))
        if not starts or starts[0] < 0 or (steps <= 0).any():
            raise ValueError(f"block starts must be non-empty, >= 0, increasing: {starts}")
        object.__setattr__(self, "starts", starts)

    @classmethod
    def uniform(cls, start: int, size: int, length: int) -> Blocks:
        """LLaDA blocks: prompt ``[0, start)``, then blocks of ``size`` up to ``length``."""
        if size < 1 or not 0 <= start < length:
            raise ValueError(f"need size >= 1 and 0 <= start < length, got size={size}, "
                             f"start={start}, length={length}")
        return cls(tuple(range(start, length, size)))

    def index(self, L: int) -> np.ndarray:
        """Block index of each of ``L`` positions, shape (L,) int64; -1 for the prompt."""
        return np.searchsorted(np.asarray(self.starts), np.arange(L), side="right") - 1


def active_window(states: np.ndarray, mask_id: int, blocks: Blocks) -> np.ndarray:
    """Masked positions of each row's active block (the first block holding a mask).

    Returns (N, L) bool; all False for a row without masks. Raises ValueError for a
    masked prompt position.
    """
    states = _int_array(states, "states", 2)
    blk = blocks.index(states.shape[1])
    masked = states == mask_id
    if (masked & (blk < 0)[None, :]).any():
        raise ValueError(f"a prompt position (before {blocks.starts[0]}) is masked")
    big = np.iinfo(np.int64).max
    active = np.where(masked, blk[None, :], big).min(axis=1)
    return masked & (blk[None, :] == active[:, None])


def _profile(out: OracleOutput, window: np.ndarray) -> Profile:
    shape = window.shape
    if out.tokens.shape != shape:
        raise ValueError(f"oracle returned shape {out.tokens.shape} for states of shape {shape}")
    return Profile(tokens=out.tokens, c=out.c, log_r=out.key,
                   s=np.zeros(shape) if out.s is None else out.s,
                   H=np.full(shape, np.nan) if out.H is None else out.H, valid=window)


def rank_window(states: np.ndarray, out: OracleOutput, mask_id: int,
                blocks: Blocks) -> tuple[np.ndarray, np.ndarray]:
    """Rank the active window of each state by the oracle's confidence.

    Returns ``(order, m)``: order (N, L) int64 positions, confidence descending and ties
    by lower position (:func:`theory.rules.sort_order`, the order every rule uses), with
    the ``m[i]`` masked window positions of row i first; m (N,) int64.
    """
    window = active_window(states, mask_id, blocks)
    order = np.asarray(sort_order(_profile(out, window)), dtype=np.int64)
    return order, window.sum(axis=1)


def rule_step(states: np.ndarray, out: OracleOutput, mask_id: int, blocks: Blocks,
              rule: Rule | None = None) -> tuple[np.ndarray, Commit]:
    """S_R(x): commit ``rule``'s set of the active window (default Quota(1)) to the argmax.

    ``commit(rule, profile)`` decides (one implementation of every rule); rows without
    masks are returned unchanged. Returns the new (N, L) int64 states and the Commit
    (its ``order`` is the rule's ranking of the window, its ``n`` the tokens committed).
    """
    states = _int_array(states, "states", 2)
    window = active_window(states, mask_id, blocks)
    decision = commit(Quota(1) if rule is None else rule, _profile(out, window))
    chosen = np.asarray(decision.mask, dtype=bool)
    if (out.tokens[chosen] == mask_id).any():
        raise ValueError(f"the oracle's argmax is the mask id {mask_id} at a committed position")
    return np.where(chosen, out.tokens, states), decision


def static_step(states: np.ndarray, out: OracleOutput, mask_id: int,
                blocks: Blocks) -> np.ndarray:
    """S(x): commit the top-1 masked position of the active window to its argmax
    (:func:`rule_step` with Quota(1)). Returns a new (N, L) int64 array."""
    return rule_step(states, out, mask_id, blocks)[0]


@dataclass(frozen=True)
class DraftTree:
    """Which draft states a round evaluates, as choice strings over the ranking.

    A node ``(c_1, ..., c_k)`` is the state x_j with the k top-ranked window positions
    committed, position i to F_j's argmax (c_i = 0) or runner-up (c_i = 1) token.
    ``kind="chain"``: nodes (0,), (0,0), ... (the paper's nested drafts).
    ``kind="runner_up"``: the spine plus, at every depth k >= 2, the sibling that takes
    the runner-up at rank k, in breadth-first order (0,), (0,0), (0,1), (0,0,0), ...
    ``nodes`` (explicit): a prefix-closed tuple of choice strings starting with 0.
    A round evaluates the first K nodes of depth <= m (m masked positions left). Over a
    rule that commits n_1 >= 1 tokens at x_j the nodes start at depth n_1 (d_1 = S_R(x_j))
    and grow one ranked position a node; runner-up siblings start below depth n_1.
    ``kind="stride"``: a chain that grows by n_1 positions a node (depths n_1, 2 n_1, ...,
    and m): it guesses that the rule keeps committing as many tokens a step. For static
    decoding (n_1 = 1) it is the chain.
    """

    kind: str = "chain"
    nodes: tuple[tuple[int, ...], ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in ("chain", "stride", "runner_up", "explicit"):
            raise ValueError(f"unknown draft tree kind {self.kind!r}")
        nodes = tuple(tuple(int(c) for c in n) for n in self.nodes)
        if (self.kind == "explicit") != bool(nodes):
            raise ValueError("give nodes exactly when kind='explicit'")
        seen = set(nodes)
        for n in nodes:
            if not n or n[0] != 0 or any(c not in (0, 1) for c in n):
                raise ValueError(f"node {n} must be a non-empty 0/1 string starting with 0")
            if len(n) > 1 and n[:-1] not in seen:
                raise ValueError(f"node {n} lacks its parent {n[:-1]} (tree not prefix-closed)")
        if len(seen) != len(nodes):
            raise ValueError("draft tree nodes repeat")
        object.__setattr__(self, "nodes", nodes)

    @property
    def uses_runner_up(self) -> bool:
        return self.kind == "runner_up" or any(1 in n for n in self.nodes)

    def first(self, K: int, m: int, start: int = 1) -> list[tuple[int, ...]]:
        """The first K nodes of depth in [start, m], parents before children."""
        if self.kind == "explicit":
            if start != 1:
                raise ValueError("an explicit draft tree needs a rule that commits one token "
                                 f"a step; this round starts at depth {start}")
            return [n for n in self.nodes if len(n) <= m][:K]
        if self.kind == "stride":
            depths = sorted({*range(start, m + 1, start), m}) if start <= m else []
            return [(0,) * d for d in depths][:K]
        out: list[tuple[int, ...]] = []
        for depth in range(start, m + 1):
            spine = (0,) * depth
            level = [spine] if self.kind == "chain" or depth == start else \
                [spine, spine[:-1] + (1,)]
            out.extend(level)
            if len(out) >= K:
                break
        return out[:K]


@dataclass(frozen=True)
class FreeDave:
    """FreeDave configuration. [FreeDave]

    Attributes:
        K: states evaluated per oracle call (draft width; the paper's ``draft_steps``).
        tree: which drafts (:class:`DraftTree`; default the paper's nested chain).
        refresh: True for cache modes that rebuild keys/values at every block start: a
            state completing a block is never evaluated inside a draft batch; the next
            block starts with one call on that state alone (the paper's code does the
            same refresh forward). False: one oracle, block-completing drafts seed the
            next block and only the fully decoded state is never evaluated.
        rule: the deterministic commit rule whose decoding is reproduced (default
            Quota(1): static decoding; any theory rule, read at temperature 0).
        accept: ``"exact"`` (move to the draft equal to the rule's step: the output is the
            rule's decoding) or ``"subset"`` (FreeDave++: move to the next draft whose
            commits the rule's step also makes, with the same tokens; every move then
            commits a subset of the rule's set at that state, see
            :func:`theory.freedave.rounds.follow_path`).
    Drafts never cross a block boundary (the paper's default; see docs/freedave.md).
    """

    K: int = 4
    tree: DraftTree = DraftTree()
    refresh: bool = False
    rule: Rule = Quota(1)
    accept: str = "exact"

    def __post_init__(self) -> None:
        object.__setattr__(self, "K", K_DRAFTS.check(self.K))
        if self.accept not in ACCEPT_MODES:
            raise ValueError(f"unknown acceptance {self.accept!r}; choose from "
                             f"{', '.join(ACCEPT_MODES)}")
        if not isinstance(self.tree, DraftTree):
            raise ValueError(f"tree must be a DraftTree, got {self.tree!r}")
        if not isinstance(self.rule, Rule):
            raise ValueError(f"rule must be a theory rule, got {self.rule!r}")

    def nodes(self, m: int, start: int = 1) -> list[tuple[int, ...]]:
        """Draft nodes of a round with m masked positions left in the active block, over a
        rule that commits ``start`` tokens at the round's state."""
        return self.tree.first(self.K, m, start)
