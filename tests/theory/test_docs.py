"""Documentation is checked like code: every theorem states its math, its reference, a
doctest and has a test; every public name is documented; the doctests pass."""

import doctest
import importlib
import inspect
import pathlib
import subprocess
import sys

import pytest

import theory
from theory.proofs import PROOFS

TESTS = pathlib.Path(__file__).resolve().parents[1]
MODULES = ["theory.joint", "theory.frechet", "theory.fastdllm", "theory.certificates",
           "theory.entropy", "theory.bruteforce", "theory.proofs", "theory.strategies",
           "theory.margins", "theory.rules", "theory.profile", "theory.domains",
           "theory.freedave.auto"]


def _test_sources():
    return "\n".join(p.read_text() for p in TESTS.rglob("test_*.py")
                     if p.name != "test_docs.py")


@pytest.mark.parametrize("theorem", theory.THEOREMS, ids=lambda f: f.__name__)
def test_every_theorem_states_math_reference_and_doctest(theorem):
    doc = inspect.getdoc(theorem) or ""
    assert ".. math::" in doc, f"{theorem.__name__}: no '.. math::' block"
    assert "Reference" in doc, f"{theorem.__name__}: no Reference line"
    assert ">>>" in doc, f"{theorem.__name__}: no doctest"
    assert "Hypotheses" in doc, f"{theorem.__name__}: no Hypotheses"


@pytest.mark.parametrize("theorem", [*theory.THEOREMS, *PROOFS], ids=lambda f: f.__name__)
def test_every_theorem_is_named_by_a_test(theorem):
    assert theorem.__name__ in _test_sources(), f"no test mentions {theorem.__name__}"


def test_every_proof_has_a_reference():
    for prove in PROOFS:
        assert "Reference" in (inspect.getdoc(prove) or ""), prove.__name__


@pytest.mark.parametrize("name", theory.__all__)
def test_every_public_name_is_documented(name):
    obj = getattr(theory, name)
    if callable(obj):
        assert inspect.getdoc(obj), f"theory.{name} has no docstring"


@pytest.mark.parametrize("module", MODULES)
def test_doctests_pass(module):
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_importing_theory_loads_neither_torch_nor_sympy_nor_hypothesis():
    code = ("import sys, theory; bad = [m for m in ('torch', 'sympy', 'hypothesis', "
            "'scipy.optimize') if m in sys.modules]; print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=TESTS.parent)
    assert out.stdout.strip() == ""
