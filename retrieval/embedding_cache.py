"""Embeddings cached by text hash, per model: unchanged text is never embedded twice.

A SQLite table keyed by (model id, SHA-256 of the exact text embedded). The
model id includes a fingerprint of the weights, so swapping the model can
never serve a stale vector.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.backends.embedders import Embedder

SCHEMA = """
CREATE TABLE IF NOT EXISTS embeddings (
    model_id TEXT NOT NULL,
    text_sha256 TEXT NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (model_id, text_sha256)
) WITHOUT ROWID;
"""
LOOKUP_BATCH = 500


@dataclass
class CacheStats:
    reused: int = 0
    computed: int = 0


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """Wraps an embedder; ``embed`` returns the same vectors, computing only the texts not seen before."""

    def __init__(self, embedder: Embedder, path: str | Path | None = None):
        self.embedder = embedder
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # One connection shared by the threads of a server (the workbench's requests), used under a lock.
        self._db = sqlite3.connect(str(path) if path else ":memory:", check_same_thread=False)
        self._lock = threading.Lock()
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)
        self.stats = CacheStats()

    def close(self) -> None:
        self._db.close()

    def _lookup(self, hashes: list[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        model = self.embedder.model_id
        for i in range(0, len(hashes), LOOKUP_BATCH):
            batch = hashes[i : i + LOOKUP_BATCH]
            rows = self._db.execute(
                f"SELECT text_sha256, vector FROM embeddings WHERE model_id = ? AND text_sha256 IN ({','.join('?' * len(batch))})",
                [model, *batch],
            )
            for digest, blob in rows:
                vector = np.frombuffer(blob, dtype=np.float32)
                if vector.shape[0] == self.embedder.dim:
                    found[digest] = vector
        return found

    def embed(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        with self._lock:
            return self._embed(texts, batch_size, progress)

    def _embed(self, texts: Sequence[str], batch_size: int, progress: bool) -> np.ndarray:
        hashes = [text_sha256(t) for t in texts]
        known = self._lookup(sorted(set(hashes)))
        missing: dict[str, str] = {}
        for digest, text in zip(hashes, texts, strict=True):
            if digest not in known and digest not in missing:
                missing[digest] = text
        if missing:
            vectors = self.embedder.embed(list(missing.values()), batch_size=batch_size, progress=progress)
            with self._db:
                self._db.executemany(
                    "INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?)",
                    [
                        (self.embedder.model_id, d, v.astype(np.float32).tobytes())
                        for d, v in zip(missing, vectors, strict=True)
                    ],
                )
            known.update(zip(missing, vectors, strict=True))
        self.stats.computed += len(missing)
        self.stats.reused += len(texts) - len(missing)
        if not texts:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        return np.stack([known[d] for d in hashes]).astype(np.float32, copy=False)
