"""The one decode loop: rules, LLaDA blocks, KV caches, batches.

Sources: one decoding step and the commit rules as docs/theory.md sections 1 and 2 state
them; LLaDA's semi-autoregressive blocks [LLaDA]; prefix and dual KV caches as in
Fast-dLLM (Wu et al., arXiv 2505.22618); docs/realmodel.md "The decode engine".

Every configuration runs the same loop::

    for each block b:                          # LLaDA's semi-autoregressive schedule
        begin_block(state, b)
        while some row has a mask in the block:
            step(state):  forward -> profile -> decide -> apply

- ``forward`` is one model call on the part of the canvas the cache mode asks for: the
  whole canvas (cache none, and the first step of every block in prefix / dual mode,
  which refreshes the cache and also decodes that step, as in Fast-dLLM), or
  [block start, end) against the cached prefix (prefix), or the block against the cached
  prefix and suffix (dual). It returns the logits of the active window only.
- ``profile`` turns them into a :class:`theory.Profile` (temperature, EOS options).
- ``decide`` is ``theory.commit`` (the only implementation of every rule); LLaDA's
  quota schedule k_t = ``theory.llada_quota(m0, steps_per_block, t)`` per row.
- ``apply`` writes the committed tokens. Rows decide independently: a row with no mask
  left in the block (or stopped at EOS) commits nothing.

The pieces are public so that draft-and-verify (FreeDave) can wrap them: replicate a
:class:`DecodeState` along the batch, forward the drafts with one call, profile and
decide them, and pick the accepted state. How a block is decoded is a
:class:`Strategy` (default :class:`StepByStep`, the loop above; FreeDave supplies its
own), and :meth:`Engine.decode` is the one loop over batches: the library's ``decode``,
FreeDave, and the command line's resumed and sharded runs all go through it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

import torch
from torch import Tensor

from realmodel.engine.config import CACHE_MODES, DecodeConfig
from realmodel.engine.prompts import DecodeResult, Prompt, SequenceResult, build_canvas
from realmodel.engine.sampling import valid_rows, window_profile
from realmodel.model.cache import KVCache
from realmodel.model.denoiser import Denoiser
from theory import Commit, Profile, argmax_tokens, commit, commit_quotas, llada_quota
from theory._xp import from_numpy_like, host, namespace

__all__ = ["CACHE_MODES", "DecodeConfig", "DecodeState", "StepRecord", "Engine", "decode",
           "TraceSink", "Strategy", "StepByStep", "synchronize"]


@dataclass
class DecodeState:
    """A batch in the middle of decoding. Tensors are (B, T) or (B,) on the model's device.

    ``start``: first generated column P; ``block``/``t``: active block and step within it;
    ``m0``: masks of each row at the start of the block; ``steps``: steps at which each
    row committed (= its own forward calls); ``calls``: batched forward calls so far;
    ``states``: per row the states evaluated, when a strategy evaluates several per call
    (FreeDave; None: one per step); ``record``: a trace sink takes the steps (profiles
    then carry the entropy H and records the runner-up tokens, which nothing else
    reads unless the rule is the entropy bound).
    """

    x: Tensor
    key_ok: Tensor
    positions: Tensor
    start: int
    gen_length: int
    block_length: int
    rows: list[int]
    m0: Tensor
    steps: Tensor
    done: Tensor
    cache: KVCache | None = None
    generators: list[torch.Generator] | None = None
    commits: list[list[int]] = field(default_factory=list)
    states: list[int] | None = None
    record: bool = False
    block: int = 0
    t: int = 0
    calls: int = 0
    forward_seconds: float = 0.0

    @property
    def window(self) -> tuple[int, int]:
        """Canvas columns [lo, hi) of the active block."""
        lo = self.start + self.block * self.block_length
        return lo, lo + self.block_length

    def replicate(self, index: Tensor) -> DecodeState:
        """A state whose row i copies row ``index[i]`` (cache included; generators and
        per-row histories are shared by reference)."""
        idx = index.to(self.x.device)
        cpu = [int(i) for i in index.tolist()]
        return replace(self, x=self.x.index_select(0, idx),  # a copy
                       key_ok=self.key_ok.index_select(0, idx),
                       positions=self.positions.index_select(0, idx),
                       rows=[self.rows[i] for i in cpu], m0=self.m0.index_select(0, idx),
                       steps=self.steps.index_select(0, idx), done=self.done.index_select(0, idx),
                       cache=None if self.cache is None else self.cache.replicate(idx),
                       generators=None if self.generators is None else
                       [self.generators[i] for i in cpu],
                       commits=[self.commits[i] for i in cpu],
                       states=None if self.states is None else [self.states[i] for i in cpu])


@dataclass
class StepRecord:
    """What one step saw and did. (B, W) tensors over the active window; ``runner_up``
    only when the state is recorded (None otherwise)."""

    block: int
    t: int
    calls: int
    refresh: bool
    window_start: int
    valid: Tensor
    profile: Profile
    commit: Commit
    k: Tensor
    row_steps: Tensor
    runner_up: Tensor | None


class TraceSink(Protocol):
    """Where step records go (realmodel.trace.TraceWriter)."""

    def begin_batch(self, batch: int) -> None: ...

    def record(self, state: DecodeState, step: StepRecord) -> None: ...

    def end_batch(self, state: DecodeState, sequences: Sequence[SequenceResult]) -> None: ...


Progress = Callable[[int], None]


class Strategy(Protocol):
    """How the blocks of one batch are decoded: ``begin`` returns the function that
    decodes the active block of every row (called once per block, after
    :meth:`Engine.begin_block`). It keeps ``state.steps`` (each row's own forward calls)
    and ``state.commits`` (tokens per move) current, and gives ``trace`` the records."""

    def begin(self, engine: Engine, state: DecodeState, trace: TraceSink | None,
              progress: Progress | None) -> Callable[[], None]: ...


class StepByStep:
    """The rule's own loop: forward -> profile -> decide -> apply until the block is done."""

    def begin(self, engine: Engine, state: DecodeState, trace: TraceSink | None,
              progress: Progress | None) -> Callable[[], None]:
        def block() -> None:
            while bool(host(valid := engine.valid(state)).any()):
                record = engine.step(state, valid)
                n = int(host(record.commit.n).sum())
                if n == 0:
                    raise RuntimeError("a step committed nothing although masks remain")
                if trace is not None:
                    trace.record(state, record)
                if progress is not None:
                    progress(n)
        return block


def synchronize(device: torch.device) -> None:
    """Wait for queued device work (timings are taken only after this)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class Engine:
    """Decodes batches of prompts with one denoiser and one :class:`DecodeConfig`."""

    def __init__(self, denoiser: Denoiser, config: DecodeConfig) -> None:
        if config.cache != "none" and not denoiser.supports_cache:
            raise ValueError(f"cache mode {config.cache!r} needs a model with a KV cache "
                             "(paradec's LLaDA module); this model supports cache 'none'")
        self.denoiser, self.config = denoiser, config
        self.specials = denoiser.specials
        # logits of column c come from the network's output at c - logit_shift (Dream: 1)
        self.logit_shift = int(getattr(denoiser, "logit_shift", 0))

    # -- state -----------------------------------------------------------------------
    def start(self, prompts: Sequence[Prompt], rows: Sequence[int] | None = None
              ) -> DecodeState:
        cfg, dev = self.config, self.denoiser.device
        canvas = build_canvas(prompts, cfg.gen_length, self.specials,
                              self.denoiser.vocab_size, dev)
        B = len(prompts)
        rows = list(range(B)) if rows is None else [int(r) for r in rows]
        generators = None
        if cfg.temperature > 0:
            generators = [torch.Generator(device=dev).manual_seed(_row_seed(cfg.seed, r))
                          for r in rows]
        zeros = torch.zeros(B, dtype=torch.long, device=dev)
        return DecodeState(x=canvas.x, key_ok=canvas.key_ok, positions=canvas.positions,
                           start=canvas.start, gen_length=cfg.gen_length,
                           block_length=cfg.block_length, rows=rows, m0=zeros,
                           steps=zeros.clone(), done=torch.zeros(B, dtype=torch.bool,
                                                                 device=dev),
                           cache=self.denoiser.new_cache() if cfg.cache != "none" else None,
                           generators=generators, commits=[[] for _ in range(B)])

    def begin_block(self, state: DecodeState, block: int) -> None:
        state.block, state.t = block, 0
        state.m0 = self.valid(state).sum(-1)

    def valid(self, state: DecodeState) -> Tensor:
        """(B, W) bool: masked positions of the active window in rows still decoding.
        (The step's small arrays are worked on through :func:`theory._xp.host`: numpy
        views on the CPU.)"""
        lo, hi = state.window
        x, done = host(state.x), host(state.done)
        return from_numpy_like((x[:, lo:hi] == self.specials.mask_id) & ~done[:, None],
                               state.x)

    def refreshes(self, state: DecodeState) -> bool:
        """Whether the next step's forward runs on the whole canvas: always without a
        cache, else at the first step of a block (which refills the cache)."""
        return self.config.cache == "none" or state.t == 0 or state.cache is None \
            or not state.cache.filled

    # -- one step --------------------------------------------------------------------
    def forward(self, state: DecodeState, attend: Tensor | None = None,
                columns: tuple[int, int] | None = None, refresh: bool | None = None
                ) -> Tensor:
        """One model call; returns the logits (B, W, V) of the active window, or of the
        canvas ``columns`` [lo, hi) when given (FreeDave reads the next block too).
        ``refresh``: forward the whole canvas (and refill the cache); default
        :meth:`refreshes`. False inside a block uses the cache."""
        lo, hi = state.window
        c0, c1 = (lo, hi) if columns is None else columns
        T = state.x.shape[1]
        span: tuple[int, int] | None
        if refresh is None:
            refresh = self.refreshes(state)
        shift = self.logit_shift  # a shifted model predicts column c from column c - 1
        if refresh or self.config.cache == "none":
            q0, q1, span = 0, T, None
        elif state.cache is None or not state.cache.filled:
            raise RuntimeError("a forward inside a block needs a filled KV cache (refresh "
                               "first)")
        elif self.config.cache == "prefix":
            q0, q1, span = lo - shift, T, (lo - shift, T)
        else:
            q0, q1, span = lo - shift, hi, (lo - shift, hi)
        synchronize(state.x.device)
        tic = time.perf_counter()
        with torch.no_grad():
            logits = self.denoiser.forward(
                state.x[:, q0:q1], state.positions[:, q0:q1], key_ok=state.key_ok,
                attend=attend, cache=state.cache, span=span, head=(c0 - q0, c1 - q0))
        synchronize(state.x.device)
        state.forward_seconds += time.perf_counter() - tic
        state.calls += 1
        return logits

    def profile(self, state: DecodeState, logits: Tensor, valid: Tensor | None = None
                ) -> Profile:
        """The rule's view of the active window (see realmodel.engine.sampling.window_profile)."""
        valid = self.valid(state) if valid is None else valid
        gens = None
        if state.generators is not None:
            active = valid.any(-1).tolist()
            gens = [g if a else None for g, a in zip(state.generators, active, strict=True)]
        cfg = self.config
        if cfg.forbid_mask:
            logits = logits.clone()
            logits[..., self.specials.mask_id] = float("-inf")
        return window_profile(logits, valid, self.specials, temperature=cfg.temperature,
                              generators=gens, eos=cfg.eos, float64=cfg.float64,
                              check=cfg.check_logits,
                              entropy=state.record or cfg.rule.by_entropy)

    def runner_up(self, logits: Tensor, tokens: Tensor, valid: Tensor | None = None) -> Tensor:
        """(B, W) int64: the most likely token other than ``tokens`` (lowest id on ties),
        under the same EOS / mask exclusions as the profile; computed at the ``valid``
        positions only when given (0 elsewhere: nothing reads them)."""
        if valid is None:
            valid = torch.ones(tokens.shape, dtype=torch.bool, device=tokens.device)
        z, at = valid_rows(logits.detach(), valid)  # (n, V), a copy
        if self.config.eos == "forbid" and self.specials.eos_id is not None:
            z[:, self.specials.eos_id] = float("-inf")
        if self.config.forbid_mask:
            z[:, self.specials.mask_id] = float("-inf")
        chosen = tokens.reshape(-1).index_select(0, at)
        out = torch.zeros(tokens.numel(), dtype=torch.long, device=tokens.device)
        out[at] = argmax_tokens(z.scatter(-1, chosen[:, None], float("-inf")))
        return out.view(tokens.shape)

    def decide(self, state: DecodeState, profile: Profile,
               schedule: tuple[Sequence[int], Sequence[int]] | None = None
               ) -> tuple[Commit, Tensor]:
        """``theory.commit`` of the configured rule; k (B,) is the quota per row or -1.

        LLaDA's schedule reads each row's m0 and the block's step ``state.t``; a strategy
        that advances rows apart (FreeDave) gives per profile row ``schedule = (m0, t)``."""
        spb = self.config.steps_per_block
        B = profile.c.shape[0]
        if spb is None:
            k = torch.full((B,), -1, dtype=torch.long, device=profile.c.device)
            return commit(self.config.rule, profile), k
        m0s, ts = (state.m0.tolist(), [state.t] * B) if schedule is None else schedule
        if max(ts, default=0) >= spb:
            raise RuntimeError(f"block {state.block} still has masks after {spb} steps")
        quotas = [llada_quota(int(m), spb, int(t)) for m, t in zip(m0s, ts, strict=True)]
        k = torch.tensor(quotas, dtype=torch.long, device=profile.c.device)
        return commit_quotas(profile, k), k

    def committed(self, window: Tensor, profile: Profile, decision: Commit) -> Tensor:
        """The window (N, W) with the decision's positions set to the profile's tokens
        (the window's library: a tensor, or a numpy array for a host view)."""
        w, tokens, mask = host(window), host(profile.tokens), host(decision.mask)
        xp = namespace(w)
        if bool(xp.any(mask & (tokens == self.specials.mask_id))):
            raise ValueError("the model's prediction for a masked position is the mask token "
                             "itself; decode with forbid_mask=True (--forbid-mask)")
        return from_numpy_like(xp.where(mask, tokens, w), window)

    def apply(self, state: DecodeState, profile: Profile, decision: Commit) -> None:
        """Write committed tokens; count the step for every row that had work."""
        lo, hi = state.window
        x, steps = host(state.x), host(state.steps)  # writes reach the tensors
        x[:, lo:hi] = self.committed(x[:, lo:hi], profile, decision)
        active = host(profile.valid).any(-1)
        steps += active
        for i, (a, n) in enumerate(zip(active.tolist(), host(decision.n).tolist(),
                                       strict=True)):
            if a:
                state.commits[i].append(int(n))
        state.t += 1
        if self.config.stop_at_eos:
            self._stop_at_eos(state)

    def step(self, state: DecodeState, valid: Tensor | None = None) -> StepRecord:
        """forward -> profile -> decide -> apply, recorded; ``valid``: :meth:`valid` of
        the state when the caller has it."""
        lo, _ = state.window
        valid = self.valid(state) if valid is None else valid
        refresh = self.refreshes(state)
        row_steps = state.steps.clone()
        logits = self.forward(state)
        profile = self.profile(state, logits, valid)
        decision, k = self.decide(state, profile)
        record = StepRecord(block=state.block, t=state.t, calls=state.calls, refresh=refresh,
                            window_start=lo - state.start, valid=valid, profile=profile,
                            commit=decision, k=k, row_steps=row_steps,
                            runner_up=self.runner_up(logits, profile.tokens, valid)
                            if state.record else None)
        self.apply(state, profile, decision)
        return record

    def _stop_at_eos(self, state: DecodeState) -> None:
        ending = self.specials.ending()
        if not ending or self.specials.eos_id is None:
            raise ValueError("stop_at_eos needs a model with an EOS token")
        P, L = state.start, state.gen_length
        gen = state.x[:, P:P + L]
        is_end = torch.isin(gen, torch.tensor(ending, device=gen.device))
        masked = gen == self.specials.mask_id
        col = torch.arange(L, device=gen.device)
        first = torch.where(is_end, col, L).amin(-1)
        clear = ~(masked & (col < first[:, None])).any(-1)
        stop = (first < L) & clear & ~state.done
        if bool(stop.any()):
            fill = stop[:, None] & masked & (col > first[:, None])
            state.x[:, P:P + L] = torch.where(fill, self.specials.eos_id, gen)
            state.done |= stop

    # -- whole batches -------------------------------------------------------------
    def run(self, prompts: Sequence[Prompt], rows: Sequence[int] | None = None, *,
            trace: TraceSink | None = None, progress: Progress | None = None,
            strategy: Strategy | None = None) -> DecodeResult:
        """Decode one batch (all prompts together) with ``strategy`` (default
        :class:`StepByStep`) and return its results."""
        state = self.start(prompts, rows)
        state.record = trace is not None
        device = state.x.device
        synchronize(device)
        tic = time.perf_counter()
        with torch.no_grad():
            block = (strategy or StepByStep()).begin(self, state, trace, progress)
            for b in range(self.config.n_blocks):
                self.begin_block(state, b)
                block()
        synchronize(device)
        wall = time.perf_counter() - tic
        sequences = self.results(state, prompts)
        if trace is not None:
            trace.end_batch(state, sequences)
        return DecodeResult(sequences=sequences, calls=state.calls, wall_seconds=wall,
                            forward_seconds=state.forward_seconds)

    def decode(self, prompts: Sequence[Prompt], *, batch_size: int = 1,
               batches: Sequence[int] | None = None, trace: TraceSink | None = None,
               progress: Progress | None = None, strategy: Strategy | None = None
               ) -> DecodeResult:
        """Decode ``prompts`` ``batch_size`` at a time, results in prompt order: the one
        loop over batches. ``batches`` picks batch indices (a resumed or sharded run);
        ``trace.begin_batch(b)`` is called before batch b."""
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
        n_batches = -(-len(prompts) // batch_size)
        batches = range(n_batches) if batches is None else batches
        parts = []
        for b in batches:
            if not 0 <= b < n_batches:
                raise ValueError(f"batch {b} does not exist ({n_batches} batches)")
            lo = b * batch_size
            chunk = prompts[lo:lo + batch_size]
            if trace is not None:
                trace.begin_batch(b)
            parts.append(self.run(chunk, range(lo, lo + len(chunk)), trace=trace,
                                  progress=progress, strategy=strategy))
        return DecodeResult.merge(parts)

    def results(self, state: DecodeState, prompts: Sequence[Prompt]) -> list[SequenceResult]:
        P, L = state.start, state.gen_length
        generated = state.x[:, P:P + L].tolist()
        out = []
        for i, p in enumerate(prompts):
            out.append(SequenceResult(
                row=state.rows[i], prompt_ids=list(p.ids), generated=generated[i],
                steps=int(state.steps[i]), commits=list(state.commits[i]),
                states=None if state.states is None else state.states[i], answer=p.answer,
                answer_ids=None if p.answer_ids is None else list(p.answer_ids)))
        return out


def decode(denoiser: Denoiser, prompts: Sequence[Prompt], config: DecodeConfig, *,
           batch_size: int = 1, trace: TraceSink | None = None,
           progress: Progress | None = None) -> DecodeResult:
    """Decode ``prompts`` in order, ``batch_size`` at a time; results in prompt order."""
    return Engine(denoiser, config).decode(prompts, batch_size=batch_size, trace=trace,
                                           progress=progress)


def _row_seed(seed: int, row: int) -> int:
    """Seed of sequence ``row``'s noise generator (independent of batch composition)."""
    return (int(seed) * 1_000_003 + int(row)) % (2**63 - 1)
