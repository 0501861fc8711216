"""bf16 vs fp32: how often the commit rules decide differently on a real model's logits.

The shipped model (tiny-arith) scores held-out problems whose response columns are masked
at random (LLaDA's training noise: a rate t ~ U(0, 1) per row). The same masked states
go through the float32 model and a bfloat16 copy; the active window is the first block
with a mask, as in the decode engine. Three profiles per state:

* ``fp32``: float32 logits, profile in float64 (the reference);
* ``bf16``: bfloat16 logits upcast to float64 before the softmax (what paradec does);
* ``bf16-naive``: the softmax taken in bfloat16 and the confidences read from it (what
  code that forgets to upcast gets: c rounds to 1 above 1 - 2^-9).

For each rule, the share of rows whose commit set differs from fp32's.

    PYTHONPATH=. python -m tests.fuzz.bf16_study [--problems N] [--draws D] [--seed S]
"""

from __future__ import annotations

import argparse
import copy
import json
from typing import Any

import numpy as np
import torch

from theory import (
    EntropyBound,
    Factor,
    Frechet,
    Quota,
    Threshold,
    TightCertificate,
    commit,
    profile_from_confidences,
    profile_from_logits,
)

RULES = [Quota(2), Threshold(0.9), Factor(1.0), Frechet(0.0), TightCertificate(0.0),
         EntropyBound(0.1)]


def _naive_profile(z: torch.Tensor, valid: torch.Tensor) -> Any:
    p = torch.softmax(z, dim=-1)  # in z's dtype: bfloat16
    top = p.topk(2, dim=-1).values.double()
    c = top[..., 0]
    H = -(p.double() * torch.log(p.double().clamp_min(1e-45))).sum(-1)
    return profile_from_confidences(c.numpy(), np.minimum(top[..., 1].numpy(),
                                                          1 - c.numpy()), H.numpy(),
                                    valid.numpy())


def compute_bf16_agreement(problems: int = 64, draws: int = 4, seed: int = 0,
                           model: str = "tiny-arith") -> dict[str, Any]:
    """Decision disagreement of bf16 profiles with fp32 ones (see the module docstring)."""
    from realmodel.shipped import (
        encode_batch,
        generation_defaults,
        heldout_problems,
        load_shipped,
    )

    den = load_shipped(model)
    m32 = den.model
    m16 = copy.deepcopy(m32).to(torch.bfloat16)
    shape = generation_defaults(model)
    L, b = shape["gen_length"], shape["block_length"]
    x, key_ok, positions, P = encode_batch(heldout_problems()[:problems], den.tokenizer, L)
    gen = torch.Generator().manual_seed(seed)
    mask_id = den.specials.mask_id
    rows = 0
    argmax_diff = positions_seen = 0
    differ = {kind: {r.label(): 0 for r in RULES} for kind in ("bf16", "bf16-naive")}
    for _ in range(draws):
        t = torch.rand(x.shape[0], 1, generator=gen)
        masked = torch.rand(x.shape[0], L, generator=gen) < t
        masked[:, 0] |= ~masked.any(1)  # at least one mask per row
        noisy = x.clone()
        noisy[:, P:] = torch.where(masked, mask_id, x[:, P:])
        with torch.no_grad():
            z32 = m32(noisy, positions, allowed=key_ok[:, None, :])[:, P:]
            z16 = m16(noisy, positions, allowed=key_ok[:, None, :])[:, P:]
        block = masked.float().argmax(1) // b  # first block with a mask, per row
        cols = (block[:, None] * b + torch.arange(b)[None, :])
        valid = masked.gather(1, cols)
        idx = cols[..., None].expand(-1, -1, z32.shape[-1])
        w32, w16 = z32.gather(1, idx), z16.gather(1, idx)
        profiles = {"fp32": profile_from_logits(w32, valid),
                    "bf16": profile_from_logits(w16, valid),
                    "bf16-naive": _naive_profile(w16, valid)}
        rows += x.shape[0]
        same_top = profiles["fp32"].tokens == profiles["bf16"].tokens
        argmax_diff += int((~same_top & valid).sum())
        positions_seen += int(valid.sum())
        for rule in RULES:
            ref = np.asarray(commit(rule, profiles["fp32"]).mask)
            for kind in differ:
                got = np.asarray(commit(rule, profiles[kind]).mask)
                differ[kind][rule.label()] += int(np.any(got != ref, axis=1).sum())
    return {"model": model, "problems": problems, "draws": draws, "seed": seed,
            "rows": rows, "window_positions": positions_seen,
            "argmax_differs": argmax_diff / positions_seen,
            "commit_set_differs": {kind: {k: v / rows for k, v in d.items()}
                                   for kind, d in differ.items()}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--problems", type=int, default=256)
    parser.add_argument("--draws", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    print(json.dumps(compute_bf16_agreement(args.problems, args.draws, args.seed), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
