"""Layers import one way: theory and simulate never load torch nor import realmodel, and
realmodel never imports paradec (the application layer imports it lazily)."""

import ast
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("package", ["theory", "simulate"])
def test_package_imports_without_loading_torch(package):
    code = (f"import sys, {package}, pkgutil, importlib\n"
            f"for m in pkgutil.walk_packages({package}.__path__, '{package}.'):\n"
            "    if not m.name.endswith('strategies'):\n"
            "        importlib.import_module(m.name)\n"
            "assert 'torch' not in sys.modules, sorted(k for k in sys.modules if 'torch' in k)\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_certify_command_runs_without_loading_torch():
    code = ("import sys\nfrom paradec.cli import main\n"
            "main(['certify', '--confidences', '0.9,0.8'])\n"
            "assert 'torch' not in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, capture_output=True)


def _imports(path: pathlib.Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package, forbidden", [
    ("theory", {"simulate", "realmodel", "paradec", "torch", "transformers"}),
    ("simulate", {"realmodel", "paradec", "torch", "transformers"}),
    ("realmodel", {"paradec"}),
])
def test_layer_imports_point_one_way(package, forbidden):
    for path in (ROOT / package).rglob("*.py"):
        bad = _imports(path) & forbidden
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


@pytest.mark.parametrize("package", ["theory", "simulate", "realmodel"])
def test_every_public_name_exists(package):
    module = __import__(package)
    for name in module.__all__:
        assert hasattr(module, name), f"{package}.__all__ names missing {name}"
