"""Blockwise masking in LLaDA's training loss (TrainConfig.blockwise): rows masked as
block decoding sees its canvas, the rest masked as before, and at share 0 the loss and
its random draws exactly as before."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from realmodel.shipped.train import TrainConfig, llada_loss

V, MASK, EOS, PAD = 11, 10, 2, 0
BLOCK, L, P = 8, 32, 3


class Uniform(nn.Module):
    """A denoiser with flat logits (every CE is log V) that records its input."""

    def forward(self, x, positions, allowed=None):
        self.seen = x.clone()
        return torch.zeros(*x.shape, V)


def canvas(lengths: list[int]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Rows of P prompt tokens then ``length`` response tokens (never EOS or MASK) and
    EOS padding up to L."""
    x = torch.full((len(lengths), P + L), EOS)
    x[:, :P] = 5
    for i, n in enumerate(lengths):
        x[i, P:P + n] = 3 + torch.arange(n) % 6
    return x, torch.ones_like(x, dtype=torch.bool), torch.arange(P + L)[None].expand_as(x)


def run(lengths, share, seed=0, eps=1e-3):
    x, key_ok, positions = canvas(lengths)
    model = Uniform()
    loss = llada_loss(model, x, key_ok, positions, P, MASK, torch.Generator().manual_seed(seed),
                      eps, blockwise=share, block_length=BLOCK, eos_id=EOS)
    return loss, model.seen[:, P:] == MASK


def the_draws(lengths, seed, share=None, eps=1e-3):
    """What llada_loss draws from a generator seeded ``seed``: t, the uniform masks and,
    with a blockwise ``share``, which rows are blockwise and each row's block b, drawn
    uniformly among the blocks up to the one holding the row's last response token."""
    gen = torch.Generator().manual_seed(seed)
    n_rows = len(lengths)
    p = (1 - eps) * torch.rand(n_rows, 1, generator=gen) + eps
    masked = torch.rand(n_rows, L, generator=gen) < p
    if share is None:
        return p, masked, gen
    row = (torch.rand(n_rows, 1, generator=gen) < share)[:, 0]
    u = torch.rand(n_rows, generator=gen)
    b = [int(u[i] * ((n - 1) // BLOCK + 1)) for i, n in enumerate(lengths)]
    return p, masked, row, b


def test_share_zero_is_llada_loss_as_before_and_draws_nothing_more():
    lengths = [5, 8, 17, 32]
    loss, seen = run(lengths, 0.0, seed=3)
    p, masked, gen = the_draws(lengths, 3)
    assert torch.equal(seen, masked)
    assert loss == (math.log(V) * masked / p).sum() / (len(lengths) * L)
    # the generator is where two draws leave it: a third draw agrees
    x, key_ok, positions = canvas(lengths)
    after = torch.Generator().manual_seed(3)
    llada_loss(Uniform(), x, key_ok, positions, P, MASK, after, blockwise=0.0)
    assert torch.equal(torch.rand(4, generator=after), torch.rand(4, generator=gen))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("share", [0.4, 1.0])
def test_a_blockwise_row_is_clean_before_its_block_masked_after_it_and_weighted_by_it(
        seed, share):
    lengths = [1, 8, 9, 20, 24, 25, 31, 32] * 4
    loss, seen = run(lengths, share, seed=seed)
    p, masked, row, b = the_draws(lengths, seed, share)
    block = torch.arange(L) // BLOCK
    per_row = []
    for i in range(len(lengths)):
        if row[i]:
            assert not seen[i][block < b[i]].any(), "blocks before b stay clean"
            assert torch.equal(seen[i][block == b[i]], masked[i][block == b[i]])
            assert seen[i][block > b[i]].all(), "every later token is masked"
            per_row.append(masked[i][block == b[i]].sum() / p[i, 0] / BLOCK)
        else:
            assert torch.equal(seen[i], masked[i])
            per_row.append(masked[i].sum() / p[i, 0] / L)
    assert row.any() and (share == 1.0) == bool(row.all())
    # per-row sums of at most L terms of size <= 1 / eps: float32 rounding, a few ulps
    expected = math.log(V) * torch.stack(per_row).sum() / len(lengths)
    torch.testing.assert_close(loss, expected, rtol=8 * L * torch.finfo().eps, atol=0)


def test_rows_are_blockwise_at_their_share_and_their_block_is_uniform_over_the_answer():
    lengths, share = [8, 17, 32, 32] * 500, 0.3  # answers of 1, 3 and 4 blocks
    _, seen = run(lengths, share, seed=11)
    p, masked, row, b = the_draws(lengths, 11, share)
    block = torch.arange(L) // BLOCK
    # the replayed draws are the ones the loss used: blockwise rows have their later
    # blocks masked, the others are their uniform draw
    for i in torch.nonzero(row)[:, 0].tolist():
        assert seen[i][block > b[i]].all() and not seen[i][block < b[i]].any()
    assert torch.equal(seen[~row], masked[~row])
    n, k = len(lengths), int(row.sum())
    assert abs(k - share * n) < 5 * (n * share * (1 - share)) ** 0.5, k  # binomial, 5 sd
    for n_blocks, length in ((1, 8), (3, 17), (4, 32)):
        drawn = [b[i] for i in range(n) if row[i] and lengths[i] == length]
        m = len(drawn)
        counts = [drawn.count(j) for j in range(n_blocks)]
        assert sum(counts) == m, "b never passes the block of the last response token"
        q = 1 / n_blocks
        assert all(abs(c - m * q) < 5 * (m * q * (1 - q)) ** 0.5 + 1e-9 for c in counts)


def test_blockwise_needs_blocks_that_tile_the_answer_and_an_eos():
    x, key_ok, positions = canvas([8])
    gen = torch.Generator().manual_seed(0)
    with pytest.raises(ValueError, match="block_length and eos_id"):
        llada_loss(Uniform(), x, key_ok, positions, P, MASK, gen, blockwise=0.5)
    with pytest.raises(ValueError, match="multiple of block_length"):
        llada_loss(Uniform(), x, key_ok, positions, P, MASK, gen, blockwise=0.5,
                   block_length=5, eos_id=EOS)


@pytest.mark.parametrize("share", [-0.1, 1.5, float("nan")])
def test_a_blockwise_share_outside_zero_one_is_refused(share):
    with pytest.raises(ValueError, match="blockwise"):
        TrainConfig(blockwise=share)
