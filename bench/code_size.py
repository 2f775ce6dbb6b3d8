"""Code size and shape per package, measured on formatted code: modules, lines, the largest module and
function, how many break the limits that tests/test_architecture.py enforces (400 lines a module, 60 a
function), the import graph's circles, the floors of ``models/`` and what ``import assistant.settings``
costs.

Run: ``python bench/code_size.py [CHECKOUT] [--markdown]`` (default: this checkout). The checkout is
copied to a temporary folder, its ``# fmt: skip`` markers are removed and it is formatted with the
project's own ruff settings before anything is counted, so packing code onto one line hides nothing.
Pointing it at an older checkout (``git worktree add /tmp/old REV``) gives the before/after figures of a
renovation. ``--markdown`` prints the size table that docs/architecture.md carries.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.code_shape import PACKAGES, circles, floors, formatted_copy, function_sizes, import_graph

MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def settings_import_seconds(root: Path) -> float:
    """Wall time of ``import assistant.settings`` as ``python -X importtime`` reports it (cumulative)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import assistant.settings"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(row for row in done.stderr.splitlines() if row.rstrip().endswith("| assistant.settings"))
    return int(line.split("|")[1]) / 1e6


def report(root: Path, markdown: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        copy = formatted_copy(root, Path(tmp))
        rows = []
        all_functions: dict[str, int] = {}
        all_modules: dict[str, int] = {}
        for package in PACKAGES:
            files = sorted((copy / package).rglob("*.py"))
            lines = {str(p.relative_to(copy)): len(p.read_text().splitlines()) for p in files}
            functions: dict[str, int] = {}
            for p in files:
                functions |= function_sizes(ast.parse(p.read_text()), str(p.relative_to(copy)))
            all_functions |= functions
            all_modules |= lines
            rows.append((package, len(files), sum(lines.values()), lines, functions))
        graph = import_graph(copy)
    markers = sum(p.read_text().count("# fmt: skip") for pkg in PACKAGES for p in (root / pkg).rglob("*.py"))
    if markdown:
        print("| package | modules | lines | largest module | over 400 | largest function | over 60 |")
        print("|---|---|---|---|---|---|---|")
    else:
        print(
            f"{'package':<10} {'modules':>7} {'lines':>7} {'largest':>7} {'>400':>5} {'largest fn':>10} {'>60':>4}"
        )
    for package, n, total, lines, functions in rows:
        big = max(lines.values())
        fn = max(functions.values(), default=0)
        over_m = sum(v > MAX_MODULE_LINES for v in lines.values())
        over_f = sum(v > MAX_FUNCTION_LINES for v in functions.values())
        if markdown:
            print(f"| `{package}/` | {n} | {total:,} | {big} | {over_m} | {fn} | {over_f} |")
        else:
            print(f"{package:<10} {n:>7} {total:>7} {big:>7} {over_m:>5} {fn:>10} {over_f:>4}")
    if markdown:
        return
    module, size = max(all_modules.items(), key=lambda kv: kv[1])
    function, fsize = max(all_functions.items(), key=lambda kv: kv[1])
    found = circles(graph)
    print(
        f"modules {len(graph)}, import edges {sum(len(t) for t in graph.values())}, fmt: skip markers {markers}"
    )
    print(f"largest module (formatted): {module} {size} lines; largest function: {function} {fsize} lines")
    print(f"import circles: {len(found)}" + "".join(f"\n  {' <-> '.join(c)}" for c in found))
    top = sum(1 for p in (root / "models").glob("*.py") if p.name != "__init__.py")
    print(f"models/: {top} top-level modules on {floors(graph, 'models')} import floors")
    print(
        f"import assistant.settings: {settings_import_seconds(root):.2f} s (python -X importtime, cumulative)"
    )


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    report(Path(args[0]) if args else Path(__file__).resolve().parents[1], "--markdown" in sys.argv)
