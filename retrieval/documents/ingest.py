"""Files to screened, citable chunks: read (sandboxed) -> normalise -> screen -> chunk.

One bad file never stops a batch: it becomes a ``Failure`` naming the file and
the limit, and the other files go on.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from retrieval.documents.chunking import TokenCounter, chunk_text, estimate_tokens
from retrieval.documents.limits import ReaderLimits
from retrieval.documents.normalise import normalise
from retrieval.documents.readers import Part, read_file
from retrieval.documents.sandbox import ParserPool, ReadResult
from retrieval.documents.screening import Screening, screen
from retrieval.documents.semantic_screen import SemanticScreen
from retrieval.errors import DocumentError

LAYOUT = re.compile(r"^\s*[=\-_*#~]{3,}\s*$|\|[\s:|-]*(?=\||$)|\||^#+\s", re.MULTILINE)


@dataclass(frozen=True)
class DocumentSource:
    """A file to ingest and what it belongs to."""

    path: Path
    doc_id: str | None = None
    merchant_id: str | None = None
    doc_type: str | None = None
    tenant: str = "default"
    as_of: str | None = None
    """ISO date the document was received: searches "as of" an earlier date never see it."""


@dataclass
class Document:
    doc_id: str
    merchant_id: str | None
    doc_type: str | None
    tenant: str
    as_of: str | None
    source: str
    sha256: str
    title: str
    text: str
    offsets: np.ndarray
    page_starts: list[int]
    screening: Screening
    hidden: list[str] = field(default_factory=list)
    encoding: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class Chunk:
    chunk_id: str
    doc_id: str
    merchant_id: str | None
    doc_type: str | None
    tenant: str
    as_of: str | None
    title: str
    section: str
    page: int | None
    start: int
    end: int
    """Span in the document's normalised text."""
    original_start: int
    original_end: int
    """The same span in the text as extracted from the file."""
    text: str
    injection_score: float
    injection_rules: list[str]
    doc_sha256: str

    def embedding_text(self) -> str:
        """What is embedded: the passage with its title and section, so "the bank statement" finds it.

        Layout characters (underlines, table bars, runs of spaces) are dropped: the tokenizer makes
        every ``=`` and ``|`` a token, which costs embedding time and says nothing.
        """
        context = " — ".join(x for x in (self.title, self.section) if x and x not in self.text[:200])
        body = " ".join(LAYOUT.sub(" ", self.text).split())
        return f"{context}\n{body}" if context else body

    def citation(self) -> str:
        where = [self.title or self.doc_id]
        if self.section:
            where.append(f"section {self.section!r}")
        if self.page:
            where.append(f"p. {self.page}")
        where.append(f"chars {self.start}-{self.end}")
        return f"[{self.doc_id}] " + ", ".join(where)


@dataclass(frozen=True)
class Failure:
    source: str
    error: str
    limit: str | None


@dataclass
class IngestResult:
    documents: list[Document]
    chunks: list[Chunk]
    failures: list[Failure]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def document_labels(part: Part, source: DocumentSource) -> list[str]:
    """Every string that names the document and can reach a prompt: title, file and member names,
    metadata (a PDF's author, subject, creator)."""
    values = [part.title, part.name, source.path.name, *part.meta.values()]
    spaced = [re.sub(r"[-_.+]+", " ", v) for v in values]  # a file name's words: ``ignore-all-rules.txt``
    return [v for v in dict.fromkeys([*values, *spaced]) if v and not v.isdigit() and v.strip()]


def prepare_document(
    part: Part, source: DocumentSource, file_hash: str, semantic: SemanticScreen | None = None
) -> Document:
    norm = normalise(part.text)
    sha = file_hash if not part.name else hashlib.sha256(f"{file_hash}:{part.name}".encode()).hexdigest()
    base_id = source.doc_id or source.path.stem
    page_starts = (
        [int(x) for x in np.searchsorted(norm.offsets, part.page_starts)] if part.page_starts else []
    )
    notes = list(part.notes)
    if norm.removed:
        notes.append(f"removed {norm.removed} invisible or control character(s)")
    return Document(
        doc_id=f"{base_id}#{part.name}" if part.name else base_id,
        merchant_id=source.merchant_id,
        doc_type=source.doc_type,
        tenant=source.tenant,
        as_of=source.as_of,
        source=f"{source.path}#{part.name}" if part.name else str(source.path),
        sha256=sha,
        title=" ".join(normalise(part.title).text.split()),
        text=norm.text,
        offsets=norm.offsets,
        page_starts=page_starts,
        screening=screen(norm, part.hidden, labels=document_labels(part, source), semantic=semantic),
        hidden=part.hidden,
        encoding=part.encoding,
        notes=notes,
    )


def chunk_document(
    doc: Document, *, max_tokens: int = 240, overlap_tokens: int = 48, count: TokenCounter = estimate_tokens
) -> list[Chunk]:
    chunks = []
    for span in chunk_text(
        doc.text,
        doc.sha256,
        max_tokens=max_tokens,
        overlap_tokens=overlap_tokens,
        page_starts=doc.page_starts,
        count=count,
    ):
        inside = doc.screening.within(span.start, span.end)
        o_start = int(doc.offsets[span.start])
        o_end = int(doc.offsets[span.end - 1]) + 1 if span.end > span.start else o_start
        chunks.append(
            Chunk(
                chunk_id=span.chunk_id,
                doc_id=doc.doc_id,
                merchant_id=doc.merchant_id,
                doc_type=doc.doc_type,
                tenant=doc.tenant,
                as_of=doc.as_of,
                title=doc.title,
                section=span.section,
                page=span.page,
                start=span.start,
                end=span.end,
                original_start=o_start,
                original_end=o_end,
                text=doc.text[span.start : span.end],
                injection_score=inside.score,
                injection_rules=sorted({f.rule for f in inside.flags}),
                doc_sha256=doc.sha256,
            )
        )
    return chunks


def _results(
    sources: Sequence[DocumentSource], limits: ReaderLimits, workers: int
) -> Iterable[tuple[int, list[Part] | None, DocumentError | None]]:
    if workers <= 0:  # in-process: no isolation (tests, trusted files)
        for i, source in enumerate(sources):
            try:
                yield i, read_file(source.path, limits), None
            except DocumentError as exc:
                yield i, None, exc
        return
    with ParserPool(limits, workers=workers) as pool:
        result: ReadResult
        for result in pool.read_all((i, s.path, None) for i, s in enumerate(sources)):
            yield result.key, result.parts, result.error


def ingest(
    sources: Sequence[DocumentSource],
    *,
    limits: ReaderLimits | None = None,
    workers: int = 2,
    max_tokens: int = 240,
    overlap_tokens: int = 48,
    count: TokenCounter = estimate_tokens,
    progress: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
    semantic: SemanticScreen | None = None,
) -> IngestResult:
    """Read, normalise, screen and chunk ``sources``; output order follows input order.
    ``on_progress(done, total)`` is called after each source (a background build's status file)."""
    limits = limits or ReaderLimits()
    per_source: dict[int, list[Document]] = {}
    failures: dict[int, Failure] = {}
    bar = tqdm(total=len(sources), desc="reading documents", unit="doc", disable=not progress)
    for done, (i, parts, error) in enumerate(_results(sources, limits, workers), start=1):
        bar.update()
        if on_progress is not None:
            on_progress(done, len(sources))
        source = sources[i]
        if error is not None or parts is None:
            failures[i] = Failure(
                str(source.path), error.what if error else "unreadable", error.limit if error else None
            )
            continue
        try:
            file_hash = file_sha256(source.path)
        except OSError as exc:
            failures[i] = Failure(str(source.path), f"vanished while being read ({exc})", None)
            continue
        per_source[i] = [prepare_document(part, source, file_hash, semantic) for part in parts]
    bar.close()
    documents = [doc for i in sorted(per_source) for doc in per_source[i]]
    chunks = [
        c
        for doc in documents
        for c in chunk_document(doc, max_tokens=max_tokens, overlap_tokens=overlap_tokens, count=count)
    ]
    return IngestResult(documents, chunks, [failures[i] for i in sorted(failures)])
