"""The layout's rules, read from the source with `ast`: boundaries by concept, not by size.

- no import cycle between the project's modules;
- the daemon reaches the beets front end only through the package that beets loads the plugin
  from (see test_the_daemon_reaches_the_front_end_only_through_the_package);
- no class of the project is built from mixins (the core is composed of collaborators);
- no module-level mutable state outside beetsplug/cluster/process_wide.py's list.

Every import counts, at module level or inside a function (a lazy import still closes a cycle:
it only moves the crash to the first call), except those under `if TYPE_CHECKING:`, which never
run. Importing a module also runs its parent packages' __init__: those edges count too (the
daemon importing `beetsplug.cluster.library` runs `beetsplug/cluster/__init__.py`), except to
the importer's own parents, which Python has begun before the importer's first line runs.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# (folder holding the top-level package, package folder) for each part of the project
PACKAGES = ((ROOT, ROOT / "beetsplug" / "cluster"), (ROOT / "daemon", ROOT / "daemon" / "clusterd"))
FRONT_END = ("beetsplug.cluster.plugin", "beetsplug.cluster.command")
# beets finds a plugin class only in its package's namespace (beets.plugins._get_plugin reads
# `beetsplug.<name>.__dict__`), so the package binds it: importing any core module loads
# plugin.py. That edge is the one way into the front end the rules allow; plugin.py imports
# the daemon and the commands' heavy parts only inside the commands.
PLUGIN_BINDING = ("beetsplug.cluster", "beetsplug.cluster.plugin")


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
    own_parents = {".".join(module.split(".")[:i]) for i in range(1, module.count(".") + 1)}
    for name in names:
        parts = name.split(".")
        while parts and ".".join(parts) not in modules:  # `import a.b.c` of a name in a.b
            parts.pop()
        while parts:  # the module, then each parent package whose __init__ it runs
            target = ".".join(parts)
            if target != module and target not in own_parents and target in modules:
                found.add(target)
            parts.pop()
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
    (pkg / "other.py").write_text("import pkg.sub.b\n")
    graph = import_graph(((tmp_path, pkg),))
    assert graph["pkg.sub.a"] == {"pkg.errors", "pkg.sub.b"}  # its own parents: begun already
    assert graph["pkg.other"] == {"pkg.sub", "pkg.sub.b"}  # runs pkg/sub/__init__.py first
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


def test_no_import_cycle_but_through_the_plugin_binding():
    # The package binds the plugin for beets, and `beet clusterd` imports the daemon, which
    # imports the core: a cycle only through that binding, never at import time (the daemon is
    # imported inside the command's function, when the package is whole).
    graph = import_graph()
    graph[PLUGIN_BINDING[0]].discard(PLUGIN_BINDING[1])
    found = cycles(graph)
    assert not found, "import cycles:\n" + "\n".join(_show(c) for c in found)


def test_the_daemon_reaches_the_front_end_only_through_the_package():
    """The claim "the daemon never imports the plugin" held only for direct imports: every core
    module's package init binds the plugin class (beets looks for it there). What holds, and is
    checked: no daemon module reaches a front-end module but through that binding."""
    graph = import_graph()
    through = reaches(graph, "clusterd.handler", FRONT_END)
    assert through and through[-2:] == list(PLUGIN_BINDING), through  # the binding, counted
    graph[PLUGIN_BINDING[0]].discard(PLUGIN_BINDING[1])
    chains = [chain for m in sorted(graph) if m.startswith("clusterd")
              if (chain := reaches(graph, m, FRONT_END))]
    assert not chains, "\n".join(_show(c) for c in chains)
    assert "beetsplug.cluster" in graph["clusterd.handler"]  # parent edges are counted


def test_no_test_module_imports_another():
    """Shared helpers live in conftest or tests/helpers (daemon_helpers, clap_tiny), where a
    reader looks for them; a test module is never another's library, nor a script's."""
    found = []
    for path in sorted([*(ROOT / "tests").rglob("test_*.py"), *(ROOT / "scripts").glob("*.py")]):
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""])
            found += [f"{path.name} imports {n}" for n in names if n.startswith("test_")]
    assert not found, found


# -- boundaries by concept --------------------------------------------------------------------

_NOT_MIXINS = {"object", "ABC", "Protocol", "Generic", "NamedTuple", "Enum", "IntEnum",
               "Exception", "dict", "Sequence", "TypedDict"}


def _bases(node: ast.ClassDef) -> list[str]:
    names = []
    for b in node.bases:
        b = b.value if isinstance(b, ast.Subscript) else b  # Generic[T], Sequence[int]
        names.append(b.attr if isinstance(b, ast.Attribute) else getattr(b, "id", "?"))
    return names


def mixed_classes(modules: dict[str, Path]) -> list[str]:
    """Classes with more than one base that brings behaviour (a mixin), or the core's Library
    and Store with any project base at all."""
    found = []
    for module, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ClassDef):
                continue
            bases = [b for b in _bases(node) if b not in _NOT_MIXINS
                     and not b.endswith(("Error", "Exception"))]  # an exception's kinds
            core = node.name in ("Library", "Store")
            if len(bases) > 1 or (core and bases):
                found.append(f"{module}.{node.name}({', '.join(bases)})")
    return found


def test_the_checker_finds_a_mixin(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "core.py").write_text("class A:\n    pass\n\nclass Library(A):\n    pass\n\n"
                                 "class B(A, Exception):\n    pass\n\nclass C(A, dict):\n"
                                 "    pass\n\nclass D(A, B):\n    pass\n")
    assert mixed_classes(project_modules(((tmp_path, pkg),))) == [
        "pkg.core.Library(A)", "pkg.core.D(A, B)"]


def test_no_class_is_built_from_mixins():
    found = mixed_classes(project_modules())
    assert not found, f"classes built from mixins (compose collaborators instead): {found}"


_STATEFUL_CALLS = {"dict", "list", "set", "Counter", "defaultdict", "OrderedDict", "deque",
                   "Lock", "RLock", "Event", "local", "WeakValueDictionary"}
_CACHES = {"lru_cache", "cache"}


def module_state(modules: dict[str, Path]) -> list[str]:
    """"module:name" for module-level mutable state: a lower-case name bound to a container,
    a lock or a comprehension (UPPER_CASE names are constants, by the house convention), a
    cached function, and any name a `global` statement rebinds."""
    found = []
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            targets, value = [], None
            if isinstance(node, ast.Assign):
                targets, value = node.targets, node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                targets, value = [node.target], node.value
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for d in node.decorator_list:
                    d = d.func if isinstance(d, ast.Call) else d
                    if (d.attr if isinstance(d, ast.Attribute) else getattr(d, "id", "")) \
                            in _CACHES:
                        found.append(f"{module}:{node.name}")
            for t in targets:
                name = getattr(t, "id", "")
                if not name or name.isupper() or name.startswith("__"):
                    continue
                call = value.func if isinstance(value, ast.Call) else None
                called = (call.attr if isinstance(call, ast.Attribute) else
                          getattr(call, "id", "")) if call is not None else ""
                if isinstance(value, (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp,
                                      ast.SetComp)) or called in _STATEFUL_CALLS:
                    found.append(f"{module}:{name}")
        for node in ast.walk(tree):
            if isinstance(node, ast.Global):
                found.extend(f"{module}:{name}" for name in node.names)
    return sorted(set(found))


def test_the_checker_finds_module_state(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "m.py").write_text(
        "import functools, threading\nTABLE = {1: 2}\n_seen = set()\n_lock = threading.Lock()\n"
        "log = get(__name__)\n__all__ = ['f']\n\n@functools.lru_cache(maxsize=2)\ndef f():\n"
        "    global _n\n")
    assert module_state(project_modules(((tmp_path, pkg),))) == [
        "pkg.m:_lock", "pkg.m:_n", "pkg.m:_seen", "pkg.m:f"]


def test_module_state_is_only_what_process_wide_lists():
    from beetsplug.cluster.process_wide import PROCESS_WIDE

    found = set(module_state(project_modules()))
    assert found - PROCESS_WIDE.keys() == set(), "module-level state: keep it in an object " \
        "the core owns, or name it and why in beetsplug/cluster/process_wide.py"
    assert PROCESS_WIDE.keys() - found == set(), "process_wide.py lists state that is gone"
