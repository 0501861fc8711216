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

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import torch
from torch import Tensor

from realmodel.engine import (
    DecodeConfig,
    DecodeState,
    Engine,
    Progress,
    StepRecord,
    TraceSink,
)
from realmodel.engine.config import deterministic_reason
from realmodel.engine.prompts import DecodeResult, Prompt
from realmodel.freedave.predict import DRAFT_KINDS, predict_calls, static_trace
from realmodel.freedave.verify import verify_batch, verify_tree
from theory import Commit, Profile, Quota, Rule
from theory.freedave.core import ACCEPT_MODES, K_DRAFTS, DraftTree
from theory.freedave.core import FreeDave as TheoryFreeDave
from theory.freedave.rounds import RoundPlan, follow_path, plan_round

__all__ = ["VERIFY_MODES", "DRAFT_KINDS", "FreeDaveConfig", "FreeDaveRun", "FreeDaveBlocks",
           "check_config", "freedave_run", "freedave_decode", "predict_calls", "static_trace"]

VERIFY_MODES = ("batch", "tree-attention")


@dataclass(frozen=True)
class FreeDaveConfig:
    """K: states per verification call; draft: "nested" (the paper's chain), "tree"
    (runner-up siblings) or "stride" (drafts grow by the rule's own count); verify:
    "batch" or "tree-attention"; accept: "exact" (the rule's output) or "subset"
    (FreeDave++: every move commits a subset of the rule's set at its state)."""

    K: int = 4
    draft: str = "nested"
    verify: str = "batch"
    accept: str = "exact"

    def __post_init__(self) -> None:
        K_DRAFTS.check(self.K)
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


@dataclass
class _Round:
    """One row's planned round and what the start state x's forward gave: S(x)'s window
    (``first``), the profile, commit and runner-up tokens of x (for the trace)."""

    plan: RoundPlan
    first: Tensor
    profile: Profile
    decision: Commit
    runner_up: Tensor


class FreeDaveBlocks:
    """The FreeDave :class:`~realmodel.engine.Strategy`: ``Engine.run(..., strategy=
    FreeDaveBlocks(fd))`` decodes a batch with FreeDave instead of step by step."""

    def __init__(self, fd: FreeDaveConfig) -> None:
        self.fd = fd

    def begin(self, engine: Engine, state: DecodeState, trace: TraceSink | None,
              progress: Progress | None) -> Callable[[], None]:
        check_config(engine.config)
        if engine.config.steps is not None:  # steps == gen_length: one token every step
            engine = Engine(engine.denoiser,
                            replace(engine.config, rule=Quota(1), steps=None))
        return _Decoder(engine, self.fd, state, trace, progress).block


class _Decoder:
    """FreeDave over one batch of an :class:`Engine` (see the module docstring)."""

    def __init__(self, engine: Engine, fd: FreeDaveConfig, state: DecodeState,
                 trace: TraceSink | None, progress: Progress | None) -> None:
        if fd.verify == "tree-attention" and not engine.denoiser.supports_cache:
            raise ValueError("--verify tree-attention needs paradec's LLaDA module")
        self.engine, self.fd, self.state = engine, fd, state
        self.theory = fd.theory(engine.config.cache, engine.config.rule)
        self.trace, self.progress = trace, progress
        B = state.x.shape[0]
        self.known: list[Tensor | None] = [None] * B  # window logits (W, V) of row's state
        state.states = [0] * B
        self.static_steps = torch.zeros(B, dtype=torch.long, device=state.x.device)
        self.verify = verify_batch if fd.verify == "batch" else verify_tree

    # -- the static step from a known forward -------------------------------------
    def _masked(self, i: int) -> bool:
        lo, hi = self.state.window
        return bool((self.state.x[i, lo:hi] == self.engine.specials.mask_id).any())

    def _step(self, window: Tensor, logits: Tensor) -> tuple[Tensor, Profile, Commit]:
        """S on windows (N, W) with logits (N, W, V): (S(x)'s windows, profile, commit)."""
        valid = window == self.engine.specials.mask_id
        profile = self.engine.profile(self.state, logits, valid)
        decision, _ = self.engine.decide(self.state, profile)
        return self.engine.committed(window, profile, decision), profile, decision

    def _record(self, i: int, profile: Profile, decision: Commit, r: int,
                runner_up: Tensor, moved: Tensor) -> None:
        """Give the trace sink the step of row i (row r of profile / decision) that
        committed the window positions ``moved`` (W,) bool: the rule's own set in exact
        mode, a subset of it in subset mode."""
        st = self.static_steps[i:i + 1].clone()
        self.static_steps[i] += 1
        if self.trace is None:
            return
        s = self.state
        lo, _ = s.window
        d = decision
        rec = StepRecord(block=s.block, t=s.t, calls=s.calls, refresh=False,
                         window_start=lo - s.start, valid=profile.valid[r:r + 1],
                         profile=profile.take(slice(r, r + 1)),
                         commit=Commit(n=moved.sum()[None], mask=moved[None],
                                       order=d.order[r:r + 1]),
                         k=torch.full((1,), -1, dtype=torch.long), row_steps=st,
                         runner_up=runner_up[r:r + 1])
        self.trace.record(replace(s, rows=[s.rows[i]]), rec)

    # -- rounds -----------------------------------------------------------------------
    def _plan(self, i: int) -> _Round | None:
        """Row i's round; rounds with nothing to evaluate are resolved at once. None when
        the row's block is done."""
        lo, hi = self.state.window
        mask_id = self.engine.specials.mask_id
        while self._masked(i):
            logits = self.known[i]
            if logits is None:
                raise RuntimeError("a round needs the forward of its start state (internal)")
            window = self.state.x[i:i + 1, lo:hi]
            first, profile, decision = self._step(window, logits[None])
            m = int(profile.valid.sum())
            runner_up = self.engine.runner_up(logits[None], profile.tokens)
            plan = plan_round(window[0], decision.order[0, :m],
                              [profile.tokens[0], runner_up[0]],
                              self.theory.nodes(m, start=int(decision.n[0])),
                              mask_id, self.theory.refresh,
                              rest_masked=bool((self.state.x[i, hi:] == mask_id).any()))
            rnd = _Round(plan, first[0], profile, decision, runner_up)
            if plan.evaluated:
                return rnd
            self._land(i, rnd, None)
        return None

    def _canvases(self, i: int, rnd: _Round) -> Tensor:
        """The evaluated drafts of row i's round as whole canvases (n, T)."""
        lo, hi = self.state.window
        drafts = self.state.x[i:i + 1].repeat(len(rnd.plan.evaluated), 1)
        drafts[:, lo:hi] = rnd.plan.drafts[rnd.plan.evaluated]
        return drafts

    def _land(self, i: int, rnd: _Round, logits: Tensor | None) -> None:
        """Follow the static path through row i's drafts (theory.freedave.rounds) and move
        to the last draft reached, recording every static step on the way."""
        plan, W = rnd.plan, self.state.block_length
        lo, hi = self.state.window
        targets, drafted = None, None
        sources = [(rnd.profile, rnd.decision, 0, rnd.runner_up)]
        if logits is not None:
            targets, dprof, dcom = self._step(plan.drafts[plan.evaluated], logits[:, :W])
            drafted = (dprof, dcom, self.engine.runner_up(logits[:, :W], dprof.tokens))
        path = follow_path(plan, rnd.first, targets, accept=self.theory.accept,
                           mask_id=self.engine.specials.mask_id)
        for n in path[:-1]:  # a draft moved through was evaluated: drafted is set
            if drafted is not None:
                sources.append((drafted[0], drafted[1], plan.evaluated.index(n), drafted[2]))
        mask_id = self.engine.specials.mask_id
        before = start = self.state.x[i, lo:hi].clone()
        for source, n in zip(sources, path, strict=True):
            moved = (plan.drafts[n] != mask_id) & (before == mask_id)  # this move's commits
            self._record(i, *source, moved=moved)
            before = plan.drafts[n]
        landed = path[-1]
        self.state.x[i, lo:hi] = plan.drafts[landed]
        self.known[i] = None
        if logits is not None and landed in plan.evaluated:
            full = logits[plan.evaluated.index(landed)]
            self.known[i] = full[W:] if not self._masked(i) else full[:W]
        self.state.commits[i].append(len(path))
        if self.progress is not None:  # tokens committed by the round
            self.progress(int(((plan.drafts[landed] != mask_id) & (start == mask_id)).sum()))

    def _count(self, i: int, states: int) -> None:
        """Row i took part in one call with ``states`` states."""
        self.state.steps[i] += 1
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
                self.known[i] = logits[i]
                self._count(i, 1)
        s.t = 1
        lo, hi = s.window
        end = s.start + s.gen_length
        columns = (lo, min(hi + s.block_length, end)) if eng.config.cache == "none" \
            else (lo, hi)
        while True:
            plans = {i: p for i in needs if (p := self._plan(i)) is not None}
            if not plans:
                return
            requests = [(i, self._canvases(i, p)) for i, p in plans.items()]
            outs = self.verify(eng, s, requests, columns)
            for (i, p), out in zip(plans.items(), outs, strict=True):
                self._count(i, len(p.plan.evaluated))
                self._land(i, p, out)
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
