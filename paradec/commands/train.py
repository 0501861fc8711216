"""``paradec train``: train the shipped model (LLaDA's objective, seeded) into a folder.

    paradec train --out DIR [--steps N] [--device cpu|cuda] [--seed S] [--threads T]
                  [--lr LR] [--init DIR]

Without --steps, --seed, --lr, --batch-size or --init it runs the shipped model's recipe
(``realmodel.shipped.train.RECIPE``: two stages, the first kept in DIR/stage1). The folder
is in the shipped format (LLaDA's config.json + model.safetensors, vocab.json,
generation.json, train_log.json) and loads with ``paradec eval --model DIR``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("train", help="train the shipped arithmetic dLLM",
                              description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True, help="output folder (created)")
    p.add_argument("--steps", type=int, default=None, help="optimiser steps (default: the "
                   "shipped model's)")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    p.add_argument("--seed", type=int, default=None, help="seed (default 0)")
    p.add_argument("--threads", type=int, default=None,
                   help="torch CPU threads (default: the shipped model's)")
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--lr", type=float, default=None, help="peak learning rate")
    p.add_argument("--init", default=None,
                   help="start from the weights of this shipped-format folder (a second stage)")
    p.add_argument("--quiet", action="store_true", help="do not print the loss curve")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from realmodel.shipped.train import TrainConfig, train, train_recipe

    echo = None if args.quiet else print
    custom = any(v is not None for v in (args.steps, args.batch_size, args.lr, args.init,
                                         args.seed))
    if not custom:
        train_recipe(args.out, device=args.device, threads=args.threads, echo=echo)
        _summary(args.out)
        return 0
    cfg = TrainConfig(seed=args.seed or 0)
    changes = {k: v for k, v in (("steps", args.steps), ("threads", args.threads),
                                 ("batch_size", args.batch_size), ("lr", args.lr))
               if v is not None}
    cfg = replace(cfg, **changes)
    if args.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise ValueError("--device cuda but no CUDA device is available")
    train(cfg, args.out, device=args.device, init=args.init, echo=echo)
    _summary(args.out)
    return 0


def _summary(out: str) -> None:
    log = json.loads((Path(out) / "train_log.json").read_text())
    print(f"saved {out} after {log['steps_done']} steps in {log['train_seconds']} s")
