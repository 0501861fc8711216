"""Decoding simulator: any commit rule on the exact chain denoiser, batched over sequences.

The schedule is LLaDA's block-wise semi-autoregressive one [LLaDA]: the generation of
``gen_length`` tokens after a prompt is cut into blocks of ``block_length``; each step
one denoiser call gives the exact marginals, the rule sees the masked positions of the
row's current block (the first block with a mask) as a profile and commits a prefix of
them to their argmax tokens (``theory.commit``: the one implementation of every rule).
Static one-token-per-step decoding is ``Quota(1)`` (the default schedule: the rule as given
at every step). ``DecodeConfig(steps=T)`` runs LLaDA's own quota schedule instead: T steps
over the generation, and step t of each block commits ``theory.llada_quota(block_length,
T / blocks, t)`` tokens. Rows are independent sequences and advance in lockstep; a finished
row makes no call and commits nothing.

Per step the simulator records the number committed, whether the committed tuple is the
exact joint mode of those positions given the context (marginal MAP, other masked
positions summed out), the Fréchet and tight margins of the committed prefix, and how
many committed tokens agree with a reference decode (static decoding's final tokens).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from simulate.denoiser import ChainDenoiser
from theory.domains import Integer
from theory.margins import at_prefix, frechet_margin, tight_margin
from theory.profile import Profile, profile_from_probabilities
from theory.rules import (
    Commit,
    EntropyBound,
    Factor,
    Frechet,
    Quota,
    Rule,
    Threshold,
    TightCertificate,
    commit,
    llada_quota,
    sorted_profile,
)

__all__ = ["DecodeConfig", "DecodeTrace", "StepView", "decode", "block_positions", "is_certified",
           "VIOLATION_TOL"]

VIOLATION_TOL = 1e-9  # a commit is a violation when log P(mode) - log P(commit) > this


@dataclass(frozen=True)
class DecodeConfig:
    """Schedule and bookkeeping of one simulated decode.

    Attributes:
        gen_length: tokens generated after the prompt.
        block_length: semi-autoregressive block size; must divide ``gen_length``.
        check_modes: per step, compare the committed tuple with the exact joint mode.
        whole_mode: at the end, compute the exact joint mode of the whole generation.
        steps: None (default) applies the rule as given at every step; an int T runs
            LLaDA's quota schedule [LLaDA generate.py]: T steps in all, T / blocks per
            block, step t of a block commits ``llada_quota(block_length, T / blocks, t)``
            tokens (the rule must then be a :class:`theory.Quota`; the schedule sets its
            k). T = gen_length is static decoding.
    """

    gen_length: int = 64
    block_length: int = 16
    check_modes: bool = True
    whole_mode: bool = True
    steps: int | None = None

    def __post_init__(self) -> None:
        Integer("gen_length", 1).check(self.gen_length)
        Integer("block_length", 1).check(self.block_length)
        if self.gen_length % self.block_length:
            raise ValueError(f"block_length = {self.block_length} must divide gen_length = "
                             f"{self.gen_length}")
        if self.steps is not None:
            blocks = self.gen_length // self.block_length
            Integer("steps", blocks, self.gen_length,
                    meaning="LLaDA steps: one per block at least, one per token at most"
                    ).check(self.steps)
            if self.steps % blocks:
                raise ValueError(f"steps = {self.steps} must be a multiple of the number of "
                                 f"blocks, {blocks} (LLaDA gives each block steps / blocks)")

    def quota(self, t: int) -> int | None:
        """k_t of LLaDA's schedule at step ``t`` of the decode (None without ``steps``).
        Every block starts fully masked (m0 = block_length) and takes steps / blocks steps.

        >>> [DecodeConfig(8, 4, steps=6).quota(t) for t in range(6)]
        [2, 1, 1, 2, 1, 1]
        """
        if self.steps is None:
            return None
        per_block = self.steps // (self.gen_length // self.block_length)
        return llada_quota(self.block_length, per_block, t % per_block)


@dataclass(frozen=True)
class DecodeTrace:
    """What one batched decode did. B rows, N = prompt + generation, T steps.

    Attributes:
        rule: the rule's label, e.g. ``frechet(delta=0.0)``.
        certified: whether every commit of this rule is guaranteed to be the joint mode.
        prompt_length: P.
        tokens: (B, N) int64 final sequences.
        calls: (B,) int64 denoiser calls (forward passes) per row.
        n: (B, T) int64 tokens committed per step (0 once a row is done).
        log_gap: (B, T) float64 log P(commit | ctx) - log P(joint mode | ctx) <= 0; 0 for
            steps with n <= 1, NaN where not checked.
        frechet: (B, T) float64 G_n of the committed prefix (NaN where n = 0).
        tight: (B, T) float64 G*_n of the committed prefix (NaN where n = 0).
        agree: (B, T) int64 committed tokens equal to the reference's (-1 without one).
        loglik: (B,) log P(generation | prompt) under the true chain.
        ref_agreement: (B,) fraction of generated tokens equal to the reference (NaN if none).
        mode_agreement: (B,) fraction equal to the exact joint mode of the whole
            generation given the prompt (NaN unless ``whole_mode``).
    """

    rule: str
    certified: bool
    prompt_length: int
    tokens: np.ndarray
    calls: np.ndarray
    n: np.ndarray
    log_gap: np.ndarray
    frechet: np.ndarray
    tight: np.ndarray
    agree: np.ndarray
    loglik: np.ndarray
    ref_agreement: np.ndarray
    mode_agreement: np.ndarray

    @property
    def tokens_per_call(self) -> np.ndarray:
        """(B,) generated tokens per denoiser call."""
        return (self.tokens.shape[1] - self.prompt_length) / self.calls

    @property
    def violations(self) -> np.ndarray:
        """(B, T) bool: multi-token commits that are not the joint mode."""
        return (self.n >= 2) & (self.log_gap < -VIOLATION_TOL)


def is_certified(rule: Rule) -> bool:
    """True when every commit of ``rule`` is the unique joint mode of its positions under
    any joint with the observed marginals: factor with f <= 1 ([FastdLLM] Thm 1), Fréchet
    and tight with delta >= 0 ([FastdLLM++] Thm 4.1; docs/theory/tight_certificate.md),
    quota k = 1."""
    if isinstance(rule, Factor):
        return rule.f <= 1.0 and not rule.fastdllm_quirks
    if isinstance(rule, (Frechet, TightCertificate)):
        return rule.delta >= 0.0
    if isinstance(rule, Quota):
        return rule.k == 1
    if isinstance(rule, (Threshold, EntropyBound)):
        return False
    raise ValueError(f"unknown rule {rule!r}")


@dataclass(frozen=True)
class StepView:
    """What an observer of :func:`decode` sees at step ``t`` (A = unfinished rows).

    Attributes:
        t: step index.
        rows: (A,) indices of the unfinished rows in the batch.
        states: (A, N) states before the commit.
        positions: (A, m) the masked positions of each row's active block, in position
            order, padded (m = the most any row has; padding is invalid in the profile).
        profile: the rule's input: the profile of those positions.
        commit: what the rule committed (mask over ``positions``).
    """

    t: int
    rows: np.ndarray
    states: np.ndarray
    positions: np.ndarray
    profile: Profile
    commit: Commit


def decode(denoiser: ChainDenoiser, prompts: np.ndarray, rule: Rule,
           config: DecodeConfig | None = None, reference: np.ndarray | None = None,
           observe: Callable[[StepView], None] | None = None) -> DecodeTrace:
    """Decode ``gen_length`` tokens after each prompt (B, P) with ``rule``.

    ``reference`` (B, N) int: final tokens of a reference decode of the same prompts
    (usually static, ``Quota(1)``), for the agreement records. ``observe`` is called
    once per step with a :class:`StepView` (studies read profiles along a path with it).
    With ``config.steps`` the rule must be a :class:`theory.Quota`, whose k the schedule
    sets at each step (:meth:`DecodeConfig.quota`).
    """
    config = config or DecodeConfig()
    if config.steps is not None and not isinstance(rule, Quota):
        raise ValueError(f"DecodeConfig(steps={config.steps}) schedules the quota rule; "
                         f"got {rule.label()}")
    prompts = denoiser.check_states(prompts)
    if (prompts == denoiser.mask_id).any():
        raise ValueError("prompts must not contain the mask id")
    B, P = prompts.shape
    G, blk = config.gen_length, config.block_length
    N = P + G
    if reference is not None and np.shape(reference) != (B, N):
        raise ValueError(f"reference must have shape {(B, N)}, got {np.shape(reference)}")
    x = np.concatenate([prompts, np.full((B, G), denoiser.mask_id, np.int64)], axis=1)
    rec = {k: np.full((B, G), v) for k, v in
           (("n", 0), ("log_gap", np.nan), ("frechet", np.nan), ("tight", np.nan),
            ("agree", -1))}
    calls = np.zeros(B, np.int64)
    steps = 0
    for t in range(G):
        a = np.nonzero((x[:, P:] == denoiser.mask_id).any(axis=1))[0]
        if a.size == 0:
            break
        steps = t + 1
        k_t = config.quota(t)
        view, new, out = _step(denoiser.take(a), x[a], rule if k_t is None else Quota(k_t), P,
                               blk, config.check_modes, None if reference is None else reference[a])
        if observe is not None:
            observe(StepView(t=t, rows=a, **view))
        x[a] = new
        calls[a] += 1
        for k, v in out.items():
            rec[k][a, t] = v
    rec = {k: v[:, :steps] for k, v in rec.items()}
    rec["n"] = rec["n"].astype(np.int64)
    rec["agree"] = rec["agree"].astype(np.int64)
    ref_agreement = (np.full(B, np.nan) if reference is None
                     else (x[:, P:] == reference[:, P:]).mean(axis=1))
    mode_agreement = np.full(B, np.nan)
    if config.whole_mode:
        start = np.concatenate([prompts, np.full((B, G), denoiser.mask_id, np.int64)], axis=1)
        S = np.zeros((B, N), bool)
        S[:, P:] = True
        mode = denoiser.joint_mode(start, S).tokens
        mode_agreement = (x[:, P:] == mode[:, P:]).mean(axis=1)
    if config.steps is None:
        label, certified = rule.label(), is_certified(rule)
    else:  # every k_t = 1 exactly when there is one step per token
        label, certified = f"quota(steps={config.steps})", config.steps == G
    return DecodeTrace(rule=label, certified=certified, prompt_length=P,
                       tokens=x, calls=calls, loglik=denoiser.log_likelihood(x, start=P),
                       ref_agreement=ref_agreement, mode_agreement=mode_agreement, **rec)


def block_positions(x: np.ndarray, mask_id: int, P: int, blk: int) -> np.ndarray:
    """(rows, blk) positions of each row's current block: the first block with a mask."""
    rows, N = x.shape
    masked = (x[:, P:] == mask_id).reshape(rows, (N - P) // blk, blk).any(axis=2)
    b = np.argmax(masked, axis=1)
    return P + b[:, None] * blk + np.arange(blk)[None, :]


def _step(denoiser: ChainDenoiser, x: np.ndarray, rule: Rule, P: int, blk: int, check: bool,
          ref_rows: np.ndarray | None) -> tuple[dict, np.ndarray, dict[str, np.ndarray]]:
    """One denoiser call and one commit for the rows ``x`` (all unfinished)."""
    rows = np.arange(x.shape[0])[:, None]
    block = block_positions(x, denoiser.mask_id, P, blk)
    p = denoiser.marginals_window(x, block[:, 0], blk)  # the active block of one forward pass
    masked = x[rows, block] == denoiser.mask_id
    # Only masked positions enter the profile: keep them, in position order, in the first
    # columns (as many as the row with most of them); the rest of those columns is padding.
    keep = np.argsort(~masked, axis=1, kind="stable")[:, :int(masked.sum(axis=1).max())]
    pos = np.take_along_axis(block, keep, axis=1)
    valid = np.take_along_axis(masked, keep, axis=1)
    profile = profile_from_probabilities(p[rows, keep], valid, check=False)
    c = commit(rule, profile)
    S = np.zeros(x.shape, bool)
    S[rows, pos] = c.mask
    new = x.copy()
    new[rows, pos] = np.where(c.mask, profile.tokens, x[rows, pos])
    n = c.n
    sp = sorted_profile(profile, c.order)  # in the rule's own order
    out = {"n": n, "frechet": at_prefix(frechet_margin(sp.r), n),
           "tight": at_prefix(tight_margin(sp.r, sp.s), n),
           "log_gap": np.where(n <= 1, 0.0, np.nan)}
    if check:
        multi = np.nonzero(n >= 2)[0]
        if multi.size:
            sub = denoiser.take(multi)
            best = sub.joint_mode(x[multi], S[multi]).log_prob
            mine = sub.log_prob(x[multi], S[multi], new[multi])
            out["log_gap"][multi] = mine - best  # <= 0 up to rounding: best is the max
    if ref_rows is not None:
        out["agree"] = ((new == ref_rows) & S).sum(axis=1)
    view = {"states": x, "positions": pos, "profile": profile, "commit": c}
    return view, new, out
