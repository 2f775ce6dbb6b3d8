"""Questions against the built indexes: ``underwrite search``, ``underwrite similar``, the demo's evidence."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from assistant.backends import open_embedder
from assistant.settings import Settings
from assistant.workspace import PORTFOLIO_LIBRARY, Workspace
from models.errors import UnderwriterError
from models.store.artifacts import load_model
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
    cases = CaseLibrary.load(Workspace(settings).require_case_library(library))
    return _similar(settings, cases, library, case_id, k=k, as_of=as_of, documents=None)


def _similar(
    settings: Settings,
    cases: CaseLibrary,
    library: str,
    case_id: str,
    *,
    k: int,
    as_of: str | None,
    documents: VectorStore | None,
) -> SimilarReport:
    """``documents``: the document store when the caller holds it loaded."""
    if case_id in cases.store or library != PORTFOLIO_LIBRARY:
        return find_similar(cases, library, case_id, k=k, as_of=as_of)
    workspace = Workspace(settings)
    merchants = pd.read_csv(workspace.portfolio.merchants, dtype={"mcc": str, "merchant_id": str})
    row = merchants[merchants["merchant_id"] == case_id]
    if row.empty:
        raise UnderwriterError(
            f"merchant {case_id!r} is neither in the case library nor in {workspace.portfolio.merchants}"
        )
    if documents is None and cases.text_dim and workspace.documents_index_dir.exists():
        documents = VectorStore.load(workspace.documents_index_dir, embedder_id=cases.store.embedder_id)
    model = None
    if cases.uses_model:
        model = load_model(workspace.model_dir, nthread=settings.threads)
    return find_similar(
        cases,
        library,
        case_id,
        k=k,
        as_of=as_of,
        record=row.reset_index(drop=True),
        decided_at=str(row["decision_date"].iloc[0]),
        model=model,
        documents=documents,
        nthread=settings.threads,
    )


@dataclass
class MerchantEvidence:
    merchant_id: str
    documents: int
    flagged: list[dict[str, Any]]
    similar: SimilarReport


def evidence_for(settings: Settings, merchant_ids: list[str], *, k: int = 10) -> list[MerchantEvidence]:
    """Documents (with injection flags) and similar past cases for each merchant, from the built indexes."""
    workspace = Workspace(settings)
    store = VectorStore.load(workspace.documents_index_dir)
    cases = CaseLibrary.load(workspace.require_case_library(PORTFOLIO_LIBRARY))  # once for every merchant
    narratives = store if store.embedder_id == cases.store.embedder_id else None  # else refused on loading
    out = []
    for merchant in merchant_ids:
        docs = list(store.records("document", merchant_id=merchant).values())
        flagged = [r for r in docs if r["injection_flagged"]]
        similar = _similar(
            settings, cases, PORTFOLIO_LIBRARY, merchant, k=k, as_of=None, documents=narratives
        )
        out.append(MerchantEvidence(merchant, len(docs), flagged, similar))
    return out
