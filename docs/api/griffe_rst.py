"""Griffe extension for the API reference: the few reST idioms paradec's docstrings use,
rewritten as the Markdown that mkdocstrings renders.

- ``.. math:: X`` (X on the same line and/or indented below) -> a ``$$ X $$`` block
  (pymdownx.arithmatex renders it with MathJax);
- doctest lines (``>>> ...``, ``... ...`` and their output up to a blank line) -> a fenced
  ``pycon`` block (otherwise Markdown reads ``>>>`` as nested block quotes);
- ``text::`` followed by an indented block -> ``text:`` and a fenced code block;
- roles ``:func:`x```, ``:class:`~a.b.C``` and the like -> inline code ``x`` / ``C``.

Docstrings in the source are not changed; only what the site shows. Loaded by mkdocs.yml
(``extensions: [docs/api/griffe_rst.py]``).
"""

from __future__ import annotations

import re
from typing import Any

from griffe import Extension, Object

ROLE = re.compile(r":(?:func|class|mod|data|meth|attr|obj|exc|const|py:\w+):`(~?)([^`]+)`")
MATH = re.compile(r"^(\s*)\.\. math::\s*(.*)$")
LITERAL = re.compile(r"^(\s*)(.*\S)?::\s*$")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _block(lines: list[str], i: int, base: int) -> tuple[list[str], int]:
    """The lines from i on that are blank or indented deeper than base; trailing blanks
    are left out. Returns (block, index after the block)."""
    out: list[str] = []
    while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > base):
        out.append(lines[i])
        i += 1
    while out and not out[-1].strip():
        out.pop()
        i -= 1
    return out, i


def _dedent(block: list[str]) -> list[str]:
    width = min((_indent(line) for line in block if line.strip()), default=0)
    return [line[width:] for line in block]


def _role(match: re.Match[str]) -> str:
    tilde, target = match.groups()
    return f"`{target.rsplit('.', 1)[-1] if tilde else target}`"


def rst_to_markdown(text: str) -> str:
    """Rewrite the reST idioms above; everything else passes through unchanged."""
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        pad = " " * _indent(line)
        math = MATH.match(line)
        if math:
            block, i = _block(lines, i + 1, _indent(line))
            body = [math.group(2)] if math.group(2) else []
            body += [row.strip() for row in block if row.strip()]
            out += ["", f"{pad}$$", *(pad + row for row in body), f"{pad}$$", ""]
            continue
        if line.lstrip().startswith(">>>"):
            start = i
            while i < len(lines) and lines[i].strip():
                i += 1
            out += [f"{pad}```pycon", *lines[start:i], f"{pad}```"]
            continue
        literal = LITERAL.match(line)
        if literal and not line.lstrip().startswith(".."):
            block, j = _block(lines, i + 1, _indent(line))
            if any(row.strip() for row in block):
                head = literal.group(2)
                if head:
                    out += [pad + head + ":", ""]
                out += [f"{pad}```", *(pad + row for row in _dedent(block)), f"{pad}```"]
                i = j
                continue
        out.append(ROLE.sub(_role, line))
        i += 1
    return "\n".join(out)


class RstDocstrings(Extension):
    """Rewrite every docstring once, when griffe creates the object."""

    def on_instance(self, *, obj: Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = rst_to_markdown(obj.docstring.value)
