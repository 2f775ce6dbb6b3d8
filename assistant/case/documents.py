"""A case's documents as the case file carries them: chunks tagged ``C1`` ..., redacted of personal data.

Three origins, one shape: the document index (the demo portfolio's documents, read, screened
and chunked by ``index build``), a dataset's text columns (a loan description), and files
uploaded with a new application (:mod:`assistant.case.uploads`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any

import pandas as pd

from assistant.case.facts import MIN_DOCUMENT_CHARS
from assistant.case.schema import CaseChunk, CaseDocument
from models.data.spec import DatasetSpec
from retrieval.documents.chunking import chunk_text
from retrieval.documents.ingest import Chunk, Document
from retrieval.documents.normalise import normalise
from retrieval.documents.pii import people_named, redact
from retrieval.documents.screening import screen
from retrieval.vector_store.store import VectorStore

TEXT_CHUNK_TOKENS = 160
TEXT_OVERLAP_TOKENS = 40
"""A text column (a loan description) is chunked like a document: at sentence ends where it can be,
about 120 words a chunk, each chunk after the first opening with the previous one's last sentence."""
MAX_TEXT_COLUMN_CHARS = 200_000
"""A guard against a runaway cell, far above any real description (Lending Club's longest: 3,966)."""

ChunkParts = tuple[str, str, str, str, float]
"""(chunk id, section, citation, text, injection score)."""


def document_from_parts(
    doc_id: str,
    doc_type: str,
    title: str,
    sha256: str,
    injection_score: float,
    flags: list[dict[str, Any]],
    chunks: list[ChunkParts],
    next_tag: int,
) -> CaseDocument:
    """One document with its chunks redacted and tagged from ``C{next_tag}`` on."""
    redactions: list[dict[str, str]] = []
    case_chunks = []
    for i, (chunk_id, section, citation, text, score) in enumerate(chunks):
        clean, found = redact(text)
        redactions += [{"kind": r.kind, "sha256": r.sha256} for r in found]
        case_chunks.append(
            CaseChunk(
                tag=f"C{next_tag + i}",
                chunk_id=chunk_id,
                section=section,
                citation=citation,
                text=clean,
                injection_score=score,
            )
        )
    return CaseDocument(
        doc_id=doc_id,
        doc_type=doc_type,
        title=title,
        sha256=sha256,
        injection_score=injection_score,
        injection_flags=[{k: f.get(k) for k in ("kind", "rule", "excerpt")} for f in flags],
        redactions=redactions,
        chunks=case_chunks,
    )


def indexed_documents(store: VectorStore, case_id: str, received_by: str | None = None) -> list[CaseDocument]:
    """The case's documents from the document index, in document order, chunks in text order; with
    ``received_by`` (an ISO date), only those received on or before it (point in time)."""
    records = store.records("document", merchant_id=case_id)
    if received_by is not None:
        records = {
            k: r for k, r in records.items() if not r.get("as_of") or str(r["as_of"])[:10] <= received_by
        }
    ids = [i for i, _ in store.items_where("merchant_id = ?", (case_id,))]
    by_doc: dict[str, list[Any]] = {}
    for item in store.items(ids):
        by_doc.setdefault(item.payload["doc_id"], []).append(item)
    documents: list[CaseDocument] = []
    next_tag = 1
    for doc_id in sorted(records):
        rec = records[doc_id]
        items = sorted(by_doc.get(doc_id, []), key=lambda it: it.payload["start"])
        chunks = [
            (
                it.key,
                it.payload["section"],
                it.payload["citation"],
                it.payload["text"],
                float(it.payload["injection_score"]),
            )
            for it in items
        ]
        score = float(rec["injection_score"])
        document = document_from_parts(
            doc_id,
            rec["doc_type"],
            rec["title"],
            rec["sha256"],
            score,
            rec["injection_flags"],
            chunks,
            next_tag,
        )
        documents.append(document)
        next_tag += len(chunks)
    return documents


def text_column_documents(
    spec: DatasetSpec, case_id: str, row: pd.Series, first_tag: int = 1
) -> list[CaseDocument]:
    """A dataset record's long text columns (a loan description), each one screened document."""
    documents: list[CaseDocument] = []
    next_tag = first_tag
    for column in spec.text:
        text = row.get(column)
        if not isinstance(text, str) or len(text.strip()) < MIN_DOCUMENT_CHARS:
            continue  # empty, or short enough to be shown among the facts
        text = text.strip()[:MAX_TEXT_COLUMN_CHARS]
        sha = hashlib.sha256(text.encode()).hexdigest()
        screening = screen(normalise(text))
        doc_id = f"{case_id}-{column}"
        name = spec.display_name(column)
        chunks = text_column_chunks(doc_id, name, text, sha)
        flags = [f.to_dict() for f in screening.flags]
        documents.append(
            document_from_parts(doc_id, column, name, sha, screening.score, flags, chunks, next_tag)
        )
        next_tag += len(chunks)
    return documents


def text_column_chunks(doc_id: str, name: str, text: str, sha: str) -> list[ChunkParts]:
    """All of a text column's text, in overlapping chunks split at sentence ends where possible, each
    screened on its own (an order in the last part is scored where it is)."""
    spans = chunk_text(text, sha, max_tokens=TEXT_CHUNK_TOKENS, overlap_tokens=TEXT_OVERLAP_TOKENS)
    parts: list[ChunkParts] = []
    for i, span in enumerate(spans):
        part = text[span.start : span.end]
        where = f"{doc_id}, {name}" + (f", part {i + 1} of {len(spans)}" if len(spans) > 1 else "")
        parts.append((f"{doc_id}-{i}", name, where, part, screen(normalise(part)).score))
    return parts


def ingested_documents(documents: Sequence[Document], chunks: Sequence[Chunk]) -> list[CaseDocument]:
    """The same case documents as :func:`indexed_documents`, straight from freshly read files (a case
    opened before the document index is built): same order, tags, citations and screening."""
    by_doc: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        by_doc.setdefault(chunk.doc_id, []).append(chunk)
    out: list[CaseDocument] = []
    next_tag = 1
    for doc in sorted(documents, key=lambda d: d.doc_id):
        parts = [
            (c.chunk_id, c.section, c.citation(), c.text, float(c.injection_score))
            for c in sorted(by_doc.get(doc.doc_id, []), key=lambda c: c.start)
        ]
        flags = [f.to_dict() for f in doc.screening.flags]
        out.append(
            document_from_parts(
                doc.doc_id,
                doc.doc_type or "",
                doc.title,
                doc.sha256,
                doc.screening.score,
                flags,
                parts,
                next_tag,
            )
        )
        next_tag += len(parts)
    return out


PERSON_COLUMNS = re.compile(
    r"owner|contact|guarantor|principal|director|applicant_name|person", re.IGNORECASE
)
"""Data columns that hold the name of one of the case's people."""


def people_in_row(row: pd.Series) -> list[str]:
    return [
        " ".join(str(v).split())
        for k, v in row.items()
        if PERSON_COLUMNS.search(str(k)) and isinstance(v, str) and len(v.split()) >= 2
    ]


def redact_people(documents: list[CaseDocument], known: Sequence[str] = ()) -> list[CaseDocument]:
    """The case's documents with its people's names redacted: the names its data holds and those its
    documents introduce (``Contact: Elena Brennan``), wherever in any of its documents they occur."""
    people = sorted(
        {*known, *people_named(c.text for d in documents for c in d.chunks)}, key=len, reverse=True
    )
    if not people:
        return documents
    out = []
    for doc in documents:
        redactions = list(doc.redactions)
        chunks = []
        for chunk in doc.chunks:
            clean, found = redact(chunk.text, people, patterns=False)  # the rest went when the chunk was read
            redactions += [{"kind": r.kind, "sha256": r.sha256} for r in found]
            chunks.append(chunk.model_copy(update={"text": clean}))
        title, found = redact(doc.title, people)  # a title was not redacted when read
        redactions += [{"kind": r.kind, "sha256": r.sha256} for r in found]
        out.append(doc.model_copy(update={"chunks": chunks, "title": title, "redactions": redactions}))
    return out
