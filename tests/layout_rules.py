"""The layout's rules read off the source: imports, module and function sizes.

Plain functions over ``ast`` so that ``tests/test_layout.py`` can state each
rule in one assertion and a failure names the files to look at.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The apps in their layers: each may import only those before it.
LAYERS = ("coding_app", "worker", "review", "training")


@dataclass(frozen=True)
class Module:
    name: str  # dotted, e.g. "worker.uploads.services"
    path: Path
    is_package: bool  # an __init__.py

    @property
    def package(self) -> str:
        return self.name if self.is_package else self.name.rpartition(".")[0]


def app_modules(apps: tuple[str, ...] = LAYERS) -> dict[str, Module]:
    """Every module of the apps, migrations included, by dotted name."""
    modules: dict[str, Module] = {}
    for app in apps:
        for path in sorted((ROOT / app).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            is_package = parts[-1] == "__init__"
            name = ".".join(parts[:-1] if is_package else parts)
            modules[name] = Module(name, path, is_package)
    return modules


def imported_names(module: Module) -> Iterator[str]:
    """Dotted names a module imports anywhere (function bodies and
    ``TYPE_CHECKING`` blocks too: a lazy import is still a dependency)."""
    tree = ast.parse(module.path.read_text(), str(module.path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, node)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def _absolute(module: Module, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    parts = module.package.split(".")
    parts = parts[: len(parts) - node.level + 1]
    return ".".join([*parts, node.module] if node.module else parts)


def import_edges(modules: dict[str, Module]) -> set[tuple[str, str]]:
    """(importer, imported) pairs between the apps' own modules; a name that
    is an attribute of a module (``from x import func``) counts as ``x``."""
    edges = set()
    for module in modules.values():
        for name in imported_names(module):
            target = _known_module(name, modules)
            if target and target != module.name:
                edges.add((module.name, target))
    return edges


def _known_module(name: str, modules: dict[str, Module]) -> str | None:
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def upward_imports(edges: set[tuple[str, str]]) -> list[str]:
    """Imports from an app into an app of a higher layer."""
    layer = {app: index for index, app in enumerate(LAYERS)}
    return sorted(
        f"{source} imports {target}"
        for source, target in edges
        if layer[target.split(".")[0]] > layer[source.split(".")[0]]
    )


def package_cycles(modules: dict[str, Module], edges: set[tuple[str, str]]) -> list[list[str]]:
    """Import cycles that pass through two or more sub-packages of a package,
    at every level. A package's own modules (``tasks``, ``__init__``) are
    parts of the graph, so a cycle that runs through one is found too; a
    cycle of modules inside one sub-package (a service that enqueues its
    own task) is that sub-package's business."""
    packages = {m.name for m in modules.values() if m.is_package}
    cycles = []
    for package in sorted(packages):
        graph: dict[str, set[str]] = {}
        for source, target in edges:
            a, b = _part_of(source, package), _part_of(target, package)
            if a and b and a != b:
                graph.setdefault(a, set()).add(b)
        for component in _strongly_connected(graph):
            if sum(part in packages for part in component) >= 2:
                cycles.append(component)
    return cycles


def _part_of(name: str, package: str) -> str | None:
    """The part of ``package`` that ``name`` lies in, or None if outside it."""
    if name == package:
        return f"{package}.__init__"
    if not name.startswith(package + "."):
        return None
    return package + "." + name[len(package) + 1 :].split(".")[0]


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm: the components of more than one node."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def source_files(folders: tuple[str, ...]) -> Iterator[Path]:
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def long_modules(folders: tuple[str, ...], limit: int) -> list[str]:
    lines = ((path, path.read_text().count("\n")) for path in source_files(folders))
    return [f"{path.relative_to(ROOT)}: {count} lines" for path, count in lines if count > limit]


def long_functions(folders: tuple[str, ...], limit: int, exempt: frozenset[str]) -> list[str]:
    """Functions longer than ``limit`` lines (``def`` to last line, the
    decorators left out), but for those named in ``exempt`` as
    ``path:function``."""
    found = []
    for path in source_files(folders):
        relative = str(path.relative_to(ROOT))
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > limit and f"{relative}:{node.name}" not in exempt:
                found.append(f"{relative}:{node.lineno} {node.name}: {length} lines")
    return found


def long_entry_points(folders: tuple[str, ...], limit: int) -> list[str]:
    """Views (module-level functions of ``views.py`` and ``api.py``) and
    Celery tasks (module-level functions of ``tasks.py``) over ``limit``."""
    found = []
    for path in source_files(folders):
        if path.name not in {"views.py", "api.py", "tasks.py"}:
            continue
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > limit:
                    found.append(f"{path.relative_to(ROOT)}:{node.name}: {length} lines")
    return found
