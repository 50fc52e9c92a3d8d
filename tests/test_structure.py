"""The package's shape: no import cycles among its modules, no source file above 600 lines.

Import graph: every module of ``plugins/supervision`` (a package's ``__init__`` is a module of its
own), with an edge for each import executed when the module is imported: module level, class
bodies, ``try``/``with`` and ``if`` blocks, but not function bodies and not ``if TYPE_CHECKING:``.
``from p import x`` points at ``p.x`` when that is a module, else at ``p``; relative imports are
resolved against the importing module's package."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "plugins" / "supervision"
MAX_LINES = 600
GENERATED: frozenset[str] = frozenset()     # package-relative paths of generated sources (none)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def python_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py")) if "target" not in p.parts}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_time_statements(body: list[ast.stmt]):
    """Statements run when the module is imported (function bodies and TYPE_CHECKING blocks excluded)."""
    for node in body:
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        if isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                yield from _import_time_statements(node.body)
            yield from _import_time_statements(node.orelse)
        elif isinstance(node, ast.ClassDef):
            yield from _import_time_statements(node.body)
        elif isinstance(node, (ast.With, ast.AsyncWith, ast.For, ast.AsyncFor, ast.While)):
            yield from _import_time_statements(node.body)
            yield from _import_time_statements(getattr(node, "orelse", []))
        elif isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
            yield from _import_time_statements(node.body)
            for handler in node.handlers:
                yield from _import_time_statements(handler.body)
            yield from _import_time_statements(node.orelse)
            yield from _import_time_statements(node.finalbody)


def imports_of(name: str, path: Path, modules: dict[str, Path], deferred: bool = False) -> set[str]:
    """Modules of the package that importing ``name`` imports directly (``deferred``: also those that
    its functions import when they run)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()

    def known(candidate: str) -> str | None:
        while candidate and candidate not in modules:
            candidate = candidate.rpartition(".")[0]
        return candidate or None

    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in (ast.walk(tree) if deferred else _import_time_statements(tree.body)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                targets.add(known(alias.name) or "")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                full = f"{source}.{alias.name}"
                targets.add(full if full in modules else (known(source) or ""))
    targets.discard("")
    targets.discard(name)
    return targets


def import_graph(deferred: bool = False) -> dict[str, set[str]]:
    modules = python_modules()
    return {name: imports_of(name, path, modules, deferred) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def one_cycle(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """A shortest import path from the component's first module back to itself, for the message."""
    members, start = set(component), component[0]
    paths = {start: [start]}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(graph[v] & members):
            if w == start:
                return paths[v] + [start]
            if w not in paths:
                paths[w] = paths[v] + [w]
                queue.append(w)
    return component


def long_files(pattern: str) -> list[tuple[str, int]]:
    out = []
    for p in sorted(PACKAGE.rglob(pattern)):
        rel = p.relative_to(PACKAGE).as_posix()
        if "target" in p.parts or rel in GENERATED:
            continue
        n = len(p.read_text(encoding="utf-8").splitlines())
        if n > MAX_LINES:
            out.append((rel, n))
    return out


def test_the_graph_reads_imports_as_python_runs_them(tmp_path):
    source = tmp_path / "mod.py"
    source.write_text("from __future__ import annotations\n"
                      "from typing import TYPE_CHECKING\n"
                      "from . import sibling\n"
                      "from ..other import name\n"
                      "import supervision.pkg.deep.leaf as leaf\n"
                      "if TYPE_CHECKING:\n    from supervision.typing_only import T\n"
                      "try:\n    from supervision.optional import x\nexcept ImportError:\n    x = None\n"
                      "class C:\n    from supervision.in_class import y\n"
                      "def f():\n    from supervision.lazy import z\n")
    modules = {m: source for m in ("supervision.pkg", "supervision.pkg.mod", "supervision.pkg.sibling",
                                   "supervision.other", "supervision.pkg.deep", "supervision.typing_only",
                                   "supervision.optional", "supervision.in_class", "supervision.lazy")}
    assert imports_of("supervision.pkg.mod", source, modules) == {
        "supervision.pkg.sibling", "supervision.other", "supervision.pkg.deep", "supervision.optional",
        "supervision.in_class"}
    graph = import_graph()
    assert "supervision.simulator.core" in graph["supervision.simulator"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert one_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}, ["a", "b", "c"]) == ["a", "b", "c", "a"]


def test_no_import_cycles():
    graph = import_graph()
    found = [" -> ".join(one_cycle(graph, c)) for c in cycles(graph)]
    for line in found:
        print("import cycle:", line)
    assert not found, "import cycles in plugins/supervision:\n" + "\n".join(found)


LAYERED = ("supervision.review", "supervision.access", "supervision.config", "supervision.catalogue")


def test_no_deferred_import_cycles_in_the_layered_modules():
    """The review application, the access module, the settings and the catalogue do not even import
    each other in circles from inside functions (a function-level import is not a way around a cycle)."""
    graph = import_graph(deferred=True)
    ours = [c for c in cycles(graph) if any(m.startswith(LAYERED) for m in c)]
    found = [" -> ".join(one_cycle(graph, c)) for c in ours]
    assert not found, "import cycles (function-level imports counted):\n" + "\n".join(found)


def test_no_python_module_above_600_lines():
    offenders = long_files("*.py")
    for rel, n in offenders:
        print(f"{rel}: {n} lines")
    assert not offenders, f"modules above {MAX_LINES} lines: " + ", ".join(f"{r} ({n})" for r, n in offenders)


def test_no_rust_source_above_600_lines():
    offenders = long_files("*.rs")
    for rel, n in offenders:
        print(f"{rel}: {n} lines")
    assert not offenders, f"Rust sources above {MAX_LINES} lines: " + ", ".join(f"{r} ({n})" for r, n in offenders)
