"""Independent re-statements of the reference samplers, written for the tests only.

``llada_generate`` restates LLaDA's generate.py (low-confidence remasking, temperature 0);
``fastdllm_generate`` restates Fast-dLLM's three loops (no cache, prefix cache, dual cache)
with its quota / threshold / factor selection. Both drive ``naive_forward``, a from-scratch
forward pass over the LLaDA weights (explicit softmax attention, explicit past keys), so
they share no code with realmodel's model, cache or engine.
"""

from __future__ import annotations

import math

import torch


def _rms(x, w, eps):
    x32 = x.float()
    return w * (x32 / torch.sqrt(x32.pow(2).mean(-1, keepdim=True) + eps)).to(x.dtype)


def _rope(x, pos, theta):
    d = x.shape[-1]
    inv = 1.0 / theta ** (torch.arange(0, d, 2, dtype=torch.float32) / d)
    ang = pos.float()[:, None] * inv[None, :]
    cos, sin = torch.cat([ang, ang], -1).cos(), torch.cat([ang, ang], -1).sin()
    x1, x2 = x[..., : d // 2], x[..., d // 2:]
    return x * cos + torch.cat([-x2, x1], -1) * sin


def naive_forward(model, ids, first_pos=0, past=None, replace=None):
    """Logits of ids (1, n) at positions first_pos.., and fresh (k, v) of every layer.

    ``past``: per layer (K, V) of shape (heads, T_past, d). Keys are ``cat(past, fresh)``
    when ``replace`` is None (prefix cache) and ``past`` with columns replace[0]..replace[1]
    overwritten by the fresh keys otherwise (dual cache).
    """
    cfg = model.config
    tr = model.model.transformer
    nh, hd = cfg.n_heads, cfg.d_model // cfg.n_heads
    rep = cfg.n_heads // (cfg.n_kv_heads or cfg.n_heads)
    pos = torch.arange(first_pos, first_pos + ids.shape[1])
    h = tr.wte.weight[ids[0]]
    fresh = []
    for i, blk in enumerate(tr.blocks):
        x = _rms(h, blk.attn_norm.weight, cfg.rms_norm_eps)
        q = (x @ blk.q_proj.weight.T).view(-1, nh, hd).transpose(0, 1)
        k = (x @ blk.k_proj.weight.T).view(-1, nh // rep, hd).transpose(0, 1)
        v = (x @ blk.v_proj.weight.T).view(-1, nh // rep, hd).transpose(0, 1)
        q, k = _rope(q, pos, cfg.rope_theta), _rope(k, pos, cfg.rope_theta)
        fresh.append((k, v))
        K, V = k, v
        if past is not None and replace is None:
            K, V = torch.cat([past[i][0], k], 1), torch.cat([past[i][1], v], 1)
        elif past is not None:
            a, b = replace
            K = torch.cat([past[i][0][:, :a], k, past[i][0][:, b:]], 1)
            V = torch.cat([past[i][1][:, :a], v, past[i][1][:, b:]], 1)
        K, V = K.repeat_interleave(rep, 0), V.repeat_interleave(rep, 0)
        w = torch.softmax(q @ K.transpose(1, 2) / math.sqrt(hd), -1)
        o = (w @ V).transpose(0, 1).reshape(-1, cfg.d_model)
        h = h + o @ blk.attn_out.weight.T
        x = _rms(h, blk.ff_norm.weight, cfg.rms_norm_eps)
        h = h + (torch.nn.functional.silu(x @ blk.ff_proj.weight.T) * (x @ blk.up_proj.weight.T)
                 ) @ blk.ff_out.weight.T
    logits = _rms(h, tr.ln_f.weight, cfg.rms_norm_eps) @ tr.ff_out.weight.T
    return logits[None], fresh


def _quotas(m, steps):
    return [m // steps + (1 if i < m % steps else 0) for i in range(steps)]


@torch.no_grad()
def llada_generate(model, prompt, steps, gen_length, block_length, mask_id, bias=None,
                   quirk_eot=None, order=None):
    """LLaDA's reference sampler at temperature 0 (batch 1). Returns (x, calls).

    ``bias``: (V,) added to the logits (a test model's tilt); ``quirk_eot``: the EoT id for
    the current generate.py's ``confidence_eos_eot_inf`` branch, which sets the EoT column
    of the logits to -inf after the tokens are chosen. ``order`` (a list) collects the
    generated-region positions in the order they are committed."""
    P = len(prompt)
    x = torch.full((1, P + gen_length), mask_id, dtype=torch.long)
    x[0, :P] = torch.tensor(prompt)
    nb = gen_length // block_length
    spb = steps // nb
    calls = 0
    for b in range(nb):
        hi = P + (b + 1) * block_length
        quota = _quotas(int((x[0, hi - block_length:hi] == mask_id).sum()), spb)
        for i in range(spb):
            masked = x == mask_id
            logits, _ = naive_forward(model, x)
            if bias is not None:
                logits = logits + bias
            calls += 1
            x0 = logits.argmax(-1)
            if quirk_eot is not None:
                logits[:, :, quirk_eot] = -math.inf
            p = torch.softmax(logits.double(), -1)
            conf = p.gather(-1, x0[..., None])[..., 0]
            conf[:, hi:] = -math.inf
            conf = torch.where(masked, conf, -math.inf)
            x0 = torch.where(masked, x0, x)
            _, pick = torch.topk(conf[0], k=quota[i])
            x[0, pick] = x0[0, pick]
            if order is not None:
                order.extend(sorted(int(j) - P for j in pick))
    return x[0, P:].tolist(), calls


def _select(logits, masked, quota, threshold, factor):
    """Fast-dLLM's get_transfer_index / get_transfer_index_dynamic on one row."""
    x0 = logits[0].argmax(-1)
    conf = torch.softmax(logits[0].double(), -1).gather(-1, x0[:, None])[:, 0]
    conf = torch.where(masked, conf, -math.inf)
    m = int(masked.sum())
    if factor is not None:
        srt = torch.sort(conf[masked], descending=True).values
        th = [-1.0] + [1 - factor / (n + 1) for n in range(2, m + 1)]
        top = 0
        for top in range(m):
            if srt[top] < th[top]:
                break
        if top == 0 or top == m - 1:
            top += 1
        k = top
    elif threshold is not None:
        _, idx = torch.topk(conf, k=m)
        keep = [int(idx[0])] + [int(j) for j in idx[1:] if conf[j] >= threshold]
        return x0, keep
    else:
        k = quota
    _, idx = torch.topk(conf, k=k)
    return x0, [int(j) for j in idx]


@torch.no_grad()
def fastdllm_generate(model, prompt, gen_length, block_length, mask_id, cache,
                      threshold=None, factor=None):
    """Fast-dLLM's loops (cache "none", "prefix", "dual"), steps = gen_length for the
    quota. Returns (generated ids, calls)."""
    P = len(prompt)
    x = torch.full((1, P + gen_length), mask_id, dtype=torch.long)
    x[0, :P] = torch.tensor(prompt)
    calls = 0
    for b in range(gen_length // block_length):
        lo, hi = P + b * block_length, P + (b + 1) * block_length
        quota = _quotas(int((x[0, lo:hi] == mask_id).sum()), block_length)
        i = 0
        past = None
        while bool((x[0, lo:hi] == mask_id).any()):
            if cache == "none" or i == 0:
                logits, kv = naive_forward(model, x)
                if cache == "prefix":
                    past = [(k[:, :lo], v[:, :lo]) for k, v in kv]
                elif cache == "dual":
                    past = kv
                window, offset = logits[:, lo:hi], lo
            elif cache == "prefix":
                logits, _ = naive_forward(model, x[:, lo:], lo, past)
                window, offset = logits[:, :hi - lo], lo
            else:
                logits, _ = naive_forward(model, x[:, lo:hi], lo, past, (lo, hi))
                window, offset = logits, lo
            calls += 1
            masked = x[0, lo:hi] == mask_id
            x0, pick = _select(window, masked, quota[i], threshold, factor)
            for j in pick:
                x[0, offset + j] = x0[j]
            i += 1
    return x[0, P:].tolist(), calls
