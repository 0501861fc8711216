"""The ``paradec`` command. Each subcommand lives in ``paradec/commands/<name>.py`` with
``add_parser(subparsers)`` and ``run(args) -> int``; heavy imports happen inside ``run``,
so ``paradec certify`` never loads torch."""

from __future__ import annotations

import argparse
import importlib
import sys
import unicodedata
from typing import NoReturn

from paradec import __version__

COMMANDS = ["certify", "simulate", "decode", "replay", "train", "eval", "report", "merge",
            "lm_eval"]


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit status 2."""


def one_line(text: str) -> str:
    """``text`` with control and line-separator characters escaped (``\\r``, ``\\x1c``,
    ``\\u2028``), so an error quoting the user's input stays on one line."""
    return "".join(repr(ch)[1:-1] if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch
                   for ch in text)


class Parser(argparse.ArgumentParser):
    """argparse with usage errors on one line (the user's text may hold line breaks)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {one_line(message)}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="paradec", description="Executable theory of parallel decoding for masked "
        "diffusion language models: certify, simulate, decode, merge, replay, train, eval, "
        "report, lm-eval.")
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
        print(f"paradec {args.command}: error: {one_line(str(err))}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
