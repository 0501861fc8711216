"""FreeDave: lossless draft-and-verify decoding over a deterministic oracle. [FreeDave]

Static decoding S(x): one oracle call, commit the top-1 masked position of the active
block (confidence descending, ties by lower position) to its argmax. Static path
x_0, x_1 = S(x_0), ..., x_T (T masked tokens), T calls.

A FreeDave round from x_j with F_j = f(x_j) known ([FreeDave] Wu and Zhang, arXiv
2510.00294; docs/freedave.md "Algorithm"; one implementation in
:mod:`theory.freedave.rounds`):

1. drafts d_k = x_j with the top k positions of F_j's ranking set to F_j's argmax,
   k = 1..D, D = min(K, m_j) (m_j masks left in the block; nested, d_1 = x_{j+1});
   draft trees (:class:`~theory.freedave.core.DraftTree`) also branch on runner-ups;
2. one batched oracle call on every draft that is not *terminal* (the final state, or
   with ``refresh`` any block-completing state: its forward is never needed);
3. follow the static path through the drafts: t = S(cur) from cur's forward, and move
   to the draft equal to t while one exists. For the chain this is "accept
   b = largest b with t_k = d_{k+1} for all k < b";
4. the new state's forward is already known and seeds the next round (after a
   terminal landing with masks left, one call on that state alone: a block refresh).

Exactness (induction): the round starts on the static path; every move goes from a
state cur on the path to S(cur), so it stays on the path; hence the output equals
static decoding token for token. Each round commits b >= 1 tokens (d_1 = S(x_j)) and
costs at most one call, so calls <= T, with equality for K = 1.

Rows of a batch decode independently; each oracle call carries every row's requests,
so the number of calls is the maximum over rows of the per-row call counts.

Over any deterministic rule R (``FreeDave(rule=R)``; an extension of [FreeDave], as the
authors' later code drafts on top of threshold decoding): replace S by S_R, the rule's
step. d_1 = S_R(x_j) is read off F_j; d_{k+1} adds the next position of R's ranking
under F_j. The same induction shows the output equals R-decoding
(:func:`rule_decode`) token for token, with calls <= R's calls.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theory.freedave.core import (
    Blocks,
    FreeDave,
    Oracle,
    OracleOutput,
    _int_array,
    active_window,
    rule_step,
)
from theory.freedave.rounds import RoundPlan, follow_path, plan_round
from theory.freedave.trace import StaticStep, StaticTrace
from theory.rules import Rule

__all__ = ["DecodeRun", "rule_decode", "static_decode", "freedave_decode"]


@dataclass(frozen=True)
class DecodeRun:
    """Result of a decode of B rows.

    Attributes:
        x: (B, L) int64 final states.
        calls: batched oracle invocations.
        states: states evaluated in all calls together (compute cost).
        row_calls, row_states: the same per row (a row's share of the batched calls).
        accepted: per row, tokens committed by each round (static decoding: all 1).
        traces: per row the trace of the rule's decoding (``rule_decode`` and
            ``static_decode``; empty for FreeDave).
        moves: per row the states FreeDave moved through, x_j first, each move one
            step (``freedave_decode`` only): what the subset guarantee is about.
    """

    x: np.ndarray
    calls: int
    states: int
    row_calls: tuple[int, ...]
    row_states: tuple[int, ...]
    accepted: tuple[tuple[int, ...], ...]
    traces: tuple[StaticTrace, ...] = ()
    moves: tuple[tuple[np.ndarray, ...], ...] = ()


def _call(oracle: Oracle, states: np.ndarray) -> OracleOutput:
    out = oracle(states)
    if not isinstance(out, OracleOutput):
        raise ValueError(f"the oracle must return an OracleOutput, got {type(out).__name__}")
    if out.tokens.shape != states.shape:
        raise ValueError(f"oracle returned shape {out.tokens.shape} for states {states.shape}")
    return out


def _start(x0: np.ndarray, mask_id: int, blocks: Blocks) -> np.ndarray:
    x = _int_array(x0, "x0", 2).copy()
    active_window(x, mask_id, blocks)  # validates the prompt
    return x


def rule_decode(oracle: Oracle, x0: np.ndarray, *, mask_id: int, blocks: Blocks | None = None,
                rule: Rule | None = None) -> DecodeRun:
    """Decoding with ``rule`` (default Quota(1): static decoding) of every row.

    Each call evaluates every unfinished row's state once and commits the rule's set of
    its active block (:func:`~theory.freedave.core.rule_step`). ``accepted`` holds the
    tokens committed per step. The trace of row i records at each step the active block,
    its masked positions in the rule's ranking (for static decoding
    :func:`~theory.freedave.core.rank_window`'s), the oracle's argmax (and runner-up
    tokens when the oracle gives them) there, and how many the rule committed.
    """
    blocks = Blocks() if blocks is None else blocks
    x = _start(x0, mask_id, blocks)
    B, L = x.shape
    blk = blocks.index(L)
    steps: list[list[StaticStep]] = [[] for _ in range(B)]
    calls = 0
    while True:
        live = np.flatnonzero((x == mask_id).any(axis=1))
        if live.size == 0:
            break
        out = _call(oracle, x[live])
        calls += 1
        m = active_window(x[live], mask_id, blocks).sum(axis=1)
        x[live], decision = rule_step(x[live], out, mask_id, blocks, rule)
        order = np.asarray(decision.order)
        for n, i in enumerate(live):
            pos = order[n, :m[n]]
            steps[i].append(StaticStep(
                len(steps[i]), int(blk[pos[0]]), tuple(pos.tolist()),
                tuple(out.tokens[n, pos].tolist()), None if out.runner_up is None
                else tuple(out.runner_up[n, pos].tolist()), n=int(decision.n[n])))
    T = tuple(len(s) for s in steps)
    return DecodeRun(x, calls, sum(T), T, T, tuple(tuple(st.n for st in s) for s in steps),
                     tuple(StaticTrace(tuple(s)) for s in steps))


def static_decode(oracle: Oracle, x0: np.ndarray, *, mask_id: int,
                  blocks: Blocks | None = None) -> DecodeRun:
    """Static one-token-per-step decoding of every row, recording static traces
    (:func:`rule_decode` with Quota(1))."""
    return rule_decode(oracle, x0, mask_id=mask_id, blocks=blocks)


class _Row:
    """One sequence's FreeDave state machine (rounds, refreshes, counters)."""

    def __init__(self, x: np.ndarray, config: FreeDave, mask_id: int, blocks: Blocks):
        self.x = x
        self.fwd: OracleOutput | None = None  # the forward of x (one row), if known
        self.config, self.mask_id, self.blocks = config, mask_id, blocks
        self.calls = self.states = 0
        self.accepted: list[int] = []
        self.moves: list[np.ndarray] = [x.copy()]
        self.round: tuple[RoundPlan, np.ndarray] | None = None

    @property
    def done(self) -> bool:
        return not (self.x == self.mask_id).any()

    def request(self) -> np.ndarray | None:
        """States this row needs evaluated in the next call (None when finished).

        Rounds that evaluate nothing (only a terminal draft) are resolved here first.
        """
        while not self.done:
            if self.fwd is None:
                return self.x[None, :]
            self.round = self._drafts()
            plan = self.round[0]
            if plan.evaluated:
                return plan.drafts[plan.evaluated]
            self.receive(None)
        return None

    def _drafts(self) -> tuple[RoundPlan, np.ndarray]:
        """The round's plan and S_R(x), the rule's step from x (both from x's forward)."""
        fwd = self.fwd
        if fwd is None:
            raise RuntimeError("a round needs the forward of its start state (internal error)")
        first, decision = rule_step(self.x[None, :], fwd, self.mask_id, self.blocks,
                                    self.config.rule)
        m = int(active_window(self.x[None, :], self.mask_id, self.blocks).sum())
        choices = [fwd.tokens[0]]
        if self.config.tree.uses_runner_up:
            if fwd.runner_up is None:
                raise ValueError("this draft tree branches on runner-up tokens; the oracle "
                                 "returned runner_up=None")
            choices.append(fwd.runner_up[0])
        nodes = self.config.nodes(m, start=int(decision.n[0]))
        return plan_round(self.x, np.asarray(decision.order)[0, :m], choices, nodes,
                          self.mask_id, self.config.refresh), first[0]

    def _step(self, states: np.ndarray, out: OracleOutput) -> np.ndarray:
        return rule_step(states, out, self.mask_id, self.blocks, self.config.rule)[0]

    def receive(self, out: OracleOutput | None) -> None:
        """Take the outputs of this row's last request and finish the round."""
        self.calls += out is not None
        self.states += 0 if out is None else out.tokens.shape[0]
        if self.round is None:  # a refresh / initial call on x alone
            self.fwd = out
            return
        (plan, first), self.round = self.round, None
        targets = None  # S_R(d) of every evaluated draft, one batched step
        if out is not None:
            targets = self._step(plan.drafts[plan.evaluated], out)
        path = follow_path(plan, first, targets, accept=self.config.accept,
                           mask_id=self.mask_id)
        landed = path[-1]
        self.moves.extend(plan.drafts[n].copy() for n in path)
        row = plan.evaluated.index(landed) if landed in plan.evaluated else None
        self.x = plan.drafts[landed].copy()
        self.fwd = out.rows([row]) if out is not None and row is not None else None
        self.accepted.append(len(path))


def freedave_decode(oracle: Oracle, x0: np.ndarray, *, mask_id: int,
                    blocks: Blocks | None = None, config: FreeDave | None = None) -> DecodeRun:
    """Decode every row of ``x0`` with FreeDave; the output equals :func:`static_decode`'s.

    Every oracle call carries, for each unfinished row, either its drafts or (first
    call, block refresh) its current state alone; ``calls`` counts the invocations.
    """
    blocks = Blocks() if blocks is None else blocks
    config = FreeDave() if config is None else config
    x = _start(x0, mask_id, blocks)
    rows = [_Row(x[i].copy(), config, mask_id, blocks) for i in range(x.shape[0])]
    calls = 0
    while True:
        asks = [(row, req) for row in rows if (req := row.request()) is not None]
        if not asks:
            break
        batch = np.concatenate([req for _, req in asks], axis=0)
        out = _call(oracle, batch)
        calls += 1
        start = 0
        for row, req in asks:
            row.receive(out.rows(np.arange(start, start + req.shape[0])))
            start += req.shape[0]
    return DecodeRun(np.stack([row.x for row in rows]) if rows else x, calls,
                     sum(row.states for row in rows), tuple(row.calls for row in rows),
                     tuple(row.states for row in rows),
                     tuple(tuple(row.accepted) for row in rows),
                     moves=tuple(tuple(row.moves) for row in rows))
