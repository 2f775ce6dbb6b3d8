"""Compare two runs of ``bench/behaviour/steps.sh`` (old code, new code) after normalising what differs
between any two runs: timestamps, durations, the run folders' paths, ids and hashes that embed a time.

Run: ``python bench/behaviour/compare.py OLD_OUT NEW_OUT [--verbose]`` — prints each step output or file
that differs (with its first differing lines; ``--verbose`` also names the same ones) and a count, and
exits 1 when anything differs.
"""

from __future__ import annotations

import difflib
import re
import sqlite3
import sys
from pathlib import Path

SKIPPED = {"workspace"}
"""The workspace itself (models, indexes, the audit database) is compared through what the steps print
and the files they write, not byte for byte: its SQLite pages and timestamps differ on every run."""

PATTERNS = [
    (re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?"), "<TIME>"),
    (re.compile(r"\b\d{8}T\d{6}\b"), "<STAMP>"),
    (re.compile(r"\b\d+(?:\.\d+)?\s?(?:s|ms|seconds|min)\b"), "<DURATION>"),
    (re.compile(r"\b\d+(?:\.\d+)? (?:rows|cases|chunks|tokens)/s\b"), "<RATE>"),
    (re.compile(r"\b[0-9a-f]{64}\b"), "<SHA256>"),
    (
        re.compile(r"\b(memo|job|run|spark-train|train|score|batch)-([A-Za-z0-9_.-]*?)-?[0-9a-f]{8,16}\b"),
        r"\1-\2-<ID>",
    ),
    (re.compile(r"\b[0-9a-f]{12,40}\b"), "<HEX>"),
    (re.compile(r"\b1[6-9]\d{8}\b"), "<EPOCH>"),
    (re.compile(r"\bpid \d+"), "pid <PID>"),
    (re.compile(r"-<STAMP>-[0-9a-f]{6}\b"), "-<STAMP>-<ID>"),
]
VOLATILE_COLUMNS = {"seconds", "started_at", "finished_at", "created"}
"""Columns of a SQLite ledger that hold a time or a duration."""


def normalise(text: str, out: Path) -> str:
    text = text.replace(str(out), "<OUT>")
    for pattern, replacement in PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def text_of(path: Path) -> str:
    """A file as text: a SQLite database (the batch ledger) as the SQL that rebuilds it, row by row."""
    if path.read_bytes()[:16] != b"SQLite format 3\x00":
        return path.read_text()
    lines = []
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        tables = [
            r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        ]
        for table in tables:
            columns = [r[1] for r in db.execute(f'PRAGMA table_info("{table}")')]
            kept = [c for c in columns if c not in VOLATILE_COLUMNS]
            selected = ", ".join('"' + c + '"' for c in kept)
            rows = db.execute(f'SELECT {selected} FROM "{table}" ORDER BY 1')
            lines += [f"{table}: {kept}", *(repr(row) for row in rows)]
    return "\n".join(lines)


def files_of(out: Path) -> dict[str, Path]:
    return {
        str(p.relative_to(out)): p
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.relative_to(out).parts[0] not in SKIPPED
    }


def compare(old: Path, new: Path, verbose: bool = False) -> int:
    old_files, new_files = files_of(old), files_of(new)
    differing = 0
    for name in sorted(old_files.keys() | new_files.keys()):
        if name not in old_files or name not in new_files:
            print(f"{name}: only in the {'old' if name in old_files else 'new'} run")
            differing += 1
            continue
        try:
            a = normalise(text_of(old_files[name]), old)
            b = normalise(text_of(new_files[name]), new)
        except UnicodeDecodeError:
            a, b = old_files[name].read_bytes().hex(), new_files[name].read_bytes().hex()
        if a == b:
            if verbose:
                print(f"{name}: same")
            continue
        differing += 1
        diff = list(difflib.unified_diff(a.splitlines(), b.splitlines(), "old", "new", lineterm="", n=0))
        print(f"{name}: DIFFERS")
        print("\n".join(f"    {line}" for line in diff[2:14]))
    print(f"{len(old_files.keys() | new_files.keys())} outputs compared, {differing} differ")
    return 1 if differing else 0


if __name__ == "__main__":
    paths = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(paths) != 2:
        sys.exit("usage: python bench/behaviour/compare.py OLD_OUT NEW_OUT [--verbose]")
    sys.exit(compare(Path(paths[0]).resolve(), Path(paths[1]).resolve(), "--verbose" in sys.argv))
