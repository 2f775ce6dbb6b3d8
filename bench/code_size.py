"""Code size per package: modules, lines, the largest module and function, and how many pass the limits
that tests/test_architecture.py enforces (400 lines a module, 60 a function).

Run: ``python bench/code_size.py [CHECKOUT]`` (default: this checkout). Pointing it at an older checkout
(``git worktree add /tmp/old REV``) gives the before/after figures of a renovation; it reads files only.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGES = ("assistant", "models", "retrieval", "prompts")


def function_sizes(tree: ast.AST) -> list[int]:
    return [
        n.end_lineno - n.lineno + 1  # type: ignore[operator]
        for n in ast.walk(tree)
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
    ]


def main(root: Path) -> None:
    print(
        f"{'package':<10} {'modules':>7} {'lines':>7} {'largest':>7} {'>400':>5} {'functions':>9} {'largest':>7} {'>60':>4}"
    )
    for package in PACKAGES:
        files = sorted((root / package).rglob("*.py"))
        lines = [len(p.read_text().splitlines()) for p in files]
        sizes = [s for p in files for s in function_sizes(ast.parse(p.read_text()))]
        print(
            f"{package:<10} {len(files):>7} {sum(lines):>7} {max(lines):>7} {sum(n > 400 for n in lines):>5} "
            f"{len(sizes):>9} {max(sizes):>7} {sum(s > 60 for s in sizes):>4}"
        )
    cli = (root / "assistant" / "cli").rglob("*.py") if (root / "assistant" / "cli").is_dir() else []
    sizes = [len(p.read_text().splitlines()) for p in [*cli, root / "assistant" / "cli.py"] if p.is_file()]
    print(f"command line: {len(sizes)} module(s), largest {max(sizes)} lines")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1])
