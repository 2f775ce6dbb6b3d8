"""Versioned folders: every save is a new version that is never rewritten; ``CURRENT`` names the live one.

Layout of a versioned folder (a model directory, a vector store, a case library)::

    ROOT/CURRENT               the live version's name, replaced atomically
    ROOT/versions/v0001/       one save: its files and manifest.json (SHA-256 of every file)

A save builds the version in a staging folder beside the others, fsyncs its files, renames it
into place and then swaps ``CURRENT``: a crash leaves the previous version live, and a reader
never sees a half-written one. Model artifacts and vector stores both save through
:func:`publish_version` and read through :func:`current_version_dir`; nothing above this module
spells out the layout. Outputs that are not versioned (a generated portfolio, a run's output
folders) are swapped in whole by :func:`replace_folder`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from models.store.integrity import signed

CURRENT = "CURRENT"
MANIFEST = "manifest.json"
VERSION_RE = re.compile(r"^v(\d{4,})$")


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, read in blocks (artifacts can be large)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def has_current(root: str | Path) -> bool:
    """True when ``root`` holds a versioned folder with a live version."""
    return (Path(root) / CURRENT).is_file()


def current_version(root: str | Path) -> str | None:
    """The live version's name (``v0003``), or None when ``root`` has no ``CURRENT``."""
    pointer = Path(root) / CURRENT
    return pointer.read_text().strip() if pointer.is_file() else None


def current_version_dir(root: str | Path) -> Path | None:
    """The live version's folder (it may be missing if the folder was damaged), or None."""
    name = current_version(root)
    return None if name is None else Path(root) / "versions" / name


def read_current_manifest(root: str | Path) -> dict[str, Any]:
    """The live version's manifest; raises OSError or ValueError when there is none or it is unreadable."""
    folder = current_version_dir(root)
    if folder is None:
        raise FileNotFoundError(f"{root} has no {CURRENT}")
    manifest = json.loads((folder / MANIFEST).read_text())
    if not isinstance(manifest, dict):
        raise ValueError(f"{folder / MANIFEST} is not a JSON object")
    return manifest


def version_numbers(root: str | Path) -> list[int]:
    folder = Path(root) / "versions"
    if not folder.is_dir():
        return []
    return sorted(int(m.group(1)) for p in folder.iterdir() if (m := VERSION_RE.match(p.name)))


@dataclass(frozen=True)
class FileProblem:
    name: str
    expected: str
    actual: str | None
    """None when the file is missing."""


def file_problems(version_dir: Path, hashes: dict[str, str]) -> list[FileProblem]:
    """Files of a version that are missing or whose SHA-256 differs from the manifest's."""
    problems = []
    for name, expected in hashes.items():
        path = version_dir / name
        actual = sha256_file(path) if path.is_file() else None
        if actual != expected:
            problems.append(FileProblem(name, expected, actual))
    return problems


def publish_version(
    root: str | Path,
    fill: Callable[[Path], None],
    manifest: Callable[[str, dict[str, str]], dict[str, Any]],
    *,
    keep_previous: int | None = None,
) -> Path:
    """Write a new version under ``root`` and make it current; returns its folder.

    ``fill(folder)`` writes the version's files; ``manifest(name, hashes)`` returns the manifest
    body, to which the files' SHA-256 are added under ``files``. With ``keep_previous``, only
    that many earlier versions are kept."""
    root = Path(root)
    versions = root / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=versions))
    try:
        fill(staging)
        files = sorted(p for p in staging.rglob("*") if p.is_file())
        hashes = {p.relative_to(staging).as_posix(): sha256_file(p) for p in files}
        name = f"v{max(version_numbers(root), default=0) + 1:04d}"
        body = signed({**manifest(name, hashes), "files": hashes})
        (staging / MANIFEST).write_text(json.dumps(body, indent=2))
        for path in [*files, staging / MANIFEST]:
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
        final = versions / name
        os.rename(staging, final)  # fails rather than overwrite if another writer took the number
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    pointer = root / f".{CURRENT}.tmp-{os.getpid()}"
    pointer.write_text(name + "\n")
    os.replace(pointer, root / CURRENT)
    if keep_previous is not None:
        older = sorted(p for p in versions.iterdir() if VERSION_RE.match(p.name) and p.name != name)
        for old in older[: max(0, len(older) - keep_previous)]:
            shutil.rmtree(old, ignore_errors=True)
    return final


def replace_folder(staging: Path, final: Path) -> None:
    """Put the folder ``staging`` in the place of ``final``: a reader sees the old folder or the new one."""
    if final.exists():
        old = final.with_name(f".{final.name}.old-{uuid.uuid4().hex[:6]}")
        os.replace(final, old)
        os.replace(staging, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staging, final)
