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


PACKAGES = ("theory", "simulate", "realmodel", "paradec")


def _module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports (every import statement, lazy ones inside
    functions included; ``from pkg import name`` counts ``pkg.name`` when that is a module;
    relative imports resolved). Importing ``a.b.c`` also runs the ``__init__`` of the
    subpackage ``a.b``, so that edge is added too. Edges to a module's own packages (and
    the top-level package) are left out: those are already loading whenever one of
    their modules is imported."""
    files = {_module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        is_pkg = path.name == "__init__.py"
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = name.split(".")[: len(name.split(".")) - node.level + is_pkg]
                    base = ".".join([*anchor, *([base] if base else [])])
                found.add(base)
                found |= {f"{base}.{a.name}" for a in node.names}
        targets = set()
        for target in found:
            if target in files:
                parts = target.split(".")
                targets |= {target, *(".".join(parts[:i]) for i in range(2, len(parts)))}
        ancestors = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 2)}
        graph[name] = targets - ancestors
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` (a list of modules, first == last), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_import_graph_has_no_cycle_and_no_upward_edge():
    graph = import_graph()
    assert len(graph) > 50 and "realmodel.engine" in graph["realmodel.freedave.decode"]
    cycle = _cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])
    rank = {pkg: i for i, pkg in enumerate(PACKAGES)}
    for module, targets in graph.items():
        for target in targets:
            up = rank[target.split(".")[0]] > rank[module.split(".")[0]]
            assert not up, f"{module} imports {target}: a lower layer imports a higher one"


def test_the_cycle_finder_finds_a_cycle_and_the_graph_sees_lazy_imports():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
    graph = import_graph()  # paradec.commands.decode imports realmodel inside functions
    assert any(t.startswith("realmodel.") for t in graph["paradec.commands.decode"])
