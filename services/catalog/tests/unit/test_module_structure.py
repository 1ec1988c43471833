"""Catalog's modules import each other in one direction: no cycles, and no import hidden inside a function
to dodge one."""

from __future__ import annotations

import ast
from pathlib import Path

import catalog

PACKAGE = Path(catalog.__file__).parent


def _modules() -> dict[str, ast.Module]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = ast.parse(path.read_text(), filename=str(path))
    return out


def _imported(node: ast.AST, modules: dict[str, ast.Module]) -> set[str]:
    found = set()
    if isinstance(node, ast.Import):
        found = {alias.name for alias in node.names}
    elif isinstance(node, ast.ImportFrom) and node.module:
        found = {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in found if name in modules}


def test_no_module_of_catalog_imports_inside_a_function():
    modules = _modules()
    hidden = []
    for name, tree in modules.items():
        for function in ast.walk(tree):
            if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                hidden += [f"{name}.{function.name}: {sorted(_imported(node, modules))}"
                           for node in ast.walk(function) if _imported(node, modules)]
    # the app factory gathers its blueprints; nothing imports catalog.api back
    assert [h for h in hidden if not h.startswith("catalog.api.blueprints")] == []


def test_catalog_use_cases_import_each_other_without_cycles():
    modules = _modules()
    graph = {name: {dep for node in tree.body for dep in _imported(node, modules) if dep != name}
             for name, tree in modules.items() if name.startswith("catalog.use_cases.")}
    state: dict[str, str] = {}

    def visit(name: str, path: list[str]) -> None:
        state[name] = "open"
        for dep in sorted(graph.get(name, ())):
            if state.get(dep) == "open":
                raise AssertionError("import cycle: " + " -> ".join(path[path.index(dep):] + [dep]))
            if dep not in state:
                visit(dep, path + [dep])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
