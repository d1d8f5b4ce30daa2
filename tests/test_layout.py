"""The layout's rules, read from the source with `ast`: no import cycle between the project's
modules, the daemon never reaches the beets front end.

Every import counts, at module level or inside a function (a lazy import still closes a cycle:
it only moves the crash to the first call), except those under `if TYPE_CHECKING:`, which never
run. Importing a submodule also runs its parent packages' __init__; those implicit edges are
left out, as Python has the parent in sys.modules before any child starts.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# (folder holding the top-level package, package folder) for each part of the project
PACKAGES = ((ROOT, ROOT / "beetsplug" / "cluster"), (ROOT / "daemon", ROOT / "daemon" / "clusterd"))
FRONT_END = ("beetsplug.cluster.plugin", "beetsplug.cluster.command")


def project_modules(packages=PACKAGES) -> dict[str, Path]:
    """Dotted module name -> file, for every module of the project's packages."""
    found = {}
    for base, package in packages:
        for path in sorted(package.rglob("*.py")):
            parts = list(path.relative_to(base).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST):
    """Every Import/ImportFrom node that can run, at any depth."""
    todo = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        children = list(ast.iter_child_nodes(node))
        if isinstance(node, ast.If) and _is_type_checking(node):
            children = node.orelse
        todo.extend(children)


def imported_modules(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project's modules that `module` imports, relative imports resolved."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names = set()
    for node in _imports(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
            continue
        if node.level:
            base = package.split(".")
            base = base[: len(base) - (node.level - 1)]
            target = ".".join(base + ([node.module] if node.module else []))
        else:
            target = node.module or ""
        for alias in node.names:
            # `from pkg import sub` imports the submodule when there is one, else a name of pkg
            sub = f"{target}.{alias.name}"
            names.add(sub if sub in modules else target)
    found = set()
    for name in names:
        parts = name.split(".")
        while parts and ".".join(parts) not in modules:  # `import a.b.c` of a name in a.b
            parts.pop()
        if parts and ".".join(parts) != module:
            found.add(".".join(parts))
    return found


def import_graph(packages=PACKAGES) -> dict[str, set[str]]:
    """Module -> the project's modules it imports."""
    modules = project_modules(packages)
    return {m: imported_modules(m, path, modules) for m, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component that has one (Tarjan), as a closed path."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(component)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return [_closed_path(graph, c) for c in components]


def _closed_path(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    """A shortest cycle through the component's first module, staying inside the component."""
    start = min(component)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph[v] & component):
                if w == start:
                    return paths[v] + [start]
                if w not in paths:
                    paths[w] = paths[v] + [w]
                    nxt.append(w)
        frontier = nxt
    raise AssertionError(f"no cycle in {component}")  # Tarjan's component always has one


def reaches(graph: dict[str, set[str]], start: str, goals: tuple[str, ...]) -> list[str] | None:
    """The import chain from start to one of goals, or None."""
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph[v]):
                if w not in paths:
                    paths[w] = paths[v] + [w]
                    if w in goals:
                        return paths[w]
                    nxt.append(w)
        frontier = nxt
    return None


def _show(path: list[str]) -> str:
    return " -> ".join(path)


# -- the checker checks what it claims ---------------------------------------------------------

def test_the_checker_finds_a_cycle_through_a_lazy_relative_import(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "a.py").write_text("from ..errors import E\n\ndef f():\n    from . import b\n")
    (pkg / "sub" / "b.py").write_text("from .a import f\n")
    (pkg / "errors.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .sub import a\n")
    graph = import_graph(((tmp_path, pkg),))
    assert graph["pkg.sub.a"] == {"pkg.errors", "pkg.sub.b"}
    assert graph["pkg.errors"] == set()  # a TYPE_CHECKING import never runs
    assert cycles(graph) == [["pkg.sub.a", "pkg.sub.b", "pkg.sub.a"]]
    assert reaches(graph, "pkg.sub.b", ("pkg.errors",)) == ["pkg.sub.b", "pkg.sub.a", "pkg.errors"]


def test_the_checker_sees_the_whole_project():
    graph = import_graph()
    assert {"beetsplug.cluster.clustering.fit", "clusterd.handler"} <= set(graph)
    assert "beetsplug.cluster.clustering.kmeans" in graph["beetsplug.cluster.clustering.fit"]


# -- the rules ----------------------------------------------------------------------------------

def test_methods_and_autoencoder_import_without_a_cycle():
    graph = import_graph()
    methods = "beetsplug.cluster.clustering.methods"
    through = [c for c in cycles(graph) if methods in c]
    assert not through, "\n".join(_show(c) for c in through)
    assert methods not in graph["beetsplug.cluster.clustering.autoencoder"]


def test_the_core_alone_has_no_import_cycle():
    # Without the front ends' glue (issue 10's other part rewires it), so that a new cycle
    # inside the core fails today while test_no_import_cycle still waits for that rewiring.
    glue = {"beetsplug.cluster", "beetsplug.cluster.plugin", "beetsplug.cluster.daemon_command"}
    graph = {m: e - glue for m, e in import_graph().items()
             if m not in glue and not m.startswith("clusterd")}
    found = cycles(graph)
    assert not found, "import cycles:\n" + "\n".join(_show(c) for c in found)


def test_no_import_cycle():
    found = cycles(import_graph())
    assert not found, "import cycles:\n" + "\n".join(_show(c) for c in found)


def test_the_daemon_never_imports_the_beets_front_end():
    graph = import_graph()
    chains = [chain for m in sorted(graph) if m.startswith("clusterd")
              if (chain := reaches(graph, m, FRONT_END))]
    assert not chains, "\n".join(_show(c) for c in chains)
