"""From window logits to the confidence profile a commit rule sees.

At temperature 0 the profile is exactly ``theory.profile_from_logits`` (argmax tokens,
their confidence c, log r, runner-up s, entropy H) at the valid (masked, still decoding)
positions; it is computed there only, and the other positions carry token 0, c = 0,
r = 1, s = 0, H = 0 (no rule reads them and traces do not record them). Mid-block most of
the window is committed, so this halves the float64 work over the vocabulary on average.
On a CPU with a vocabulary shorter than :data:`SHORT_VOCABULARY` the same code runs on
zero-copy numpy views (the step is then a few dozen calls on small arrays, each several
times cheaper in numpy than in torch) over the whole window, whose committed positions
cost less to compute and zero than to gather out (their logits are not checked), and
the profile is handed back as torch tensors viewing numpy's results; the two routes pick
the same tokens and agree to rounding (tests/realmodel/test_window_routes.py).
At temperature T > 0 the token of each position is drawn by the Gumbel-max trick in
float64, as LLaDA's reference sampler does (argmax of exp(l) / (-log u)^T, taken here in
log space: l - T log(-log u)), and the profile
describes the *drawn* token: c = p(x0) under the untempered marginal, log r = log(1 - c)
computed stably, s = the largest other probability. Noise comes from one
``torch.Generator`` per sequence and is drawn only at the sequence's own steps, so a
sequence gets the same draws alone and inside any batch.

EOS handling ("eos" option of the decode config):

- ``none``: EOS is a token like any other.
- ``forbid``: the EOS logit is -inf before anything else (LLaDA's ``logits_eos_inf``).
- ``defer``: positions whose token is EOS or EoT get c = 0 (r = 1), so they are ranked
  last and pass no threshold: what LLaDA's ``confidence_eos_eot_inf`` intends.
- ``llada_quirk``: what LLaDA's current generate.py actually does with that switch: the
  assignment sets the EoT column of the logits (not of the confidence) to -inf after the
  tokens are drawn, so EoT tokens get c = 0 and every other confidence is renormalised
  without EoT; EOS is untouched. Reproduced only behind this explicit switch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from realmodel.model.specials import SpecialTokens
from theory import Profile, argmax_tokens, profile_from_logits
from theory._xp import to_numpy
from theory.profile import FIELDS

__all__ = ["EOS_MODES", "SHORT_VOCABULARY", "SpecialTokens", "choice_profile", "valid_rows",
           "window_profile"]

EOS_MODES = ("none", "forbid", "defer", "llada_quirk")


def choice_profile(z: Tensor, tokens: Tensor, valid: Tensor, entropy: bool = True
                   ) -> Profile:
    """Profile of chosen ``tokens`` (B, W) under logits ``z`` (B, W, V), in z's dtype.

    c = p(token), log r = logsumexp(z without token) - logsumexp(z), s = max over the other
    tokens of p, H = entropy of p (NaN with ``entropy=False``). A token whose logit is
    -inf gets c = 0 and log r = 0. With ``tokens = argmax z`` this equals
    ``theory.profile_from_logits`` (tested).
    """
    lse = torch.logsumexp(z, dim=-1)
    chosen = z.gather(-1, tokens[..., None])[..., 0]
    rest = z.scatter(-1, tokens[..., None], float("-inf"))
    log_r = torch.logsumexp(rest, dim=-1) - lse
    if entropy:  # p log p = 0 where p = 0 (0 * -inf = NaN, left out of the sum)
        logp = z - lse[..., None]
        H = -(logp.exp() * logp).nansum(-1)
    else:
        H = torch.full_like(lse, float("nan"))
    return Profile(tokens=tokens.long(), c=(chosen - lse).exp(), log_r=log_r.clamp(max=0.0),
                   s=(rest.amax(-1) - lse).exp(), H=H, valid=valid)


def valid_rows(x: Tensor, valid: Tensor) -> tuple[Tensor, Tensor]:
    """The rows ``x[valid]`` (n, ...) of x (B, W, ...) as a copy, and their flat indices
    (n,) into B * W: an index_select on a contiguous tensor (several times faster than
    boolean indexing), an index by (row, column) on a view, which copies only those
    rows."""
    at = valid.reshape(-1).nonzero()[:, 0]
    if x.is_contiguous():
        return x.reshape(-1, *x.shape[2:]).index_select(0, at), at
    W = valid.shape[1]
    return x[at // W, at % W], at


def _scatter(sub: Profile, valid: Tensor, at: Tensor) -> Profile:
    """The profile (1, n) of the valid positions (flat indices ``at``) placed into a
    (B, W) window; the other positions get token 0, c = 0, log r = 0 (r = 1), s = 0,
    H = 0."""
    floats = torch.stack([sub.c[0], sub.log_r[0], sub.s[0], sub.H[0]])  # one copy, not four
    out = floats.new_zeros((4, math.prod(valid.shape)))
    tokens = sub.tokens.new_zeros(out.shape[1:])
    out[:, at] = floats
    tokens[at] = sub.tokens[0]
    c, log_r, s, H = (out[i].reshape(valid.shape) for i in range(4))
    return Profile(tokens=tokens.reshape(valid.shape), c=c, log_r=log_r, s=s, H=H, valid=valid)


#: CPU logits of fewer tokens than this are profiled on numpy views of the whole window:
#: there the step is a few dozen calls on small arrays and torch's per-call cost (several
#: times numpy's) dominates; from this size on torch's fused float64 log-sum-exp over the
#: valid positions only wins, with the entropy pass first (benchmarks/profile_cpu.py
#: measures both).
SHORT_VOCABULARY = 512


def _numpy_window(logits: Tensor, valid: Tensor) -> tuple[np.ndarray, np.ndarray] | None:
    """Numpy views of the step's logits and valid mask when the profile is computed on
    numpy (CPU, vocabulary under :data:`SHORT_VOCABULARY`); None otherwise. bfloat16,
    which numpy cannot view, is widened to float32 first (exact)."""
    if logits.device.type != "cpu" or logits.shape[-1] >= SHORT_VOCABULARY:
        return None
    return to_numpy(logits.float() if logits.dtype == torch.bfloat16 else logits), \
        to_numpy(valid)


def _gumbel_tokens(z: Tensor, temperature: float, generators: Sequence[torch.Generator | None],
                   ) -> Tensor:
    tokens = argmax_tokens(z)
    for row, gen in enumerate(generators):
        if gen is None:
            continue
        u = torch.rand(z.shape[1:], generator=gen, dtype=torch.float64, device=z.device)
        scores = z[row].double() - temperature * torch.log(-torch.log(u))
        tokens[row] = argmax_tokens(scores)
    return tokens


def window_profile(logits: Tensor, valid: Tensor, specials: SpecialTokens, *,
                   temperature: float = 0.0,
                   generators: Sequence[torch.Generator | None] | None = None,
                   eos: str = "none", float64: bool = True, check: bool = True,
                   entropy: bool = True) -> Profile:
    """The profile of one step over the active window.

    Args:
        logits: (B, W, V) logits of the active window (any float dtype, any device).
        valid: (B, W) bool, the masked positions that may be committed.
        specials: the model's special ids (EOS/EoT for the ``eos`` modes).
        temperature: 0 for argmax; > 0 draws tokens with float64 Gumbel noise.
        generators: one per row (None for rows that draw nothing this step); required
            when temperature > 0.
        eos: one of :data:`EOS_MODES`.
        float64: compute the profile in float64 (as LLaDA's reference does) or float32.
        check: reject NaN / +inf logits (synchronises a GPU).
        entropy: compute H (else NaN: only the entropy-bound rule and traces read it).
    """
    if eos not in EOS_MODES:
        raise ValueError(f"unknown eos mode {eos!r}; choose from {', '.join(EOS_MODES)}")
    if eos != "none" and not specials.ending():
        raise ValueError(f"eos mode {eos!r} needs an EOS token, and this model has none")
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    dtype = torch.float64 if float64 else torch.float32
    forbid = eos == "forbid" and specials.eos_id is not None
    if temperature == 0 and eos in ("none", "forbid", "defer"):
        views = _numpy_window(logits, valid)
        if views is not None:  # the whole window: fewer calls than gathering its rows
            zn, vn = views
            if forbid:
                zn = zn.copy()  # the logits keep their EOS column
                zn[..., specials.eos_id] = float("-inf")
            whole = profile_from_logits(zn, vn, check=check, float64=float64, entropy=entropy)
            # the engine's profile is torch's, zero-copy, with the convention's zeros
            profile = Profile(**{f: torch.from_numpy(np.where(vn, getattr(whole, f), 0))
                                 for f in FIELDS[:-1]}, valid=valid)
        else:
            z_rows, at = valid_rows(logits, valid)  # (n, V): a copy
            if forbid:
                z_rows[:, specials.eos_id] = float("-inf")
            profile = _scatter(profile_from_logits(z_rows[None], check=check,
                                                   float64=float64, entropy=entropy),
                               valid, at)
    else:
        z = logits.to(dtype)
        if forbid:
            z = z.clone()
            z[..., specials.eos_id] = float("-inf")
        if check and bool(torch.isnan(z).any() or (z == float("inf")).any()):
            raise ValueError("logits contain NaN or +inf")
        if temperature > 0:
            if generators is None or len(generators) != z.shape[0]:
                raise ValueError("temperature > 0 needs one torch.Generator per row")
            tokens = _gumbel_tokens(z, temperature, generators)
        else:
            tokens = argmax_tokens(z)
        z_conf = z
        if eos == "llada_quirk" and specials.eot_id is not None:
            z_conf = z.clone()
            z_conf[..., specials.eot_id] = float("-inf")
        profile = choice_profile(z_conf, tokens, valid, entropy)
    if eos == "defer":
        ending = torch.tensor(specials.ending(), device=logits.device)
        hit = torch.isin(profile.tokens, ending)
        profile = Profile(tokens=profile.tokens, c=torch.where(hit, 0.0, profile.c),
                          log_r=torch.where(hit, 0.0, profile.log_r), s=profile.s,
                          H=profile.H, valid=profile.valid)
    return profile
