"""Imports run one way: no module of branchbook imports, however indirectly and
wherever in its code, a module that imports it back."""

from __future__ import annotations

import ast
from pathlib import Path

import branchbook

PACKAGE = Path(branchbook.__file__).resolve().parent


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The branchbook modules ``name`` imports, at the top or inside a function."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name in modules}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            submodules = {f"{base}.{a.name}" for a in node.names} & modules.keys()
            out |= submodules
            if len(submodules) < len(node.names) and base in modules:
                out.add(base)  # a name defined in the module itself
    return out - {name}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_module_imports_its_way_back_to_itself():
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    assert graph["branchbook.runner.orchestrate"] >= {"branchbook.runner.plan"}  # it sees imports
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_loop():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


REPORTS = ("segmentation", "risk", "satisfaction", "staff_kpi")


def test_reports_read_the_metric_layer_never_each_other():
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}

    def home(module: str) -> str:
        parts = module.split(".")
        return parts[1] if len(parts) > 1 else ""

    crossing = sorted(
        f"{name} -> {dep}"
        for name, deps in graph.items()
        for dep in deps
        if home(name) in (*REPORTS, "metrics") and home(dep) in REPORTS and home(dep) != home(name)
    )
    assert crossing == []
