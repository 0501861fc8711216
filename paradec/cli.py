"""The ``paradec`` command. Each subcommand lives in ``paradec/commands/<name>.py`` with
``add_parser(subparsers)`` and ``run(args) -> int``; heavy imports happen inside ``run``,
so ``paradec certify`` never loads torch."""

from __future__ import annotations

import argparse
import importlib
import sys

from paradec import __version__

COMMANDS = ["certify", "simulate", "decode", "replay", "train", "eval", "report", "merge"]


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="paradec", description="Executable theory of parallel decoding for masked "
        "diffusion language models: certify, simulate, decode, merge, replay, train, eval, "
        "report.")
    parser.add_argument("--version", action="version", version=f"paradec {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        importlib.import_module(f"paradec.commands.{name}").add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except (UsageError, ValueError, FileNotFoundError) as err:
        print(f"paradec {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
