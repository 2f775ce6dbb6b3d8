"""The shape of the product's code, for the architecture test and ``bench/code_size.py``: a formatted copy
(``# fmt: skip`` markers removed, the project's own ruff settings), function sizes, the import graph of
the product's modules, its circles and the floors of a package."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

PACKAGES = ("assistant", "models", "retrieval", "prompts")
FMT_SKIP = re.compile(r"\s*# fmt: skip\s*$", re.MULTILINE)


def formatted_copy(root: Path, into: Path) -> Path:
    """The product's packages and the ruff settings copied, markers removed, formatted."""
    for package in PACKAGES:
        shutil.copytree(root / package, into / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(root / "pyproject.toml", into / "pyproject.toml")
    for path in into.rglob("*.py"):
        path.write_text(FMT_SKIP.sub("", path.read_text()))
    ruff = Path(sys.executable).with_name("ruff")
    subprocess.run([str(ruff), "format", "--quiet", "."], cwd=into, check=True)
    return into


def function_sizes(tree: ast.AST, where: str) -> dict[str, int]:
    return {
        f"{where}:{n.name}": n.end_lineno - n.lineno + 1  # type: ignore[operator]
        for n in ast.walk(tree)
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
    }


def module_name(root: Path, path: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> product modules it imports (at the top or inside a function)."""
    files = {module_name(root, p): p for package in PACKAGES for p in (root / package).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                wanted = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                wanted = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            else:
                continue
            targets |= {w for w in wanted if w in files}
        graph[name] = targets - {name} - set(PACKAGES)
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def floors(graph: dict[str, set[str]], package: str) -> int:
    """The longest chain of imports inside one package (a module importing nothing of it is floor 1);
    modules on one circle share a floor."""
    inside = {m: {t for t in ts if t.startswith(package + ".")} for m, ts in graph.items()}
    inside = {m: ts for m, ts in inside.items() if m.startswith(package + ".")}
    component = {m: m for m in inside}
    for circle in circles(inside):
        for m in circle:
            component[m] = circle[0]
    edges: dict[str, set[str]] = defaultdict(set)
    for m, ts in inside.items():
        edges[component[m]] |= {component[t] for t in ts if component[t] != component[m]}
    memo: dict[str, int] = {}

    def floor(c: str) -> int:
        if c not in memo:
            memo[c] = 1 + max((floor(t) for t in edges[c]), default=0)
        return memo[c]

    return max(floor(c) for c in set(component.values()))
