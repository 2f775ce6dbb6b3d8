"""The demo portfolio's document files, as sources to read: all of them (``index build``), or one
merchant's (a case opened before the document index is built, read on the spot).

Both paths read, screen and chunk with the same readers, limits, tokenizer and chunk sizes, so a
case read on the spot carries exactly the passages and citations the index will hold.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from assistant.backends import semantic_screen
from assistant.case.documents import ingested_documents
from assistant.case.schema import CaseDocument
from assistant.settings import Settings
from models.demo_data.generate import PortfolioFiles
from retrieval.documents.chunking import TokenCounter
from retrieval.documents.ingest import DocumentSource, IngestResult, ingest


def portfolio_sources(files: PortfolioFiles, merchant_id: str | None = None) -> list[DocumentSource]:
    """Every document of the portfolio (or of one merchant), dated by its merchant's decision date."""
    merchants = pd.read_csv(files.merchants, usecols=["merchant_id", "decision_date"], dtype=str)
    decided = dict(zip(merchants["merchant_id"], merchants["decision_date"], strict=True))
    documents = pd.read_csv(files.documents, dtype=str)
    if merchant_id is not None:
        documents = documents[documents["merchant_id"] == merchant_id]
    return [
        DocumentSource(
            path=files.root / str(path),
            doc_id=str(doc_id),
            merchant_id=str(merchant),
            doc_type=str(doc_type),
            as_of=decided.get(str(merchant)),
        )
        for path, doc_id, merchant, doc_type in zip(
            documents["path"],
            documents["doc_id"],
            documents["merchant_id"],
            documents["doc_type"],
            strict=True,
        )
    ]


def chunk_sizes(settings: Settings, model_max_tokens: int) -> tuple[int, int]:
    """(tokens per chunk, overlap) for an embedder whose window is ``model_max_tokens``."""
    limit = settings.index.chunk_tokens or max(32, model_max_tokens - 16)
    return limit, min(settings.index.overlap_tokens, limit // 2)


def read_documents(
    settings: Settings,
    sources: list[DocumentSource],
    *,
    count: TokenCounter,
    model_max_tokens: int,
    workers: int | None = None,
    progress: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
) -> IngestResult:
    """Read, screen and chunk ``sources`` in the sandboxed readers, as ``index build`` does."""
    limit, overlap = chunk_sizes(settings, model_max_tokens)
    return ingest(
        sources,
        limits=settings.index.limits.to_limits(),
        workers=settings.index.parser_workers if workers is None else workers,
        max_tokens=limit,
        overlap_tokens=overlap,
        count=count,
        progress=progress,
        on_progress=on_progress,
        semantic=semantic_screen(settings),
    )


def read_case_documents(
    settings: Settings, files: PortfolioFiles, merchant_id: str, *, count: TokenCounter, model_max_tokens: int
) -> tuple[IngestResult, list[CaseDocument]]:
    """One merchant's documents read on the spot: the raw result (to index later) and the case's view."""
    sources = portfolio_sources(files, merchant_id)
    result = read_documents(
        settings,
        sources,
        count=count,
        model_max_tokens=model_max_tokens,
        workers=max(1, min(2, len(sources))),
    )
    return result, ingested_documents(result.documents, result.chunks)
