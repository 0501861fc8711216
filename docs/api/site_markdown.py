"""Markdown fixes for the documentation site (mkdocs.yml loads this file twice: as a griffe
extension for the API reference and as an mkdocs hook for the pages). Nothing in the
repository is changed; only what the site shows.

Docstrings (griffe extension :class:`RstDocstrings`) use a few reST idioms, rewritten as
Markdown:

- ``.. math:: X`` (X on the same line and/or indented below) -> a ``$$ X $$`` block
  (pymdownx.arithmatex marks it, site_math.py makes it MathML);
- doctest lines (``>>> ...`` and their output up to a blank line) -> a fenced ``pycon``
  block (otherwise Markdown reads ``>>>`` as nested block quotes);
- ``text::`` followed by an indented block -> ``text:`` and a fenced code block;
- roles ``:func:`x```, ``:class:`~a.b.C``` and the like -> inline code ``x`` / ``C``;
- a line that starts with ``>`` (``>= 0`` wrapped onto a new line) is escaped, not a quote.

Docstrings and pages (hook :func:`on_page_markdown`) write math as plain text: ``x*``,
``G*_n``, ``p_j(x*_j)``. Markdown would pair those stars (and the underscore after them)
into emphasis, so a ``*`` right after a letter, digit or closing bracket is escaped (and the
``_`` that follows it), except in code spans, ``$...$`` math, fenced or indented code, and
genuine ``*emphasis*``.
"""

from __future__ import annotations

import re
from typing import Any

from griffe import Extension, Object

ROLE = re.compile(r":(?:func|class|mod|data|meth|attr|obj|exc|const|py:\w+):`(~?)([^`]+)`")
MATH = re.compile(r"^(\s*)\.\. math::\s*(.*)$")
LITERAL = re.compile(r"^(\s*)(.*\S)?::\s*$")
# left alone: code spans, inline math, real emphasis (opening star not after a word character)
PROTECTED = re.compile(r"(`+).+?\1"
                       r"|\$[^$\n]+\$"
                       r"|(?<![\w*\\])\*(?=[^\s*])[^*\n]*?(?<=[^\s*])\*(?![\w*])")
STAR = re.compile(r"(?<=[\w)\]}])\*(?!\*)(_?)")
FENCE = re.compile(r"^\s*(```|~~~)")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _stars(text: str) -> str:
    return STAR.sub(lambda m: "\\*" + ("\\_" if m.group(1) else ""), text)


def escape_plain_math(line: str) -> str:
    """Escape the math stars of one line of Markdown outside protected spans."""
    out, last = [], 0
    for span in PROTECTED.finditer(line):
        out += [_stars(line[last:span.start()]), span.group(0)]
        last = span.end()
    out.append(_stars(line[last:]))
    return "".join(out)


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


def _plain(line: str) -> str:
    line = escape_plain_math(ROLE.sub(_role, line))
    stripped = line.lstrip()
    if stripped.startswith(">"):
        line = line[: len(line) - len(stripped)] + "\\" + stripped
    return line


def rst_to_markdown(text: str) -> str:
    """Rewrite a docstring's reST idioms as Markdown; everything else passes through."""
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
                    out += [pad + _plain(head) + ":", ""]
                out += [f"{pad}```", *(pad + row for row in _dedent(block)), f"{pad}```"]
                i = j
                continue
        out.append(_plain(line))
        i += 1
    return "\n".join(out)


def page_markdown(markdown: str) -> str:
    """Escape math stars on a page, outside fenced code, ``$$`` blocks and indented code."""
    out: list[str] = []
    fence = math = False
    previous_blank = True
    for line in markdown.splitlines():
        if FENCE.match(line):
            fence = not fence
        elif line.strip() == "$$":
            math = not math
        elif not (fence or math or (_indent(line) >= 4 and previous_blank)):
            line = escape_plain_math(line)
        if line.strip():
            previous_blank = _indent(line) >= 4 and previous_blank
        else:
            previous_blank = True
        out.append(line)
    return "\n".join(out) + ("\n" if markdown.endswith("\n") else "")


class RstDocstrings(Extension):
    """Griffe extension: rewrite every docstring once, when griffe creates the object."""

    def on_instance(self, *, obj: Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = rst_to_markdown(obj.docstring.value)


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    """mkdocs hook: :func:`page_markdown` on every page."""
    return page_markdown(markdown)
