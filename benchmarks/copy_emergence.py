"""How long LLaDA's objective takes to teach copying: at a fixed offset and by content.

    PYTHONPATH=. python benchmarks/copy_emergence.py             # both modes, untied head
    PYTHONPATH=. python benchmarks/copy_emergence.py --tying     # the LM head tied

The task isolates what the word problems of ``tiny-words`` need from a model: the prompt
is k random symbols (of ``--vocab``) and a separator, the response repeats them, then
EOS up to ``--length``. Sequences are laid out like the decode engine's canvas (the
prompt left-padded, position ids counting real tokens), and the model, its initialisation
and the loss are the shipped models' own (:class:`realmodel.model.llada.LLaDAModel`,
:func:`realmodel.shipped.train.init_weights`, :func:`realmodel.shipped.train.llada_loss`).

- ``fixed``: k = ``--length`` always, so response position j copies the prompt symbol a
  constant distance away: a RoPE head can learn the offset (positional copying).
- ``content``: k is uniform in [``--length`` / 2, ``--length``], so the distance varies
  and the symbol has to be found by what surrounds it (induction-style copying).

Every ``--every`` steps it prints the training loss and the copy accuracy (half the
response masked, the share of masked symbols predicted right; chance is 1/vocab), and at
the end the first step where the accuracy reached 0.5 (a mode stops early once it reaches
``--until``). docs/LOG.md has the numbers.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import torch
from torch import Tensor

from realmodel.model.llada import LLaDAConfig, LLaDAModel
from realmodel.shipped.train import init_weights, llada_loss

PAD, EOS, SEP, FIRST = 0, 1, 2, 3  # symbols are FIRST .. vocab - 1; the mask is vocab


@dataclass(frozen=True)
class CopyTask:
    """The copying task of the module docstring."""

    vocab: int = 64
    length: int = 12
    fixed: bool = False

    def __post_init__(self) -> None:
        if self.vocab <= FIRST + 1 or self.length < 2:
            raise ValueError(f"need vocab > {FIRST + 1} and length >= 2, got {self}")

    def batch(self, size: int, gen: torch.Generator) -> tuple[Tensor, Tensor, Tensor, int]:
        """ids, key_ok, positions (size, P + length) and P, as ``train.encode_batch``."""
        P = self.length + 1
        x = torch.full((size, P + self.length), PAD, dtype=torch.long)
        key_ok = torch.zeros(x.shape, dtype=torch.bool)
        lo = self.length if self.fixed else self.length // 2
        ks = torch.randint(lo, self.length + 1, (size,), generator=gen)
        for i, k in enumerate(ks.tolist()):
            symbols = torch.randint(FIRST, self.vocab, (k,), generator=gen)
            x[i, P - k - 1:P - 1] = symbols
            x[i, P - 1] = SEP
            x[i, P:P + k] = symbols
            x[i, P + k:] = EOS
            key_ok[i, P - k - 1:] = True
        positions = (key_ok.long().cumsum(1) - 1).clamp(min=0)
        return x, key_ok, positions, P


def copy_accuracy(model: LLaDAModel, task: CopyTask, gen: torch.Generator,
                  size: int = 256) -> float:
    """Share of masked response symbols (EOS excluded) predicted right, half masked."""
    x, key_ok, positions, P = task.batch(size, gen)
    masked = torch.rand(size, task.length, generator=gen) < 0.5
    noisy = x.clone()
    noisy[:, P:] = torch.where(masked, task.vocab, x[:, P:])
    with torch.no_grad():
        logits = model(noisy, positions, allowed=key_ok[:, None, :])[:, P:]
    scored = masked & (x[:, P:] != EOS)
    return float((logits.argmax(-1) == x[:, P:])[scored].float().mean())


def train_copy(task: CopyTask, *, steps: int, every: int, d_model: int = 64,
               n_layers: int = 2, n_heads: int = 2, batch_size: int = 64, lr: float = 2e-3,
               tying: bool = False, seed: int = 0, until: float = 1.0, echo: bool = True
               ) -> list[tuple[int, float, float]]:
    """(step, loss, copy accuracy) every ``every`` steps and at the end (which is earlier
    when the accuracy reaches ``until``)."""
    gen = torch.Generator().manual_seed(seed)
    config = LLaDAConfig(d_model=d_model, n_layers=n_layers, n_heads=n_heads,
                         mlp_hidden_size=2 * d_model, vocab_size=task.vocab + 1,
                         max_sequence_length=2 * task.length + 1, rope_theta=10000.0,
                         mask_token_id=task.vocab, eos_token_id=EOS, pad_token_id=PAD,
                         weight_tying=tying)
    model = LLaDAModel(config)
    init_weights(model, gen)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.98), weight_decay=0.0)
    curve = []
    for step in range(1, steps + 1):
        x, key_ok, positions, P = task.batch(batch_size, gen)
        loss = llada_loss(model, x, key_ok, positions, P, task.vocab, gen)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % every == 0 or step == steps:
            model.eval()
            curve.append((step, float(loss.detach()), copy_accuracy(model, task, gen)))
            model.train()
            if echo:
                print(f"  step {step:5d}  loss {curve[-1][1]:.3f}  copy accuracy "
                      f"{curve[-1][2]:.3f}", flush=True)
            if curve[-1][2] >= until:
                break
    return curve


def first_step(curve: list[tuple[int, float, float]], level: float = 0.5) -> int | None:
    return next((step for step, _, acc in curve if acc >= level), None)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--modes", nargs="+", choices=("fixed", "content"),
                    default=["fixed", "content"])
    ap.add_argument("--steps", type=int, default=6000)
    ap.add_argument("--every", type=int, default=250)
    ap.add_argument("--until", type=float, default=0.95,
                    help="stop a mode once its copy accuracy reaches this")
    ap.add_argument("--vocab", type=int, default=64)
    ap.add_argument("--length", type=int, default=12)
    ap.add_argument("--tying", action="store_true", help="tie the LM head to the embedding")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    for mode in args.modes:
        task = CopyTask(vocab=args.vocab, length=args.length, fixed=mode == "fixed")
        print(f"{mode}: {task}", flush=True)
        tic = time.perf_counter()
        curve = train_copy(task, steps=args.steps, every=args.every, tying=args.tying,
                           seed=args.seed, until=args.until)
        rows.append((mode, first_step(curve), curve[-1][0], curve[-1][2],
                     time.perf_counter() - tic))
    print("\n| copying | LM head | first step with accuracy >= 0.5 | last step: accuracy "
          "| seconds |\n|---|---|---|---|---|")
    head = "tied" if args.tying else "untied"
    for mode, step, last, acc, seconds in rows:
        print(f"| {mode} | {head} | {step if step is not None else 'not reached'} | "
              f"{last}: {acc:.3f} | {seconds:.0f} |")


if __name__ == "__main__":
    main()
