"""Files uploaded with a new application: size-checked, read by the sandboxed readers, screened, redacted."""

from __future__ import annotations

from pathlib import Path

from assistant.backends import semantic_screen
from assistant.case.documents import document_from_parts
from assistant.case.schema import CaseDocument
from assistant.settings import Settings
from retrieval.documents.ingest import DocumentSource, ingest

UPLOAD_CHUNK_TOKENS = 240
"""Chunk size of uploaded documents when ``[index] chunk_tokens`` is 0 (no embedder is loaded for them)."""


def read_uploads(
    settings: Settings, case_id: str, uploads: list[Path]
) -> tuple[list[CaseDocument], list[str]]:
    """The documents that could be read, and a note naming each file that could not and why."""
    if not uploads:
        return [], []
    limit = int(settings.ui.max_upload_mb * 1024 * 1024)
    notes = []
    readable = []
    for path in uploads:
        size = Path(path).stat().st_size
        if size > limit:
            notes.append(
                f"{Path(path).name}: {size / 1e6:.1f} MB is over the {settings.ui.max_upload_mb:g} MB upload "
                "limit; skipped"
            )
        else:
            readable.append(path)
    sources = [
        DocumentSource(Path(p), doc_id=f"{case_id}-D{i + 1}", merchant_id=case_id, doc_type="uploaded")
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
    documents = []
    next_tag = 1
    for doc in result.documents:
        chunks = [
            (c.chunk_id, c.section, c.citation(), c.text, c.injection_score)
            for c in result.chunks
            if c.doc_id == doc.doc_id
        ]
        flags = [f.to_dict() for f in doc.screening.flags]
        title = doc.title or Path(doc.source).name
        documents.append(
            document_from_parts(
                doc.doc_id, "uploaded", title, doc.sha256, doc.screening.score, flags, chunks, next_tag
            )
        )
        next_tag += len(chunks)
    return documents, notes
