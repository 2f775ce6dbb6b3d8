"""Memo files: Markdown, JSON and HTML, each written whole or not at all, JSON last."""

from __future__ import annotations

import os
from pathlib import Path

from assistant.memo.record import RenderedMemo

FORMATS = ("md", "json", "html")


def write_atomically(path: Path, text: str) -> None:
    """Write, fsync, rename, fsync the folder: the file appears whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.partial")
    with open(staging, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(staging, path)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def write_memo_files(
    out: Path, case_id: str, rendered: RenderedMemo, formats: tuple[str, ...] = FORMATS
) -> list[Path]:
    """JSON last: its presence marks a complete set."""
    paths = []
    for fmt in sorted(formats, key=lambda f: f == "json"):
        path = out / f"{case_id}.{fmt}"
        write_atomically(path, rendered.text(fmt))
        paths.append(path)
    return paths
