"""Questions against the built indexes: ``underwrite search``, ``underwrite similar``, the demo's evidence."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from assistant.backends import open_embedder
from assistant.settings import Settings
from assistant.workspace import PORTFOLIO_LIBRARY, Workspace
from models.artifacts import load_model
from models.errors import UnderwriterError
from retrieval.passages import DocumentIndex, Passage
from retrieval.similar_cases.library import CaseLibrary
from retrieval.similar_cases.search import SimilarReport, find_similar
from retrieval.vector_store.store import VectorStore


def search_documents(
    settings: Settings,
    question: str,
    *,
    merchant_id: str | None,
    k: int = 8,
    doc_types: list[str] | None = None,
    as_of: str | None = None,
) -> list[Passage]:
    folder = Workspace(settings).documents_index_dir
    if not folder.exists():
        raise UnderwriterError(f"no document index at {folder}; run `underwrite index build` first")
    index = DocumentIndex.load(folder, open_embedder(settings))
    if merchant_id is not None and not index.documents(merchant_id):
        raise UnderwriterError(f"merchant {merchant_id!r} has no documents in the index")
    return index.search(question, merchant_id=merchant_id, k=k, doc_types=doc_types, as_of=as_of)


def similar_cases(
    settings: Settings,
    case_id: str,
    *,
    k: int = 10,
    as_of: str | None = None,
    library: str = PORTFOLIO_LIBRARY,
) -> SimilarReport:
    """A case of the library by its stored profile; a demo merchant outside it (an applicant) by its
    record, its documents' narrative and, for a library of contributions, the workspace's model."""
    workspace = Workspace(settings)
    cases = CaseLibrary.load(workspace.require_case_library(library))
    if case_id in cases.store or library != PORTFOLIO_LIBRARY:
        return find_similar(cases, library, case_id, k=k, as_of=as_of)
    merchants = pd.read_csv(workspace.portfolio.merchants, dtype={"mcc": str, "merchant_id": str})
    row = merchants[merchants["merchant_id"] == case_id]
    if row.empty:
        raise UnderwriterError(
            f"merchant {case_id!r} is neither in the case library nor in {workspace.portfolio.merchants}"
        )
    documents = None
    if cases.text_dim and workspace.documents_index_dir.exists():
        documents = VectorStore.load(workspace.documents_index_dir, embedder_id=cases.store.embedder_id)
    model = None
    if cases.representation == "contributions":
        model = load_model(workspace.model_dir, nthread=settings.threads)
    return find_similar(
        cases, library, case_id, k=k, as_of=as_of, record=row.reset_index(drop=True),
        decided_at=str(row["decision_date"].iloc[0]), model=model, documents=documents, nthread=settings.threads,
    )  # fmt: skip


@dataclass
class MerchantEvidence:
    merchant_id: str
    documents: int
    flagged: list[dict[str, Any]]
    similar: SimilarReport


def evidence_for(settings: Settings, merchant_ids: list[str], *, k: int = 10) -> list[MerchantEvidence]:
    """Documents (with injection flags) and similar past cases for each merchant, from the built indexes."""
    store = VectorStore.load(Workspace(settings).documents_index_dir)
    out = []
    for merchant in merchant_ids:
        docs = list(store.records("document", merchant_id=merchant).values())
        flagged = [r for r in docs if r["injection_flagged"]]
        out.append(MerchantEvidence(merchant, len(docs), flagged, similar_cases(settings, merchant, k=k)))
    return out
