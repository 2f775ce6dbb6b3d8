"""Files handed in by a person (uploads with an application, a merchant's new documents on the book):
size-checked against ``[ui] max_upload_mb``, then read, screened and chunked by the sandboxed readers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from assistant.backends import semantic_screen
from assistant.settings import Settings
from retrieval.documents.ingest import Chunk, Document, DocumentSource, ingest

UPLOAD_CHUNK_TOKENS = 240
"""Chunk size of handed-in files when ``[index] chunk_tokens`` is 0 (no embedder is loaded for them)."""


@dataclass(frozen=True)
class FilesRead:
    documents: list[Document]
    chunks: list[Chunk]
    notes: list[str]
    """One line for each file that could not be read, naming it and why."""

    def chunks_of(self, doc_id: str) -> list[Chunk]:
        return [c for c in self.chunks if c.doc_id == doc_id]


def _within_limit(settings: Settings, paths: list[Path]) -> tuple[list[Path], list[str]]:
    limit = int(settings.ui.max_upload_mb * 1024 * 1024)
    readable, notes = [], []
    for path in paths:
        size = Path(path).stat().st_size
        if size > limit:
            notes.append(
                f"{Path(path).name}: {size / 1e6:.1f} MB is over the {settings.ui.max_upload_mb:g} MB upload "
                "limit; skipped"
            )
        else:
            readable.append(Path(path))
    return readable, notes


def read_files(settings: Settings, owner_id: str, paths: list[Path]) -> FilesRead:
    """The documents and chunks of ``paths`` (ids ``<owner_id>-D1`` ...), and a note per file not read."""
    if not paths:
        return FilesRead([], [], [])
    readable, notes = _within_limit(settings, paths)
    sources = [
        DocumentSource(p, doc_id=f"{owner_id}-D{i + 1}", merchant_id=owner_id, doc_type="uploaded")
        for i, p in enumerate(readable)
    ]
    result = ingest(
        sources,
        limits=settings.index.limits.to_limits(),
        workers=min(settings.index.parser_workers, 1),
        max_tokens=settings.index.chunk_tokens or UPLOAD_CHUNK_TOKENS,
        overlap_tokens=settings.index.overlap_tokens,
        semantic=semantic_screen(settings),
    )
    notes += [f"{Path(f.source).name}: not read: {f.error}" for f in result.failures]
    return FilesRead(result.documents, result.chunks, notes)
