"""The documentation site cannot rot: every theorem in theory.THEOREMS has a page in the nav,
every Python name and every test named on the theory, study and getting-started pages exists,
the getting-started session runs as written, and the study pages link the fixed figures.

The site itself is built by `make docs` (mkdocs build --strict), which fails on any warning,
a cross-reference (`[`theory.x`][]`) that the API reference cannot resolve included; these
tests need no mkdocs.
"""

import doctest
import importlib
import importlib.util
import pathlib
import re
from typing import Any

import pytest

import theory
from simulate.studies import STUDIES

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
MKDOCS = (ROOT / "mkdocs.yml").read_text()
THEOREM_NAMES = [f.__name__ for f in theory.THEOREMS]
# written by `paradec report` (another part of the project), and freedave_subset.png by
# `python -m paradec.figures.freedave_subset`; the study pages link them
FIGURES = {"accuracy_vs_speed.png", "bonus.png", "margins_along_profile.png", "freedave_vs_K.png",
           "violations_vs_dependence.png", "reliability.png", "freedave_subset.png"}
REAL_STUDIES = ["shipped_sweep", "freedave", "replay_calibration"]
PAGES = sorted([DOCS / "index.md", *(DOCS / "theory").glob("*.md"),
                *(DOCS / "studies").glob("*.md")])
SECTIONS = ["## Statement", "## Hypotheses", "## Proof sketch", "## Source", "## Code",
            "## Tests", "## Corrections to the source"]

PY_NAME = re.compile(r"`((?:theory|simulate|realmodel|paradec)(?:\.\w+)+)(?:\(\))?`")
TEST_REF = re.compile(r"`(tests/[\w/]+\.py)::(test_\w+)`")
FIGURE_LINK = re.compile(r"\]\(\.\./figures/([\w.]+)\)")
PYCON = re.compile(r"```pycon\n(.*?)```", re.S)


def _page_id(path: pathlib.Path) -> str:
    return str(path.relative_to(DOCS))


def resolve(dotted: str) -> Any:
    """The object a dotted name refers to: the longest importable module prefix, then
    attributes. Raises ImportError or AttributeError when the name does not exist."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(dotted)


@pytest.mark.parametrize("name", THEOREM_NAMES)
def test_every_theorem_has_a_page_in_the_nav(name):
    assert (DOCS / "theory" / f"{name}.md").is_file(), f"no docs/theory/{name}.md"
    assert f"theory/{name}.md" in MKDOCS, f"theory/{name}.md is not in mkdocs.yml's nav"


def test_the_theory_pages_are_exactly_the_theorems():
    pages = {p.stem for p in (DOCS / "theory").glob("*.md")}
    assert pages == set(THEOREM_NAMES), f"stale or missing pages: {pages ^ set(THEOREM_NAMES)}"


@pytest.mark.parametrize("name", THEOREM_NAMES)
def test_every_theorem_page_has_statement_proof_source_function_twin_and_tests(name):
    text = (DOCS / "theory" / f"{name}.md").read_text()
    missing = [s for s in SECTIONS if s not in text]
    assert not missing, f"{name}.md lacks {missing}"
    assert "$$" in text, f"{name}.md states no display math"
    # a cross-reference: the strict build fails if the API reference lacks the function
    assert f"[`theory.{name}`][]" in text, f"{name}.md does not link theory.{name}"
    assert "| brute-force twin |" in text, f"{name}.md names no brute-force twin"
    assert TEST_REF.search(text), f"{name}.md names no test"


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_every_python_name_on_the_page_exists(page):
    for dotted in sorted(set(PY_NAME.findall(page.read_text()))):
        try:
            resolve(dotted)
        except (ImportError, AttributeError) as err:
            pytest.fail(f"{_page_id(page)} names {dotted}, which does not exist ({err})")


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_every_test_named_on_the_page_exists(page):
    for path, name in sorted(set(TEST_REF.findall(page.read_text()))):
        source = ROOT / path
        assert source.is_file(), f"{_page_id(page)} names {path}, which does not exist"
        assert re.search(rf"^\s*def {name}\(", source.read_text(), re.M), \
            f"{_page_id(page)} names {path}::{name}, which does not exist"


def test_every_study_has_a_page_in_the_nav():
    for name in [*STUDIES, *REAL_STUDIES]:
        assert (DOCS / "studies" / f"{name}.md").is_file(), f"no docs/studies/{name}.md"
        assert f"studies/{name}.md" in MKDOCS, f"studies/{name}.md is not in the nav"


def test_study_pages_link_only_the_fixed_figures_and_every_one_of_them():
    linked: set[str] = set()
    for page in (DOCS / "studies").glob("*.md"):
        figures = set(FIGURE_LINK.findall(page.read_text()))
        assert figures <= FIGURES, f"{_page_id(page)} links unknown figures {figures - FIGURES}"
        assert "```bash" in page.read_text(), f"{_page_id(page)} gives no command"
        linked |= figures
    assert linked == FIGURES, f"no study page shows {FIGURES - linked}"


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_the_python_sessions_on_the_page_run_as_written(page):
    session = "\n".join(PYCON.findall(page.read_text()))  # one namespace for the page
    test = doctest.DocTestParser().get_doctest(session, {}, _page_id(page), str(page), 0)
    result = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS).run(test)
    assert result.failed == 0, f"{_page_id(page)}: {result.failed} example(s) failed"


def test_helpers_logs_are_kept_out_of_the_site():
    assert re.search(r"^exclude_docs: \|\n(?:  .*\n)*  log/$", MKDOCS, re.M)


def _hook(name: str) -> Any:
    """A module of docs/api/ (the site's hooks and griffe extension), loaded by path."""
    spec = importlib.util.spec_from_file_location(name, DOCS / "api" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _site_markdown() -> Any:
    """docs/api/site_markdown.py, the site's Markdown fixes (it needs griffe: the docs extra)."""
    pytest.importorskip("griffe", reason="the docs extra is not installed: pip install '.[docs]'")
    return _hook("site_markdown")


def test_docstring_math_and_doctests_become_markdown_blocks():
    md = _site_markdown().rst_to_markdown("Margin.\n\n.. math:: G_n = L_n - r_{(n)}\n"
                                          "          > 0\n\n>>> f(1)\n2\n\nAfter :func:`x.y`.")
    assert "$$\nG_n = L_n - r_{(n)}\n> 0\n$$" in md
    assert "```pycon\n>>> f(1)\n2\n```" in md
    assert md.endswith("After `x.y`.")


def test_plain_math_stars_are_escaped_but_code_math_and_emphasis_are_not():
    escape = _site_markdown().escape_plain_math
    assert escape("p(x*) and G*_n") == "p(x\\*) and G\\*\\_n"
    assert escape("`G*_n` and $x^*_j$ and *spread bonus* x*") == \
        "`G*_n` and $x^*_j$ and *spread bonus* x\\*"
    assert escape("**Statement.** text") == "**Statement.** text"


def test_pages_keep_fenced_and_indented_code_as_written():
    page = _site_markdown().page_markdown
    text = "text x*\n\n    code x*\n\n```\nfence x*\n```\n$$\nx*\n$$\n"
    assert page(text) == "text x\\*\n\n    code x*\n\n```\nfence x*\n```\n$$\nx*\n$$\n"


def test_the_command_line_page_shows_the_help_of_every_command():
    from paradec.cli import COMMANDS

    cli_help = _hook("cli_help")
    assert cli_help.MARKER in (DOCS / "api" / "cli.md").read_text()
    reference = cli_help.cli_reference()
    for name in (c.replace("_", "-") for c in COMMANDS):
        assert f"## paradec {name}\n\n```text\nusage: paradec {name}" in reference, name
