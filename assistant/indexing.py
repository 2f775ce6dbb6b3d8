"""The evidence jobs behind ``underwrite index build``, ``search`` and ``similar``.

Builds the document index (portfolio documents -> screened chunks -> cached
embeddings -> FAISS) and the similar-case library (historical merchants, or any
labelled dataset with a spec), and answers questions against them.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from assistant.settings import Settings
from assistant.workflows import PORTFOLIO_SPEC, build_demo_portfolio, train_model
from models.artifacts import RiskModel, load_model
from models.backends.embedders import Embedder, load_embedder
from models.dataset import Dataset, load_dataset
from models.demo_data.generate import PortfolioFiles
from models.errors import UnderwriterError
from models.scoring import contributions, score_dataset
from models.spec import load_spec
from models.versioned import sha256_file
from retrieval.documents.ingest import DocumentSource, ingest
from retrieval.embedding_cache import EmbeddingCache
from retrieval.passages import DocumentIndex, Passage
from retrieval.similar_cases.library import CaseLibrary, SimilarCase
from retrieval.similar_cases.profile import CaseWeights
from retrieval.vector_store.store import VectorStore

PORTFOLIO_LIBRARY = "merchants"


@dataclass
class IndexReport:
    documents: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)
    flagged: list[dict[str, Any]] = field(default_factory=list)
    chunks: int = 0
    embedded: int = 0
    reused: int = 0
    document_plan: dict[str, Any] | None = None
    document_dir: Path | None = None
    cases: int = 0
    case_library_dir: Path | None = None
    case_plan: dict[str, Any] | None = None
    timings: dict[str, float] = field(default_factory=dict)


def open_embedder(settings: Settings) -> EmbeddingCache:
    embedder: Embedder = load_embedder(
        settings.index.embedder, threads=settings.threads or None, precision=settings.index.embedder_precision
    )
    return EmbeddingCache(embedder, settings.embedding_cache_path)


def _weights(settings: Settings) -> CaseWeights:
    return CaseWeights(
        round(settings.index.tabular_weight, 10), round(1.0 - settings.index.tabular_weight, 10)
    )


def _ensure_demo(settings: Settings, progress: bool) -> PortfolioFiles:
    files = PortfolioFiles(settings.portfolio_dir)
    if not files.exists():
        build_demo_portfolio(settings, progress=progress)
    if not (settings.model_dir / "CURRENT").is_file():
        train_model(
            settings, spec=PORTFOLIO_SPEC, data=files.merchants, out=settings.model_dir, progress=progress
        )
    return files


def build_document_index(
    settings: Settings, files: PortfolioFiles, cache: EmbeddingCache, report: IndexReport, progress: bool
) -> DocumentIndex:
    merchants = pd.read_csv(files.merchants, usecols=["merchant_id", "decision_date"], dtype=str)
    decided = dict(zip(merchants["merchant_id"], merchants["decision_date"], strict=True))
    documents = pd.read_csv(files.documents, dtype=str)
    sources = [
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
    embedder = cache.embedder
    limit = settings.index.chunk_tokens or max(32, embedder.max_tokens - 16)
    started = time.perf_counter()
    result = ingest(
        sources,
        limits=settings.index.limits.to_limits(),
        workers=settings.index.parser_workers,
        max_tokens=limit,
        overlap_tokens=min(settings.index.overlap_tokens, limit // 2),
        count=embedder.count_tokens,
        progress=progress,
    )
    report.timings["read, screen and chunk documents"] = time.perf_counter() - started
    started = time.perf_counter()
    index = DocumentIndex.new(cache, exact_below=settings.index.exact_below)
    before = cache.stats.computed, cache.stats.reused
    index.add(result.documents, result.chunks, result.failures, progress=progress)
    index.store.ensure_index()
    report.timings["embed and index chunks"] = time.perf_counter() - started
    report.document_dir = index.save(settings.documents_index_dir)
    report.documents = len(result.documents)
    report.failures = [{"source": f.source, "error": f.error, "limit": f.limit} for f in result.failures]
    report.flagged = [
        {"doc_id": d.doc_id, "merchant_id": d.merchant_id, "score": d.screening.score,
         "kinds": sorted({f.kind for f in d.screening.flags})}
        for d in result.documents
        if d.screening.flagged
    ]  # fmt: skip
    report.chunks = len(result.chunks)
    report.embedded = cache.stats.computed - before[0]
    report.reused = cache.stats.reused - before[1]
    report.document_plan = index.store.plan.to_dict() if index.store.plan else None
    return index


def merchant_text_vectors(store: VectorStore, merchant_ids: list[str]) -> np.ndarray:
    """Each merchant's narrative vector: the normalised mean of its document chunks' embeddings."""
    by_merchant = store.ids_by_merchant()
    out = np.zeros((len(merchant_ids), store.dim), dtype=np.float32)
    for r, m in enumerate(merchant_ids):
        ids = by_merchant.get(m)
        if ids:
            mean = store.vectors[ids].mean(axis=0)
            norm = float(np.linalg.norm(mean))
            out[r] = mean / norm if norm > 0 else mean
    return out


def _contributions(settings: Settings, model: RiskModel, frame: pd.DataFrame) -> np.ndarray | None:
    """Per-feature TreeSHAP contributions when the case profile is the model's view, else None."""
    if settings.index.case_profile != "contributions":
        return None
    x, _ = model.encoder.transform(frame)
    return contributions(model, x, nthread=settings.threads)[:, :-1]


def build_portfolio_case_library(
    settings: Settings, files: PortfolioFiles, documents: DocumentIndex, report: IndexReport
) -> CaseLibrary:
    started = time.perf_counter()
    spec = load_spec(PORTFOLIO_SPEC)
    dataset = load_dataset(files.merchants, spec, require_label=True)
    model = load_model(settings.model_dir, nthread=settings.threads)
    scored = score_dataset(model, dataset, nthread=settings.threads, reasons="none").frame
    ids = dataset.ids.astype(str).tolist()
    library = CaseLibrary.build(
        dataset.frame,
        contributions=_contributions(settings, model, dataset.frame),
        case_ids=ids,
        merchant_ids=ids,
        decided_at=[d.date().isoformat() for d in dataset.dates],  # type: ignore[union-attr]
        outcomes=dataset.labels.astype(int).tolist(),  # type: ignore[union-attr]
        numeric=spec.numeric,
        categorical=spec.categorical,
        names=spec.names,
        pds=scored["pd"].tolist(),
        grades=scored["grade"].tolist(),
        text_vectors=merchant_text_vectors(documents.store, ids),
        embedder_id=documents.store.embedder_id,
        weights=_weights(settings),
        outcome_window_days=settings.index.outcome_window_days,
        source={"spec": spec.name, "data": str(files.merchants), "data_sha256": dataset.sha256,
                "model": model.label, "model_id": model.model_id},
        exact_below=settings.index.exact_below,
    )  # fmt: skip
    report.case_library_dir = library.save(settings.case_library_dir(PORTFOLIO_LIBRARY))
    report.cases = len(library)
    report.case_plan = library.store.plan.to_dict() if library.store.plan else None
    report.timings["build case library"] = time.perf_counter() - started
    return library


def build_dataset_case_library(
    settings: Settings, spec_name: str, data: Path, cache: EmbeddingCache | None, report: IndexReport,
    model_dir: Path | None = None, outcome_window_days: int = 0,
) -> CaseLibrary:  # fmt: skip
    started = time.perf_counter()
    spec = load_spec(spec_name)
    if spec.date is None:
        raise UnderwriterError(f"spec {spec.name} has no date column; a case library needs decision dates")
    dataset: Dataset = load_dataset(data, spec, require_label=True)
    text_vectors = None
    if spec.text and cache is not None:
        texts = dataset.frame[spec.text].fillna("").astype(str).agg(". ".join, axis=1).tolist()
        text_vectors = cache.embed(texts)
    pds = grades = model_view = None
    source: dict[str, Any] = {"spec": spec.name, "data": str(data), "data_sha256": dataset.sha256}
    if model_dir is not None:
        model = load_model(model_dir, nthread=settings.threads)
        scored = score_dataset(model, dataset, nthread=settings.threads, reasons="none").frame
        pds, grades = scored["pd"].tolist(), scored["grade"].tolist()
        source |= {"model": model.label, "model_id": model.model_id}
        model_view = _contributions(settings, model, dataset.frame)
    elif settings.index.case_profile == "contributions":
        raise UnderwriterError(
            "index.case_profile = 'contributions' needs --model (the model whose view is used)"
        )
    ids = dataset.ids.astype(str).tolist()
    library = CaseLibrary.build(
        dataset.frame,
        case_ids=ids,
        decided_at=[d.date().isoformat() for d in dataset.dates],  # type: ignore[union-attr]
        outcomes=dataset.labels.astype(int).tolist(),  # type: ignore[union-attr]
        numeric=spec.numeric,
        categorical=spec.categorical,
        names=spec.names,
        pds=pds,
        grades=grades,
        text_vectors=text_vectors,
        contributions=model_view,
        embedder_id=cache.embedder.model_id if cache is not None and text_vectors is not None else "none",
        weights=_weights(settings),
        outcome_window_days=outcome_window_days,
        source=source,
        exact_below=settings.index.exact_below,
    )
    report.case_library_dir = library.save(settings.case_library_dir(spec.name))
    report.cases = len(library)
    report.case_plan = library.store.plan.to_dict() if library.store.plan else None
    report.timings["build case library"] = time.perf_counter() - started
    return library


def build_indexes(
    settings: Settings,
    *,
    spec: str | None = None,
    data: Path | None = None,
    model: Path | None = None,
    outcome_window_days: int = 0,
    progress: bool = True,
) -> IndexReport:
    """Demo workspace (no ``spec``): document index + merchant case library. With ``spec``: that dataset's library."""
    report = IndexReport()
    if spec is not None:
        if data is None:
            raise UnderwriterError("--spec needs --data (the CSV or Parquet file of past cases)")
        needs_text = bool(load_spec(spec).text)
        cache = open_embedder(settings) if needs_text else None
        build_dataset_case_library(settings, spec, data, cache, report, model, outcome_window_days)
        return report
    started = time.perf_counter()
    files = _ensure_demo(settings, progress)
    report.timings["portfolio and model"] = time.perf_counter() - started
    cache = open_embedder(settings)
    documents = build_document_index(settings, files, cache, report, progress)
    build_portfolio_case_library(settings, files, documents, report)
    return report


def search_documents(
    settings: Settings,
    question: str,
    *,
    merchant_id: str | None,
    k: int = 8,
    doc_types: list[str] | None = None,
    as_of: str | None = None,
) -> list[Passage]:
    if not settings.documents_index_dir.exists():
        raise UnderwriterError(
            f"no document index at {settings.documents_index_dir}; run `underwrite index build` first"
        )
    cache = open_embedder(settings)
    index = DocumentIndex.load(settings.documents_index_dir, cache)
    if merchant_id is not None and not index.documents(merchant_id):
        raise UnderwriterError(f"merchant {merchant_id!r} has no documents in the index")
    return index.search(question, merchant_id=merchant_id, k=k, doc_types=doc_types, as_of=as_of)


@dataclass
class SimilarReport:
    query_id: str
    library: str
    as_of: str | None
    in_library: bool
    hits: list[SimilarCase]


def similar_cases(
    settings: Settings,
    case_id: str,
    *,
    k: int = 10,
    as_of: str | None = None,
    library: str = PORTFOLIO_LIBRARY,
    cases: CaseLibrary | None = None,
    documents: VectorStore | None = None,
) -> SimilarReport:
    """``cases`` and ``documents``: the library and document store, when the caller holds them loaded."""
    root = settings.case_library_dir(library)
    if cases is None and not root.exists():
        hint = "`underwrite index build`" + (
            "" if library == PORTFOLIO_LIBRARY else f" --spec {library} --data FILE"
        )
        raise UnderwriterError(f"no case library {library!r} at {root}; build it with {hint}")
    cases = cases or CaseLibrary.load(root)
    if case_id in cases.store:
        query = cases.query_for_case(case_id)
        decided = cases.store.item(cases.store.id_of(case_id)).as_of
        return SimilarReport(
            case_id, library, as_of or decided, True, cases.similar(query, k=k, as_of=as_of or decided)
        )
    if library != PORTFOLIO_LIBRARY:
        raise UnderwriterError(f"{case_id!r} is not a case in library {library!r}")
    files = PortfolioFiles(settings.portfolio_dir)
    merchants = pd.read_csv(files.merchants, dtype={"mcc": str, "merchant_id": str})
    row = merchants[merchants["merchant_id"] == case_id]
    if row.empty:
        raise UnderwriterError(
            f"merchant {case_id!r} is neither in the case library nor in {files.merchants}"
        )
    text = None
    if cases.text_dim and (documents is not None or settings.documents_index_dir.exists()):
        store = documents or VectorStore.load(
            settings.documents_index_dir, embedder_id=cases.store.embedder_id
        )
        text = merchant_text_vectors(store, [case_id])[0]
    when = as_of or str(row["decision_date"].iloc[0])
    contrib = None
    if cases.representation == "contributions":
        model = load_model(settings.model_dir, nthread=settings.threads)
        contrib = contributions(model, model.encoder.transform(row)[0], nthread=settings.threads)[0, :-1]
    query = cases.query_for(
        row, text_vector=text, contributions=contrib, merchant_id=case_id, decided_at=when
    )
    return SimilarReport(case_id, library, when, False, cases.similar(query, k=k, as_of=when))


def indexes_are_current(settings: Settings) -> bool:
    """True when the demo indexes exist and were built from today's portfolio file and model version."""
    if not (settings.documents_index_dir / "CURRENT").is_file():
        return False
    root = settings.case_library_dir(PORTFOLIO_LIBRARY)
    if not (root / "CURRENT").is_file():
        return False
    try:
        manifest = json.loads(
            (root / "versions" / (root / "CURRENT").read_text().strip() / "manifest.json").read_text()
        )
        info = manifest["info"]
        model = load_model(settings.model_dir, nthread=settings.threads)
    except (OSError, ValueError, KeyError, UnderwriterError):
        return False
    merchants = PortfolioFiles(settings.portfolio_dir).merchants
    return (
        info["source"].get("model_id") == model.model_id
        and info["source"].get("data_sha256") == sha256_file(merchants)
        and info["representation"] == settings.index.case_profile
        and info["weights"]["tabular"] == _weights(settings).tabular
    )


@dataclass
class MerchantEvidence:
    merchant_id: str
    documents: int
    flagged: list[dict[str, Any]]
    similar: SimilarReport


def evidence_for(settings: Settings, merchant_ids: list[str], *, k: int = 10) -> list[MerchantEvidence]:
    """Documents (with injection flags) and similar past cases for each merchant, from the built indexes."""
    store = VectorStore.load(settings.documents_index_dir)
    out = []
    for merchant in merchant_ids:
        docs = list(store.records("document", merchant_id=merchant).values())
        flagged = [r for r in docs if r["injection_flagged"]]
        out.append(MerchantEvidence(merchant, len(docs), flagged, similar_cases(settings, merchant, k=k)))
    return out
