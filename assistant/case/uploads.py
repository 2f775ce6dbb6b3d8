"""Files uploaded with a new application, as case documents: read by :mod:`assistant.file_reading`,
then redacted and tagged."""

from __future__ import annotations

from pathlib import Path

from assistant.case.documents import document_from_parts
from assistant.case.schema import CaseDocument
from assistant.file_reading import read_files
from assistant.settings import Settings


def read_uploads(
    settings: Settings, case_id: str, uploads: list[Path]
) -> tuple[list[CaseDocument], list[str]]:
    """The documents that could be read, and a note naming each file that could not and why."""
    read = read_files(settings, case_id, uploads)
    documents = []
    next_tag = 1
    for doc in read.documents:
        chunks = [
            (c.chunk_id, c.section, c.citation(), c.text, c.injection_score)
            for c in read.chunks_of(doc.doc_id)
        ]
        flags = [f.to_dict() for f in doc.screening.flags]
        title = doc.title or Path(doc.source).name
        documents.append(
            document_from_parts(
                doc.doc_id, "uploaded", title, doc.sha256, doc.screening.score, flags, chunks, next_tag
            )
        )
        next_tag += len(chunks)
    return documents, read.notes
