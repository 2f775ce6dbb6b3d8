"""A vector store on disk: one versioned folder (:mod:`models.store.versioned`) per save.

Files of a version: ``index.faiss`` (the FAISS index, ids = sidecar row ids), ``vectors.npy``
(the vectors themselves, for rebuilds and exact filtered search), ``alive.npy``,
``sidecar.sqlite`` (id -> key and metadata, plus an FTS5 table for BM25), ``<name>.npy``
attachments (e.g. a case library's feature matrix), and ``manifest.json`` (format tag, embedder
id, plan, SHA-256 of every file). A load checks every file against the manifest before FAISS
parses anything, so a corrupt or foreign store is refused with a message, not a crash.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from models.store.integrity import check_signature
from models.store.versioned import MANIFEST, current_version_dir, file_problems
from retrieval.errors import StoreError

FORMAT = "underwriter-vector-store/1"
REQUIRED = frozenset({"index.faiss", "vectors.npy", "alive.npy", "sidecar.sqlite"})


def write_parts(
    folder: Path,
    index: Any,
    vectors: np.ndarray,
    alive: np.ndarray,
    attachments: dict[str, np.ndarray],
    db: sqlite3.Connection,
) -> None:
    import faiss

    faiss.write_index(index, str(folder / "index.faiss"))
    np.save(folder / "vectors.npy", vectors, allow_pickle=False)
    np.save(folder / "alive.npy", alive, allow_pickle=False)
    for name, array in attachments.items():
        np.save(folder / f"{name}.npy", array, allow_pickle=False)
    disk = sqlite3.connect(folder / "sidecar.sqlite")
    with disk:
        db.backup(disk)
    disk.close()


def open_version(root: str | Path, *, embedder_id: str | None, verify: bool) -> tuple[Path, dict[str, Any]]:
    """The current version's folder and manifest, refused when corrupt, foreign or for another embedder."""
    root = Path(root)
    if root.is_file():
        raise StoreError(f"{root} is a file; a vector store is a folder written by `underwrite index build`")
    folder = current_version_dir(root)
    if folder is None:
        raise StoreError(
            f"{root} is not an Underwriter vector store (no version is current); "
            "build one with `underwrite index build`"
        )
    manifest = _read_manifest(folder)
    if embedder_id is not None and manifest["embedder_id"] != embedder_id:
        raise StoreError(
            f"{root} was built with embedder {manifest['embedder_id']}, not {embedder_id}; "
            "rebuild the index or use the same embedder"
        )
    check_signature(manifest, str(folder))
    required = REQUIRED | {f"{a}.npy" for a in manifest["attachments"]}
    if not required <= set(manifest["files"]):
        raise StoreError(
            f"{folder}: manifest does not list {sorted(required - set(manifest['files']))}; the store is corrupt"
        )
    if verify:
        for problem in file_problems(folder, manifest["files"]):
            if problem.actual is None:
                raise StoreError(f"{folder}: {problem.name} is missing; the store is corrupt")
            raise StoreError(
                f"{folder}: {problem.name} does not match its checksum in manifest.json "
                f"(expected {problem.expected[:12]}…, found {problem.actual[:12]}…); the store is corrupt or "
                "was changed. Rebuild it with `underwrite index build`."
            )
    return folder, manifest


def _read_manifest(folder: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise StoreError(
            f"{folder}: manifest.json is missing or unreadable ({exc}); the store is corrupt"
        ) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise StoreError(
            f"{folder} is not a store this version can read (format {found!r}, expected {FORMAT!r})"
        )
    return manifest


@dataclass
class StoreParts:
    index: Any
    vectors: np.ndarray
    alive: np.ndarray
    attachments: dict[str, np.ndarray]
    rows: list[tuple[int, str, str | None, str, str | None, str | None]]
    """``(id, key, merchant_id, tenant, doc_type, as_of)`` of the live items, by id."""


def read_parts(folder: Path, manifest: dict[str, Any], db: sqlite3.Connection) -> StoreParts:
    """Read a verified version's files; the sidecar is copied into ``db``."""
    import faiss

    try:
        index = faiss.read_index(str(folder / "index.faiss"))
        vectors = np.load(folder / "vectors.npy", allow_pickle=False)
        alive = np.load(folder / "alive.npy", allow_pickle=False).astype(bool)
        attachments = {a: np.load(folder / f"{a}.npy", allow_pickle=False) for a in manifest["attachments"]}
        disk = sqlite3.connect(f"file:{folder / 'sidecar.sqlite'}?mode=ro", uri=True)
        with contextlib.closing(disk):
            disk.backup(db)
        rows = db.execute(
            "SELECT id, key, merchant_id, tenant, doc_type, as_of FROM items ORDER BY id"
        ).fetchall()
    except (RuntimeError, ValueError, OSError, sqlite3.DatabaseError) as exc:
        raise StoreError(f"{folder}: could not be read ({exc}); the store is corrupt") from None
    live_ids = np.flatnonzero(alive) if alive.shape == (len(vectors),) else None
    if (
        live_ids is None
        or vectors.ndim != 2
        or vectors.shape[1] != manifest["dim"]
        or index.ntotal != len(rows)
        or live_ids.tolist() != [r[0] for r in rows]
    ):
        raise StoreError(
            f"{folder}: index, vectors and sidecar disagree about the items; the store is corrupt"
        )
    return StoreParts(index, vectors, alive, attachments, rows)
