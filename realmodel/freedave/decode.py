"""FreeDave on a real model: lossless draft-and-verify in the one decode engine. [FreeDave]

The semantics are theory's (:mod:`theory.freedave`, docs/freedave.md) and the draft
nodes, terminal rule and path following are those of ``theory.FreeDave``; this module
supplies the oracle calls through the engine's own pieces (:meth:`Engine.forward`,
:meth:`Engine.profile`, :meth:`Engine.decide`), so the configured rule R's decoding and
FreeDave over R share one forward, one profile and one commit rule. R is any rule at
temperature 0 (static decoding is Quota(1)): the output equals R-decoding's token for
token (the first draft is R's own step; later drafts add the next position of R's
ranking), in no more calls.

Per block (blocks run in lockstep over the batch, as in the engine's static loop):

- prefix / dual cache (``refresh``): one call on every row's block-start state (the
  engine's refresh forward, which fills the cache); block-completing drafts are never
  evaluated. Cache none: one call on the initial state only; a block-completing draft
  is evaluated and its forward over the next block seeds that block.
- rounds: each row ranks its window by its known forward, builds the first K draft
  nodes (nested chain, or runner-up tree), and all rows' non-terminal drafts go into
  ONE call (:mod:`realmodel.freedave.verify`: replicated cache or tree attention).
  Each row then follows R's path through its drafts (t = S_R(cur) from cur's forward)
  and lands on the last draft reached; rows advance independently.

A row's calls (``SequenceResult.steps``) are the calls that carried a request of it;
for static decoding they equal :func:`theory.freedave.trace.predicted_calls` of its
static trace when the forward is deterministic and batch invariant (fp32 in practice;
measured in the tests). The batched ``calls`` are per block the maximum over rows.
Every move is a step of R whose forward is known, so a trace sink receives R's own
trace.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import torch
from torch import Tensor

from realmodel.engine import (
    DecodeConfig,
    DecodeState,
    Engine,
    Progress,
    StepByStep,
    StepRecord,
    TraceSink,
    synchronize,
)
from realmodel.engine.config import deterministic_reason
from realmodel.engine.prompts import DecodeResult, Prompt
from realmodel.freedave.auto import AutoWidth
from realmodel.freedave.predict import DRAFT_KINDS, predict_calls, static_trace
from realmodel.freedave.verify import verify_batch, verify_tree
from theory import Commit, Profile, Quota, Rule
from theory._xp import Array, from_numpy_like, host, namespace
from theory.freedave.auto import CallCost
from theory.freedave.core import ACCEPT_MODES, K_DRAFTS, DraftTree
from theory.freedave.core import FreeDave as TheoryFreeDave
from theory.freedave.rounds import RoundPlan, follow_path, plan_round
from theory.rules import llada_step_index

__all__ = ["VERIFY_MODES", "DRAFT_KINDS", "FreeDaveConfig", "FreeDaveRun", "FreeDaveBlocks",
           "check_config", "freedave_run", "freedave_decode", "predict_calls", "static_trace"]

VERIFY_MODES = ("batch", "tree-attention")


@dataclass(frozen=True)
class FreeDaveConfig:
    """K: states per verification call; draft: "nested" (the paper's chain), "tree"
    (runner-up siblings) or "stride" (drafts grow by the rule's own count); verify:
    "batch" or "tree-attention"; accept: "exact" (the rule's output) or "subset"
    (FreeDave++: every move commits a subset of the rule's set at its state).

    auto: compute-aware K (:mod:`realmodel.freedave.auto`): each round evaluates the
    width in 1..K that maximises expected steps per second, and a block that starts at
    width 1 runs the rule's own loop. cost: the call cost t(N) = fixed + per_state N
    (seconds) for auto; None measures it on the device."""

    K: int = 4
    draft: str = "nested"
    verify: str = "batch"
    accept: str = "exact"
    auto: bool = False
    cost: CallCost | None = None

    def __post_init__(self) -> None:
        K_DRAFTS.check(self.K)
        if not isinstance(self.auto, bool):
            raise ValueError(f"auto must be True or False, got {self.auto!r}")
        if self.cost is not None and not (self.auto and isinstance(self.cost, CallCost)):
            raise ValueError("a call cost is given only with auto=True, as a CallCost")
        if self.accept not in ACCEPT_MODES:
            raise ValueError(f"unknown acceptance {self.accept!r}; choose from "
                             f"{', '.join(ACCEPT_MODES)}")
        if self.draft not in DRAFT_KINDS:
            raise ValueError(f"unknown draft {self.draft!r}; choose from {', '.join(DRAFT_KINDS)}")
        if self.verify not in VERIFY_MODES:
            raise ValueError(f"unknown verify mode {self.verify!r}; choose from "
                             f"{', '.join(VERIFY_MODES)}")

    def theory(self, cache: str, rule: Rule | None = None) -> TheoryFreeDave:
        """The theory configuration with the same semantics for cache mode ``cache`` and
        the commit ``rule`` (default Quota(1), static decoding)."""
        return TheoryFreeDave(self.K, DraftTree(DRAFT_KINDS[self.draft]),
                              refresh=cache != "none", rule=rule or Quota(1),
                              accept=self.accept)


@dataclass(frozen=True)
class FreeDaveRun:
    """A decode result seen through FreeDave's counters, per sequence (prompt order):
    ``states`` evaluated and the tokens ``accepted`` by each round."""

    result: DecodeResult

    @property
    def states(self) -> list[int]:
        return [s.steps if s.states is None else s.states for s in self.result.sequences]

    @property
    def accepted(self) -> list[list[int]]:
        return [list(s.commits) for s in self.result.sequences]

    @property
    def total_states(self) -> int:
        return sum(self.states)


def check_config(config: DecodeConfig) -> None:
    """FreeDave reproduces the decoding of the configured rule: ValueError unless that
    decoding is deterministic (:func:`realmodel.engine.config.deterministic_reason`)."""
    reason = deterministic_reason(config.describe())
    if reason is not None:
        raise ValueError(f"FreeDave reproduces a deterministic decoding: {reason}")


# S_R(x)'s window, profile, commit, quota k (-1: none), runner-up (None: not needed)
_Step = tuple[Tensor, Profile, Commit, Tensor, Tensor | None]


def _take(step: _Step, a: int, b: int) -> _Step:
    """Rows [a, b) of a batched step."""
    window, profile, d, k, runner_up = step
    return (window[a:b], profile.take(slice(a, b)),
            Commit(n=d.n[a:b], mask=d.mask[a:b], order=d.order[a:b]), k[a:b],
            None if runner_up is None else runner_up[a:b])


@dataclass
class _Round:
    """One row's planned round and what the start state x's forward gave: S(x)'s window
    (``first``), the profile, commit and runner-up tokens of x (for the trace). The plan's
    drafts and ``first`` are host arrays (:func:`theory._xp.host`: numpy on a CPU)."""

    plan: RoundPlan
    first: Array
    profile: Profile
    decision: Commit
    k: Tensor
    runner_up: Tensor | None


class FreeDaveBlocks:
    """The FreeDave :class:`~realmodel.engine.Strategy`: ``Engine.run(..., strategy=
    FreeDaveBlocks(fd))`` decodes a batch with FreeDave instead of step by step."""

    def __init__(self, fd: FreeDaveConfig) -> None:
        self.fd = fd
        self.auto = AutoWidth(fd.K, fd.cost) if fd.auto else None

    def begin(self, engine: Engine, state: DecodeState, trace: TraceSink | None,
              progress: Progress | None) -> Callable[[], None]:
        check_config(engine.config)
        decoder = _Decoder(engine, self.fd, state, trace, progress, self.auto)
        auto = self.auto
        if auto is None:
            return decoder.block
        rule_block = StepByStep().begin(engine, state, trace, progress)

        def block() -> None:
            rows = int(engine.valid(state).any(-1).sum())
            if rows == 0:
                return
            if auto.ready():
                # the rule's own loop would recompute a forward FreeDave already has
                # (cache none: the previous block's last draft): width-1 rounds cost the same
                if auto.width(rows) > 1 or any(k is not None for k in decoder.known):
                    return decoder.block()
            rule_loop(rows)
            auto.probe(engine, state, rows)  # the first block: a second call size

        def rule_loop(rows: int) -> None:
            """The block by the rule's own loop, timed; there state.steps counts the
            rule's steps, which the trace records (a row's FreeDave calls are fewer)."""
            row_calls, calls = state.steps, state.calls
            state.steps = decoder.static_steps.clone()
            tic = time.perf_counter()
            rule_block()
            synchronize(state.x.device)
            seconds, n = time.perf_counter() - tic, state.calls - calls
            taken = state.steps - decoder.static_steps
            decoder.static_steps, state.steps = state.steps, row_calls + taken
            for _ in range(n):
                auto.observe_call(rows, seconds / n)
            states = state.states if state.states is not None else []
            for i, d in enumerate(taken.tolist()):
                states[i] += d
            for i in range(len(decoder.known)):
                decoder.set_known(i, None)
        return block


class _Decoder:
    """FreeDave over one batch of an :class:`Engine` (see the module docstring)."""

    def __init__(self, engine: Engine, fd: FreeDaveConfig, state: DecodeState,
                 trace: TraceSink | None, progress: Progress | None,
                 auto: AutoWidth | None = None) -> None:
        if fd.verify == "tree-attention" and not engine.denoiser.supports_cache:
            raise ValueError("--verify tree-attention needs paradec's LLaDA module")
        self.engine, self.fd, self.state = engine, fd, state
        self.theory = fd.theory(engine.config.cache, engine.config.rule)
        self.trace, self.progress, self.auto = trace, progress, auto
        B = state.x.shape[0]
        self.known: list[Tensor | None] = [None] * B  # window logits (W, V) of row's state
        self.known_step: list[_Step | None] = [None] * B  # S_R of row's state, if computed
        state.states = [0] * B
        self.static_steps = torch.zeros(B, dtype=torch.long, device=state.x.device)
        self.verify = verify_batch if fd.verify == "batch" else verify_tree
        # runner-up tokens: tree drafts use them, and the trace records them
        self.runner_ups = fd.draft == "tree" or trace is not None

    # -- the static step from a known forward -------------------------------------
    def set_known(self, i: int, logits: Tensor | None, step: _Step | None = None) -> None:
        """Row i's state has window logits ``logits`` (None: unknown) and, when already
        computed from them, the rule's step ``step``."""
        self.known[i], self.known_step[i] = logits, step

    def _masked(self, i: int) -> bool:
        lo, hi = self.state.window
        return bool((host(self.state.x)[i, lo:hi] == self.engine.specials.mask_id).any())

    def _step(self, owners: Sequence[int], window: Tensor, logits: Tensor) -> _Step:
        """S_R on windows (N, W) of states of rows ``owners`` (one per window) with logits
        (N, W, V), all in one profile and one commit: (S_R(x)'s windows, profile, commit,
        k, runner-up tokens or None). LLaDA's schedule (``--steps``) is a function of the
        state: its step index follows from the tokens the block has committed
        (:func:`theory.rules.llada_step_index`)."""
        valid = window == self.engine.specials.mask_id
        profile = self.engine.profile(self.state, logits, valid)
        schedule = None
        spb = self.engine.config.steps_per_block
        if spb is not None:
            m0 = [int(self.state.m0[i]) for i in owners]
            left = valid.sum(-1).tolist()
            schedule = m0, [llada_step_index(m, spb, m - n) for m, n in zip(m0, left,
                                                                             strict=True)]
        decision, k = self.engine.decide(self.state, profile, schedule)
        runner_up = self.engine.runner_up(logits, profile.tokens, valid) \
            if self.runner_ups else None
        return (self.engine.committed(window, profile, decision), profile, decision, k,
                runner_up)

    def _known_steps(self, rows: Sequence[int]) -> None:
        """Compute, in one batched step, S_R of every row in ``rows`` whose block has masks
        left and whose state's forward is known but its step is not."""
        rows = [i for i in rows if self.known[i] is not None and self.known_step[i] is None
                and self._masked(i)]
        if not rows:
            return
        lo, hi = self.state.window
        logits = torch.stack([self.known[i] for i in rows])  # type: ignore[misc]
        step = self._step(rows, self.state.x[rows, lo:hi], logits)
        for r, i in enumerate(rows):
            self.known_step[i] = _take(step, r, r + 1)

    def _record(self, i: int, profile: Profile, decision: Commit, k: Tensor, r: int,
                runner_up: Tensor | None, moved: Tensor) -> None:
        """Give the trace sink the step of row i (row r of profile / decision) that
        committed the window positions ``moved`` (W,) bool: the rule's own set in exact
        mode, a subset of it in subset mode. Counts the static step."""
        if self.trace is None:
            raise RuntimeError("a FreeDave step is recorded only for a trace (internal)")
        st = self.static_steps[i:i + 1].clone()
        self.static_steps[i] += 1
        s = self.state
        lo, _ = s.window
        d = decision
        rec = StepRecord(block=s.block, t=s.t, calls=s.calls, refresh=False,
                         window_start=lo - s.start, valid=profile.valid[r:r + 1],
                         profile=profile.take(slice(r, r + 1)),
                         commit=Commit(n=moved.sum()[None], mask=moved[None],
                                       order=d.order[r:r + 1]),
                         k=k[r:r + 1], row_steps=st,
                         runner_up=None if runner_up is None else runner_up[r:r + 1])
        self.trace.record(replace(s, rows=[s.rows[i]]), rec)

    # -- rounds -----------------------------------------------------------------------
    def _plan(self, i: int, K: int) -> _Round | None:
        """Row i's round of width K; rounds with nothing to evaluate are resolved at once.
        None when the row's block is done."""
        lo, hi = self.state.window
        mask_id = self.engine.specials.mask_id
        x = host(self.state.x)  # the round's small arrays on host views (engine.valid)
        while self._masked(i):
            self._known_steps([i])
            step = self.known_step[i]
            if step is None:
                raise RuntimeError("a round needs the forward of its start state (internal)")
            first, profile, decision, k, runner_up = step
            m = int(host(profile.valid).sum())
            choices = [profile.tokens[0]] if runner_up is None else \
                [profile.tokens[0], runner_up[0]]
            plan = plan_round(x[i, lo:hi], host(decision.order[0, :m]),
                              [host(c) for c in choices],
                              self.theory.tree.first(K, m, start=int(decision.n[0])),
                              mask_id, self.theory.refresh,
                              rest_masked=bool((x[i, hi:] == mask_id).any()))
            rnd = _Round(plan, host(first[0]), profile, decision, k, runner_up)
            if plan.evaluated:
                return rnd
            self._land(i, rnd, None, None)
        return None

    def _canvases(self, i: int, rnd: _Round) -> Tensor:
        """The evaluated drafts of row i's round as whole canvases (n, T)."""
        lo, hi = self.state.window
        x = host(self.state.x)
        drafts = namespace(x).stack([x[i]] * len(rnd.plan.evaluated))
        drafts[:, lo:hi] = rnd.plan.drafts[rnd.plan.evaluated]
        return from_numpy_like(drafts, self.state.x)

    def _land(self, i: int, rnd: _Round, logits: Tensor | None,
              drafted: _Step | None) -> list[int]:
        """Follow the static path through row i's drafts (theory.freedave.rounds) and move
        to the last draft reached, recording every static step on the way. ``logits``
        (n, C, V) and ``drafted`` (S_R of the n evaluated drafts, from one batched
        :meth:`_step` over all rows) are None when the round evaluated nothing. Returns
        the path (visited draft indices)."""
        plan, W = rnd.plan, self.state.block_length
        lo, hi = self.state.window
        targets = None if drafted is None else host(drafted[0])
        path = follow_path(plan, rnd.first, targets, accept=self.theory.accept,
                           mask_id=self.engine.specials.mask_id)
        mask_id = self.engine.specials.mask_id
        x = host(self.state.x)
        start = namespace(x).asarray(x[i, lo:hi], copy=True)
        if self.trace is None:  # nothing reads the moves, only the count of static steps
            host(self.static_steps)[i] += len(path)
        else:
            sources: list[tuple[Profile, Commit, Tensor, int, Tensor | None]] = [
                (rnd.profile, rnd.decision, rnd.k, 0, rnd.runner_up)]
            for n in path[:-1]:  # a draft moved through was evaluated: drafted is set
                if drafted is not None:
                    sources.append((*drafted[1:4], plan.evaluated.index(n), drafted[4]))
            before = start
            for source, n in zip(sources, path, strict=True):
                moved = (plan.drafts[n] != mask_id) & (before == mask_id)  # its commits
                self._record(i, *source, moved=from_numpy_like(moved, self.state.x))
                before = plan.drafts[n]
        landed = path[-1]
        x[i, lo:hi] = plan.drafts[landed]
        self.set_known(i, None)
        if logits is not None and landed in plan.evaluated and drafted is not None:
            j = plan.evaluated.index(landed)
            if not self._masked(i):  # the block is done: the forward seeds the next one
                self.set_known(i, logits[j, W:])
            else:  # the landed draft's step was computed with the others': keep it
                self.set_known(i, logits[j, :W], _take(drafted, j, j + 1))
        self.state.commits[i].append(len(path))
        if self.progress is not None:  # tokens committed by the round
            self.progress(int(((plan.drafts[landed] != mask_id) & (start == mask_id)).sum()))
        return path

    def _count(self, i: int, states: int) -> None:
        """Row i took part in one call with ``states`` states."""
        host(self.state.steps)[i] += 1
        if self.state.states is not None:
            self.state.states[i] += states

    def block(self) -> None:
        """Decode the active block of every row."""
        s, eng = self.state, self.engine
        needs = [i for i in range(s.x.shape[0]) if self._masked(i)]
        if any(self.known[i] is None for i in needs):  # refresh / first call on every row
            s.t = 0
            logits = eng.forward(s, refresh=True)
            for i in needs:
                self.set_known(i, logits[i])
                self._count(i, 1)
        s.t = 1
        lo, hi = s.window
        end = s.start + s.gen_length
        columns = (lo, min(hi + s.block_length, end)) if eng.config.cache == "none" \
            else (lo, hi)
        while True:
            tic = time.perf_counter()
            active = sum(self._masked(i) for i in needs)
            if active == 0:
                return
            K = self.fd.K if self.auto is None else self.auto.width(active)
            self._known_steps(needs)  # every row's start state in one step
            plans = {i: p for i in needs if (p := self._plan(i, K)) is not None}
            if not plans:
                return
            requests = [(i, self._canvases(i, p)) for i, p in plans.items()]
            logits = self.verify(eng, s, requests, columns)  # every draft, request order
            owners = [i for i, p in plans.items() for _ in p.plan.evaluated]
            windows = [p.plan.drafts[p.plan.evaluated] for p in plans.values()]
            drafted = self._step(owners, from_numpy_like(namespace(windows[0]).concat(windows),
                                                         s.x), logits[:, :s.block_length])
            at = 0
            for i, p in plans.items():
                size = len(p.plan.evaluated)
                self._count(i, size)
                path = self._land(i, p, logits[at:at + size], _take(drafted, at, at + size))
                at += size
                if self.auto is not None:
                    nodes = len(p.plan.nodes)
                    self.auto.gains.observe([n in path for n in range(nodes)],
                                            width=K)
            if self.auto is not None:
                synchronize(s.x.device)
                self.auto.observe_call(sum(len(p.plan.evaluated) for p in plans.values()),
                                       time.perf_counter() - tic)
            s.t += 1


def freedave_run(engine: Engine, fd: FreeDaveConfig, prompts: Sequence[Prompt],
                 rows: Sequence[int] | None = None, *, trace: TraceSink | None = None,
                 progress: Progress | None = None) -> FreeDaveRun:
    """Decode one batch of prompts with FreeDave; the output equals the rule's decoding."""
    return FreeDaveRun(engine.run(prompts, rows, trace=trace, progress=progress,
                                  strategy=FreeDaveBlocks(fd)))


def freedave_decode(engine: Engine, fd: FreeDaveConfig, prompts: Sequence[Prompt], *,
                    batch_size: int = 1, trace: TraceSink | None = None,
                    progress: Progress | None = None) -> FreeDaveRun:
    """:meth:`Engine.decode` with FreeDave, ``batch_size`` at a time, in prompt order."""
    return FreeDaveRun(engine.decode(prompts, batch_size=batch_size, trace=trace,
                                     progress=progress, strategy=FreeDaveBlocks(fd)))
