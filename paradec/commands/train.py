"""``paradec train``: train the shipped model (LLaDA's objective, seeded) into a folder.

    paradec train --out DIR [--model tiny-arith|tiny-words] [--recipe NAME] [--resume]
                  [--steps N] [--device cpu|cuda] [--seed S] [--threads T] [--lr LR]
                  [--init DIR]

Without --steps, --seed, --lr, --batch-size or --init it runs the shipped model's recipe
(``realmodel.shipped.train.RECIPES``; tiny-arith's has two stages, the first kept in
DIR/stage1), or with ``--recipe`` one that was tried and not shipped
(``realmodel.shipped.train.TRIED``: tiny-words' ten-stage "chain", best on a GPU). The
folder is in the shipped format (LLaDA's config.json + model.safetensors, the tokenizer,
generation.json, train_log.json) and loads with ``paradec eval --model DIR``. A DIR that
holds files is refused unless ``--overwrite``; then the old folder is kept aside while
training and put back if the run fails. ``--resume`` continues a recipe run in DIR
instead: the stages it finished (same config, same start) are kept and the rest trained.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

#: the names of ``realmodel.shipped.train.RECIPES`` (a test keeps them equal; the parser
#: does not import torch).
MODELS = ("tiny-arith", "tiny-words")


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("train", help="train a shipped dLLM (tiny-arith, tiny-words)",
                              description=__doc__.split("\n")[0].replace("``", ""))
    p.add_argument("--out", required=True, help="output folder (created; an existing one "
                   "that holds files is refused unless --overwrite)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing --out folder (the old one is restored if "
                        "training fails)")
    p.add_argument("--model", default="tiny-arith", choices=MODELS,
                   help="which shipped model's task, shape and recipe (default tiny-arith)")
    p.add_argument("--resume", action="store_true",
                   help="continue a recipe run in --out: keep the stages it finished")
    p.add_argument("--recipe", default="shipped",
                   help="which of the model's recipes: shipped (default) or one tried and not "
                        "shipped (tiny-words: chain)")
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
    from contextlib import nullcontext
    from dataclasses import replace

    from paradec.commands.outputs import replacing
    from realmodel.shipped.train import recipe_of, train, train_recipe

    echo = None if args.quiet else print
    _check(args)
    custom = any(v is not None for v in (args.steps, args.batch_size, args.lr, args.init,
                                         args.seed))
    if custom and args.recipe != "shipped":
        raise ValueError(f"--recipe {args.recipe} runs its own stages; it takes none of "
                         "--steps, --seed, --lr, --batch-size, --init")
    if custom and args.resume:
        raise ValueError("--resume continues a recipe run; it takes none of --steps, --seed, "
                         "--lr, --batch-size, --init")
    base, stages = recipe_of(args.model, args.recipe)  # an unknown name before any work
    # --resume works in place (the finished stages are the point); otherwise a failed run
    # puts back what --out held
    with nullcontext() if args.resume else replacing(args.out):
        if not custom:
            train_recipe(args.out, model=args.model, device=args.device, threads=args.threads,
                         base=base, recipe=stages, resume=args.resume, echo=echo)
        else:
            changes = {k: v for k, v in (("steps", args.steps), ("threads", args.threads),
                                         ("batch_size", args.batch_size), ("lr", args.lr))
                       if v is not None}
            cfg = replace(base, seed=args.seed or 0, **changes)
            train(cfg, args.out, device=args.device, init=args.init, echo=echo)
    _summary(args.out)
    return 0


def _check(args: argparse.Namespace) -> None:
    """Bad flags are refused before any work (and before the output folder is made)."""
    from paradec.commands.outputs import check_output

    if args.resume and args.overwrite:
        raise ValueError("--resume keeps what --out holds and --overwrite replaces it: pass "
                         "one of them")
    check_output(args.out, "--out", overwrite=args.overwrite or args.resume, folder=True,
                 resume=True, inputs=[("--init", args.init)])
    if args.seed is not None and args.seed < 0:
        raise ValueError(f"--seed must be >= 0, got {args.seed}")
    for flag, value in (("--steps", args.steps), ("--threads", args.threads),
                        ("--batch-size", args.batch_size)):
        if value is not None and value < 1:
            raise ValueError(f"{flag} must be positive, got {value}")
    if args.lr is not None and not 0 < args.lr < float("inf"):
        raise ValueError(f"--lr must be finite and > 0, got {args.lr}")
    if args.init is not None and not Path(args.init).is_dir():
        raise FileNotFoundError(f"--init {args.init} is not a folder")
    if args.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise ValueError("--device cuda but no CUDA device is available")


def _summary(out: str) -> None:
    log = json.loads((Path(out) / "train_log.json").read_text())
    print(f"saved {out} after {log['steps_done']} steps in {log['train_seconds']} s")
