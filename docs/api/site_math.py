"""mkdocs hook: the site's formulas become MathML when the site is built, so a page shows its
math with no script and no network (browsers render MathML Core natively).

pymdownx.arithmatex (generic mode) wraps each ``$...$`` and ``$$...$$`` of a page, and each
``.. math::`` of a docstring (site_markdown.py makes those ``$$`` blocks), as
``<span class="arithmatex">\\(TeX\\)</span>`` or ``<div class="arithmatex">\\[TeX\\]</div>``.
:func:`on_page_content` replaces the TeX by latex2mathml's ``<math>`` element
(``display="block"`` for display math, kept in its div, which the theme lets scroll sideways).

Two rewrites come first: ``REWRITE`` (the few bits of TeX that latex2mathml renders unlike
TeX, each replaced by what TeX means by it) and, in display math only, ``\\limits`` after
``\\max``, ``\\min`` and the like, so their subscript goes below as in TeX (latex2mathml does
this only for ``\\sum`` and ``\\prod``). docs/stylesheets/math.css names the system math fonts
that large operators and stretchy brackets need.

latex2mathml passes a command it does not know through as text (``<mi>\\foo</mi>``), so a
backslash left in the MathML is an error: the build stops, naming the page, the command and
the formula. Fix the formula, or add the command to ``REWRITE``.
"""

from __future__ import annotations

import html
import logging
import re
from typing import Any

from latex2mathml.converter import convert
from mkdocs.exceptions import PluginError

# arithmatex's output: \( \) inline in a span, \[ \] display in a div; the TeX is HTML-escaped
FORMULA = re.compile(r'<(span|div) class="arithmatex">\\([(\[])(.*?)\\[)\]]</\1>', re.S)
# TeX that latex2mathml renders unlike TeX -> what TeX means by it
REWRITE = {
    r"\iff": r"\;\Longleftrightarrow\;",  # latex2mathml drops TeX's spacing around the arrow
    r"\implies": r"\;\Longrightarrow\;",
    "=:": r"\eqqcolon",  # latex2mathml sets the = apart from the : (TeX sets them together)
    ":=": r"\coloneqq",
}
REWRITTEN = re.compile("|".join(re.escape(tex) + ("(?![A-Za-z])" if tex[1:].isalpha() else "")
                                for tex in REWRITE))
LIMITS = re.compile(r"\\(max|min|sup|inf|lim|liminf|limsup|bigcap|bigcup)(?=\s*[_^])")
LEFTOVER = re.compile(r"\\(?:[A-Za-z]+|.)")
log = logging.getLogger("mkdocs.hooks.site_math")


def tex_to_mathml(tex: str, display: bool = False) -> str:
    """The ``<math>`` element of one TeX formula (``display="block"`` if display).

    Raises ValueError naming the first command latex2mathml could not convert, and the
    formula, or carrying latex2mathml's own error for TeX it cannot parse.
    """
    source = REWRITTEN.sub(lambda m: REWRITE[m.group(0)], tex)
    if display:
        source = LIMITS.sub(r"\\\1\\limits", source)
    try:
        mathml = convert(source, display="block" if display else "inline")
    except Exception as err:  # latex2mathml's exceptions share no base class
        reason = f"{type(err).__name__} {err}".strip()
        raise ValueError(f"latex2mathml cannot convert '{tex}': {reason}") from err
    left = LEFTOVER.search(mathml)
    if left:
        raise ValueError(f"unsupported TeX command {left.group(0)} in '{tex}'")
    return mathml


def page_mathml(text: str) -> tuple[str, int]:
    """Every arithmatex formula of a page's HTML as MathML; returns (HTML, formulas)."""
    def replace(match: re.Match[str]) -> str:
        tag, opening, tex = match.groups()
        mathml = tex_to_mathml(html.unescape(tex).strip(), display=opening == "[")
        return f'<div class="arithmatex">{mathml}</div>' if tag == "div" else mathml

    return FORMULA.subn(replace, text)


def on_page_content(html_text: str, page: Any, **kwargs: Any) -> str:
    """mkdocs hook: :func:`page_mathml` on every page; a formula that fails stops the build."""
    try:
        out, n = page_mathml(html_text)
    except ValueError as err:
        raise PluginError(f"site_math: {page.file.src_uri}: {err}") from err
    if n:
        log.debug("%s: %d formulas rendered to MathML", page.file.src_uri, n)
    return out
