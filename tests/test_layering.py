"""The package's import graph runs one way: documents → targets → actuals → statuses → reports
and alerts, with the store under the stages and the edges (service, jobs, web, cli) above.

Read with `ast` from the source (function-level imports included, since a lazy import is still
a dependency), so a cycle or a back edge fails here before anyone has to find it in review.
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "tracker"

# Lower first. A module may import its own layer and the layers below it, never above.
LAYERS: list[tuple[str, ...]] = [
    ("config", "domain", "faults"),
    ("store",),
    ("targets",),
    ("actuals",),
    ("status",),
    ("report",),
    ("alerts",),
    ("service",),
    ("jobs",),
    ("web",),
    ("cli", "__main__"),
]
RANK = {name: i for i, names in enumerate(LAYERS) for name in names}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every tracker module `path` imports, at any depth of the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("tracker"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("tracker"):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        for imported in _imports(path):
            # `from tracker import store as db` names the module tracker.store.db
            while imported and imported not in modules:
                imported = imported.rpartition(".")[0]
            if imported and imported != name:
                targets.add(imported)
        graph[name] = targets
    return graph


def _stage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_every_module_belongs_to_a_layer():
    unplaced = sorted(m for m in _graph() if m != "tracker" and _stage(m) not in RANK)
    assert not unplaced, f"modules outside every layer (add them to LAYERS): {unplaced}"


def test_no_import_runs_back_up_the_stages():
    back = []
    for module, targets in _graph().items():
        if module == "tracker":
            continue
        for target in targets:
            if target != "tracker" and RANK[_stage(target)] > RANK[_stage(module)]:
                back.append(f"{module} -> {target}")
    assert not back, "imports from a lower stage to a higher one:\n" + "\n".join(sorted(back))


def test_no_import_cycles():
    graph = _graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_the_checker_sees_a_back_edge(tmp_path, monkeypatch):
    """The test above can fail: a store module importing the report is caught."""
    fake = tmp_path / "tracker"
    (fake / "store").mkdir(parents=True)
    (fake / "report").mkdir()
    (fake / "store" / "x.py").write_text("def f():\n    from tracker.report import y\n")
    (fake / "report" / "y.py").write_text("")
    monkeypatch.setattr(__import__(__name__), "PACKAGE", fake)
    graph = _graph()
    assert graph["tracker.store.x"] == {"tracker.report.y"}
