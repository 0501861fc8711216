"""The built site reads offline: every formula is MathML made at build time
(docs/api/site_math.py), no page keeps raw TeX outside code, and no page loads a script or
stylesheet from the network.

The fast tests call the hook's conversion directly; the slow ones build the whole site with
mkdocs (as `make docs` does, into a temporary folder) and read its HTML.
"""

import importlib.util
import os
import pathlib
import re
import subprocess
import sys
from types import ModuleType

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
HOOK = ROOT / "docs" / "api" / "site_math.py"

CODE = re.compile(r"<(code|pre)\b.*?</\1>", re.S)
RAW_TEX = [r"\(", r"\)", r"\[", r"\]", "$$"]
TEX_IN_ARITHMATEX = re.compile(r'<(span|div) class="arithmatex">(?!<math\b)')
SCRIPT_OR_LINK = re.compile(r"<(?:script|link)\b[^>]*>")
REMOTE = re.compile(r'\b(?:src|href)="(?:https?:)?//')
CSS_REMOTE = re.compile(r"@import|url\(\s*[\"']?(?:https?:)?//")


def _hook() -> ModuleType:
    pytest.importorskip("latex2mathml", reason="latex2mathml (the docs extra) is not installed")
    pytest.importorskip("mkdocs", reason="mkdocs (the docs extra) is not installed")
    spec = importlib.util.spec_from_file_location("site_math", HOOK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def site_math() -> ModuleType:
    return _hook()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """The site, built once with `mkdocs build --strict` into a temporary folder."""
    _hook()
    out = tmp_path_factory.mktemp("site") / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    run = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet",
                          "--site-dir", str(out)], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, f"mkdocs build failed:\n{run.stdout}\n{run.stderr}"
    return out


def _pages(site: pathlib.Path) -> dict[str, str]:
    return {str(p.relative_to(site)): p.read_text() for p in sorted(site.rglob("*.html"))}


def test_a_formula_with_big_underbrace_text_and_le_becomes_mathml(site_math):
    tex = r"\Big(\underbrace{a + b}_{n} \Big) \le 1 \quad \text{if } n \ge 0"
    mathml = site_math.tex_to_mathml(tex)
    assert mathml.startswith("<math") and 'display="inline"' in mathml
    assert "<munder>" in mathml and "<mtext>if" in mathml and "&#x02264;" in mathml
    assert "\\" not in mathml


def test_display_math_is_a_block_with_limits_below_max(site_math):
    mathml = site_math.tex_to_mathml(r"G^*_n = 1 - \sum_j r_j - \max_{j \le n} s_j",
                                     display=True)
    assert 'display="block"' in mathml
    assert "<munder><mo>max</mo>" in mathml and "<msub><mo>max</mo>" not in mathml


def test_an_unknown_command_raises_naming_it_and_the_formula(site_math):
    with pytest.raises(ValueError, match=r"\\foo.*x \+ \\foo"):
        site_math.tex_to_mathml(r"x + \foo{y}")


def test_a_page_formula_is_replaced_and_its_escaped_tex_read(site_math):
    page = ('<p>so <span class="arithmatex">\\(a &lt; b\\)</span> and</p>\n'
            '<div class="arithmatex">\\[x^* \\ne z\\]</div>')
    out, n = site_math.page_mathml(page)
    assert n == 2 and "arithmatex\">\\" not in out
    assert "&#x0003C;" in out and '<div class="arithmatex"><math' in out


@pytest.mark.slow
def test_no_page_shows_raw_tex_outside_code(site):
    pages = _pages(site)
    assert "index.html" in pages and "theory/tight_certificate.html" in pages
    for name, text in pages.items():
        assert not TEX_IN_ARITHMATEX.search(text), f"{name}: an arithmatex element holds TeX"
        prose = CODE.sub("", text)
        found = [d for d in RAW_TEX if d in prose]
        assert not found, f"{name}: raw TeX delimiters {found} outside code"


@pytest.mark.slow
def test_pages_with_formulas_hold_mathml(site):
    pages = _pages(site)
    with_math = ["index.html", "api/theory.html",
                 *(f"theory/{p.stem}.html" for p in (ROOT / "docs" / "theory").glob("*.md"))]
    for name in with_math:
        assert "<math " in pages[name], f"{name} has no <math> element"
    assert '<math xmlns="http://www.w3.org/1998/Math/MathML" display="block">' in pages[
        "theory/tight_certificate.html"]


@pytest.mark.slow
def test_the_site_loads_no_script_or_stylesheet_from_the_network(site):
    for name, text in _pages(site).items():
        remote = [tag for tag in SCRIPT_OR_LINK.findall(text) if REMOTE.search(tag)]
        assert not remote, f"{name} loads {remote}"
    for css in site.rglob("*.css"):
        assert not CSS_REMOTE.search(css.read_text()), f"{css.relative_to(site)} fetches"
