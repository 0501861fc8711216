"""mkdocs hook: the command-line reference page (api/cli.md) shows `paradec COMMAND --help`
for every command in ``paradec.cli.COMMANDS``, generated at build time from the argparse
parsers themselves, so it cannot drift from the code."""

from __future__ import annotations

import argparse
import importlib
import os
from typing import Any

MARKER = "<!-- paradec --help -->"
WIDTH = "76"  # argparse wraps at $COLUMNS; the content column shows about 76 characters


def cli_reference() -> str:
    """Markdown: one section per command with its --help text (the parsers need no torch)."""
    from paradec.cli import COMMANDS, build_parser

    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = WIDTH
    try:
        parts = ["## paradec", "", "```text", build_parser().format_help().rstrip(), "```", ""]
        sub = argparse.ArgumentParser(prog="paradec").add_subparsers()
        for name in COMMANDS:
            importlib.import_module(f"paradec.commands.{name}").add_parser(sub)
            command = name.replace("_", "-")  # module lm_eval is command lm-eval
            help_text = sub.choices[command].format_help().rstrip()
            parts += [f"## paradec {command}", "", "```text", help_text, "```", ""]
    finally:
        if previous is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = previous
    return "\n".join(parts)


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    return markdown.replace(MARKER, cli_reference()) if MARKER in markdown else markdown
