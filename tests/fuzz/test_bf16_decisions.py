"""bf16 logits on the shipped model: the study script runs, and the upcast matters."""

from __future__ import annotations

import torch

from tests.fuzz.bf16_study import compute_bf16_agreement
from theory import profile_from_logits


def test_the_bf16_study_counts_every_row_and_gives_rates():
    out = compute_bf16_agreement(problems=8, draws=1)
    assert out["rows"] == 8 and out["window_positions"] >= 8
    for rates in out["commit_set_differs"].values():
        assert all(0.0 <= v <= 1.0 for v in rates.values())


def test_bf16_logits_are_upcast_before_the_softmax():
    """A confidence of 1 - 2.4e-4 survives in paradec's profile; a bf16 softmax rounds it
    to 1 (r = 0), which would let any certificate through."""
    z = torch.tensor([[[0.0, -8.3178]]], dtype=torch.bfloat16)  # r = e^-8.32 ~ 2.4e-4
    p = profile_from_logits(z)
    assert 2e-4 < float(p.r[0, 0]) < 3e-4
    assert float(torch.softmax(z, -1).max()) == 1.0
