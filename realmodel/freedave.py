"""FreeDave on a real model: lossless draft-and-verify in the one decode engine. [FreeDave]

The semantics are theory's (:mod:`theory.freedave`, docs/freedave.md) and the draft
nodes, terminal rule and path following are those of ``theory.FreeDave``; this module
supplies the oracle calls through the engine's own pieces (:meth:`Engine.forward`,
:meth:`Engine.profile`, :meth:`Engine.decide`), so static decoding (Quota(1)) and
FreeDave share one forward, one profile and one commit rule.

Per block (blocks run in lockstep over the batch, as in the engine's static loop):

- prefix / dual cache (``refresh``): one call on every row's block-start state (the
  engine's refresh forward, which fills the cache); block-completing drafts are never
  evaluated. Cache none: one call on the initial state only; a block-completing draft
  is evaluated and its forward over the next block seeds that block.
- rounds: each row ranks its window by its known forward, builds the first K draft
  nodes (nested chain, or runner-up tree), and all rows' non-terminal drafts go into
  ONE call (:mod:`realmodel.freedave_verify`: replicated cache or tree attention).
  Each row then follows the static path through its drafts (t = S(cur) from cur's
  forward) and lands on the last draft reached; rows advance independently.

A row's calls (``SequenceResult.steps``) are the calls that carried a request of it;
they equal :func:`theory.freedave_trace.predicted_calls` of its static trace when the
forward is deterministic and batch invariant (fp32 in practice; measured in the tests).
The batched ``calls`` are per block the maximum over rows. Every move is a static step
whose forward is known, so a trace sink receives the static trace itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import torch
from torch import Tensor

from realmodel.engine import DecodeConfig, DecodeState, Engine, StepRecord, TraceSink, synchronize
from realmodel.freedave_predict import predict_calls, static_trace
from realmodel.freedave_verify import verify_batch, verify_tree
from realmodel.prompts import DecodeResult, Prompt
from theory import Commit, Profile, Quota
from theory.freedave_core import K_DRAFTS, DraftTree
from theory.freedave_core import FreeDave as TheoryFreeDave

__all__ = ["VERIFY_MODES", "DRAFT_KINDS", "FreeDaveConfig", "FreeDaveRun", "check_config",
           "freedave_run", "freedave_decode", "predict_calls", "static_trace"]

VERIFY_MODES = ("batch", "tree-attention")
DRAFT_KINDS = {"nested": "chain", "tree": "runner_up"}


@dataclass(frozen=True)
class FreeDaveConfig:
    """K: states per verification call; draft: "nested" (the paper's chain) or "tree"
    (runner-up siblings at depth >= 2); verify: "batch" or "tree-attention"."""

    K: int = 4
    draft: str = "nested"
    verify: str = "batch"

    def __post_init__(self) -> None:
        K_DRAFTS.check(self.K)
        if self.draft not in DRAFT_KINDS:
            raise ValueError(f"unknown draft {self.draft!r}; choose from {', '.join(DRAFT_KINDS)}")
        if self.verify not in VERIFY_MODES:
            raise ValueError(f"unknown verify mode {self.verify!r}; choose from "
                             f"{', '.join(VERIFY_MODES)}")

    def theory(self, cache: str) -> TheoryFreeDave:
        """The theory configuration with the same semantics for cache mode ``cache``."""
        return TheoryFreeDave(self.K, DraftTree(DRAFT_KINDS[self.draft]),
                              refresh=cache != "none")


@dataclass
class FreeDaveRun:
    """A decode result plus FreeDave's counters, per sequence (prompt order)."""

    result: DecodeResult
    states: list[int] = field(default_factory=list)
    accepted: list[list[int]] = field(default_factory=list)

    @property
    def total_states(self) -> int:
        return sum(self.states)


def check_config(config: DecodeConfig) -> None:
    """FreeDave reproduces static greedy decoding: Quota(1), temperature 0, no schedule."""
    if config.rule != Quota(1) or config.steps is not None:
        raise ValueError("FreeDave verifies static decoding: use the quota rule with k=1 and "
                         f"no --steps (got {config.rule.label()}, steps={config.steps})")
    if config.temperature != 0:
        raise ValueError(f"FreeDave needs temperature 0, got {config.temperature}")
    if config.stop_at_eos:
        raise ValueError("FreeDave does not support stop_at_eos (it changes the static step)")


@dataclass
class _Round:
    """One row's round: draft nodes, draft states (n, T), which are terminal, which are
    evaluated, and S(x) with the profile and commit of the start state x."""

    nodes: list[tuple[int, ...]]
    drafts: Tensor
    terminal: list[bool]
    keep: list[int]
    t: Tensor
    profile: Profile
    decision: Commit
    runner_up: Tensor  # (1, W): the start state's runner-up tokens (trace and tree drafts)


class _Decoder:
    """FreeDave over one batch of an :class:`Engine` (see the module docstring)."""

    def __init__(self, engine: Engine, fd: FreeDaveConfig, state: DecodeState,
                 trace: TraceSink | None, progress: Callable[[int], None] | None) -> None:
        cfg = engine.config
        if fd.verify == "tree-attention" and not engine.denoiser.supports_cache:
            raise ValueError("--verify tree-attention needs paradec's LLaDA module")
        self.engine, self.fd, self.state = engine, fd, state
        self.theory = fd.theory(cfg.cache)
        self.trace, self.progress = trace, progress
        B = state.x.shape[0]
        self.known: list[Tensor | None] = [None] * B  # window logits (W, V) of row's state
        self.calls, self.states = [0] * B, [0] * B
        self.accepted: list[list[int]] = [[] for _ in range(B)]
        self.static_steps = torch.zeros(B, dtype=torch.long, device=state.x.device)
        self.verify = verify_batch if fd.verify == "batch" else verify_tree

    # -- the static step from a known forward -------------------------------------
    def _window_valid(self, x: Tensor) -> Tensor:
        lo, hi = self.state.window
        return x[:, lo:hi] == self.engine.specials.mask_id

    def _step(self, x: Tensor, logits: Tensor) -> tuple[Tensor, Tensor, Profile, Commit]:
        """S(x) for states x (N, T) with window logits (N, W, V): (S(x), ranked order,
        profile, commit)."""
        lo, hi = self.state.window
        valid = self._window_valid(x)
        profile = self.engine.profile(self.state, logits, valid)
        decision, _ = self.engine.decide(self.state, profile)
        if bool((decision.mask & (profile.tokens == self.engine.specials.mask_id)).any()):
            raise ValueError("the model's prediction for a masked position is the mask token "
                             "itself; decode with forbid_mask=True (--forbid-mask)")
        out = x.clone()
        out[:, lo:hi] = torch.where(decision.mask, profile.tokens, x[:, lo:hi])
        return out, decision.order, profile, decision

    def _record(self, i: int, profile: Profile, decision: Commit, r: int,
                runner_up: Tensor) -> None:
        """Give the trace sink static step of row i (row r of profile / decision)."""
        st = self.static_steps[i:i + 1].clone()
        self.static_steps[i] += 1
        if self.trace is None:
            return
        s = self.state
        p = profile
        one = Profile(tokens=p.tokens[r:r + 1], c=p.c[r:r + 1], log_r=p.log_r[r:r + 1],
                      s=p.s[r:r + 1], H=p.H[r:r + 1], valid=p.valid[r:r + 1])
        d = decision
        com = Commit(n=d.n[r:r + 1], mask=d.mask[r:r + 1], order=d.order[r:r + 1])
        view = replace(s, rows=[s.rows[i]])
        lo, _ = s.window
        rec = StepRecord(block=s.block, t=s.t, calls=s.calls, refresh=False,
                         window_start=lo - s.start, valid=one.valid, profile=one, commit=com,
                         k=torch.full((1,), -1, dtype=torch.long), row_steps=st,
                         runner_up=runner_up[r:r + 1])
        self.trace.record(view, rec)

    # -- rounds -----------------------------------------------------------------------
    def _plan(self, i: int) -> _Round | None:
        """Row i's round: (nodes, drafts, terminal, evaluated index, start step); resolves
        rounds with nothing to evaluate at once. None when the block is done."""
        x = self.state.x[i:i + 1]
        while bool(self._window_valid(x).any()):
            logits = self.known[i]
            if logits is None:
                raise RuntimeError("a round needs the forward of its start state (internal)")
            t, order, profile, decision = self._step(x, logits[None])
            m = int(profile.valid.sum())
            ranked = order[0, :m].tolist()
            nodes = self.theory.nodes(m)
            runner_up = self.engine.runner_up(logits[None], profile.tokens)
            choices = [profile.tokens[0], runner_up[0]]
            lo, _ = self.state.window
            drafts = x.repeat(len(nodes), 1)
            for n, node in enumerate(nodes):
                for k, bit in enumerate(node):
                    drafts[n, lo + ranked[k]] = choices[bit][ranked[k]]
            open_ = (drafts == self.engine.specials.mask_id).any(-1).tolist()
            terminal = [len(node) == m and (self.theory.refresh or not open_[n])
                        for n, node in enumerate(nodes)]
            rnd = _Round(nodes, drafts, terminal,
                         [n for n, term in enumerate(terminal) if not term], t, profile, decision,
                         runner_up)
            if rnd.keep:
                return rnd
            self._land(i, rnd, None)
            x = self.state.x[i:i + 1]
        return None

    def _land(self, i: int, rnd: _Round, logits: Tensor | None) -> None:
        """Follow the static path through the drafts from row i's state; move there."""
        nodes, drafts, terminal, keep, t = rnd.nodes, rnd.drafts, rnd.terminal, rnd.keep, rnd.t
        # the forward of the state we move from
        source = (rnd.profile, rnd.decision, 0, rnd.runner_up)
        W = self.state.block_length
        row = {n: r for r, n in enumerate(keep)}
        targets: Tensor | None = None
        step: tuple[Profile, Commit, Tensor] | None = None
        if logits is not None:
            targets, _, dprof, dcom = self._step(drafts[keep], logits[:, :W])
            step = (dprof, dcom, self.engine.runner_up(logits[:, :W], dprof.tokens))
        cur, depth, landed = self.state.x[i], 0, -1
        while True:
            hit = [n for n, node in enumerate(nodes)
                   if len(node) == depth + 1 and torch.equal(drafts[n], t[0])]
            if not hit:
                break
            self._record(i, *source)
            cur, depth, landed = t[0], depth + 1, hit[0]
            if terminal[landed] or targets is None or step is None:
                break
            source = (step[0], step[1], row[landed], step[2])
            t = targets[row[landed]:row[landed] + 1]
        if depth < 1:
            raise RuntimeError("the first draft differs from the static step (internal error)")
        self.state.x[i] = cur
        self.known[i] = None
        if logits is not None and landed in row:
            full = logits[row[landed]]
            done = not bool(self._window_valid(cur[None]).any())
            self.known[i] = full[W:] if done else full[:W]
        self.accepted[i].append(depth)
        if self.progress is not None:
            self.progress(depth)

    def block(self) -> None:
        """Decode the active block of every row."""
        s, eng = self.state, self.engine
        needs = [i for i in range(s.x.shape[0]) if bool(self._window_valid(s.x[i:i + 1]).any())]
        if any(self.known[i] is None for i in needs):  # refresh / first call on every row
            s.t = 0
            logits = eng.forward(s)
            for i in needs:
                self.known[i] = logits[i]
                self.calls[i] += 1
                self.states[i] += 1
        s.t = 1
        lo, hi = s.window
        end = s.start + s.gen_length
        columns = (lo, min(hi + s.block_length, end)) if eng.config.cache == "none" \
            else (lo, hi)
        while True:
            plans = {i: p for i in needs if (p := self._plan(i)) is not None}
            if not plans:
                return
            requests = [(i, p.drafts[p.keep]) for i, p in plans.items()]
            outs = self.verify(eng, s, requests, columns)
            for (i, p), out in zip(plans.items(), outs, strict=True):
                self.calls[i] += 1
                self.states[i] += len(p.keep)
                self._land(i, p, out)
            s.t += 1


def freedave_run(engine: Engine, fd: FreeDaveConfig, prompts: Sequence[Prompt],
                 rows: Sequence[int] | None = None, *, trace: TraceSink | None = None,
                 progress: Callable[[int], None] | None = None) -> FreeDaveRun:
    """Decode one batch of prompts with FreeDave; the output equals static decoding's."""
    check_config(engine.config)
    state = engine.start(prompts, rows)
    decoder = _Decoder(engine, fd, state, trace, progress)
    synchronize(state.x.device)
    tic = time.perf_counter()
    with torch.no_grad():
        for block in range(engine.config.n_blocks):
            engine.begin_block(state, block)
            decoder.block()
    synchronize(state.x.device)
    wall = time.perf_counter() - tic
    state.steps = torch.tensor(decoder.calls, dtype=torch.long)
    state.commits = [list(a) for a in decoder.accepted]
    sequences = engine.results(state, prompts)
    if trace is not None:
        trace.end_batch(state, sequences)
    result = DecodeResult(sequences=sequences, calls=state.calls, wall_seconds=wall,
                          forward_seconds=state.forward_seconds)
    return FreeDaveRun(result, list(decoder.states), [list(a) for a in decoder.accepted])


def freedave_decode(engine: Engine, fd: FreeDaveConfig, prompts: Sequence[Prompt], *,
                    batch_size: int = 1, trace: TraceSink | None = None,
                    progress: Callable[[int], None] | None = None) -> FreeDaveRun:
    """:func:`freedave_run` over ``prompts``, ``batch_size`` at a time, in prompt order."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    parts = [freedave_run(engine, fd, prompts[lo:lo + batch_size],
                          range(lo, min(lo + batch_size, len(prompts))), trace=trace,
                          progress=progress)
             for lo in range(0, len(prompts), batch_size)]
    return FreeDaveRun(DecodeResult.merge([p.result for p in parts]),
                       [n for p in parts for n in p.states],
                       [a for p in parts for a in p.accepted])

