"""``underwrite index build``: the document index and the similar-case libraries.

The document index: the portfolio's documents -> sandboxed readers -> screened chunks ->
cached embeddings -> FAISS. The similar-case library: historical merchants (their profile and
their documents' narrative), or any labelled dataset with a spec.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from assistant.backends import open_embedder
from assistant.case.portfolio_documents import portfolio_sources, read_documents
from assistant.jobs.demo import ensure_portfolio_and_model
from assistant.settings import Settings
from assistant.workspace import PORTFOLIO_LIBRARY, PORTFOLIO_SPEC, Workspace
from models.data.dataset import Dataset, load_dataset
from models.data.spec import DatasetSpec, load_spec
from models.demo_data.generate import PortfolioFiles
from models.errors import UnderwriterError
from models.scoring.score import contributions, score_dataset
from models.store.artifacts import RiskModel, load_model
from retrieval.documents.collect import collect_documents
from retrieval.documents.ingest import DocumentSource
from retrieval.embedding_cache import EmbeddingCache
from retrieval.passages import DocumentIndex
from retrieval.similar_cases.library import CaseLibrary
from retrieval.similar_cases.search import narrative_vectors

Progress = Callable[[str, int, int], None]
"""``(stage, done, total)``: how a background build reports where it is."""
READING = "reading documents"
EMBEDDING = "embedding passages"
LIBRARY = "building the similar-case library"


def _stage(on_progress: Progress | None, stage: str) -> Callable[[int, int], None] | None:
    if on_progress is None:
        return None
    return lambda done, total: on_progress(stage, done, total)


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
    skipped: list[str] = field(default_factory=list)
    """User documents left out (an unknown case, a missing file), each with why."""
    notes: list[str] = field(default_factory=list)


def build_document_index(
    settings: Settings,
    sources: list[DocumentSource],
    cache: EmbeddingCache,
    report: IndexReport,
    progress: bool,
    on_progress: Progress | None = None,
    out: Path | None = None,
) -> DocumentIndex:
    """Read, screen, chunk and embed ``sources`` into a document index saved at ``out`` (default: the
    demo portfolio's)."""
    embedder = cache.embedder
    started = time.perf_counter()
    result = read_documents(
        settings,
        sources,
        count=embedder.count_tokens,
        model_max_tokens=embedder.max_tokens,
        progress=progress,
        on_progress=_stage(on_progress, READING),
    )
    report.timings["read, screen and chunk documents"] = time.perf_counter() - started
    started = time.perf_counter()
    index = DocumentIndex.new(cache, exact_below=settings.index.exact_below)
    before = cache.stats.computed, cache.stats.reused
    index.add(
        result.documents,
        result.chunks,
        result.failures,
        progress=progress,
        on_progress=_stage(on_progress, EMBEDDING),
    )
    index.store.ensure_index()
    report.timings["embed and index chunks"] = time.perf_counter() - started
    report.document_dir = index.save(out or Workspace(settings).documents_index_dir)
    report.documents = len(result.documents)
    report.failures = [{"source": f.source, "error": f.error, "limit": f.limit} for f in result.failures]
    report.flagged = [
        {
            "doc_id": d.doc_id,
            "merchant_id": d.merchant_id,
            "score": d.screening.score,
            "kinds": sorted({f.kind for f in d.screening.flags}),
        }
        for d in result.documents
        if d.screening.flagged
    ]
    report.chunks = len(result.chunks)
    report.embedded = cache.stats.computed - before[0]
    report.reused = cache.stats.reused - before[1]
    report.document_plan = index.store.plan.to_dict() if index.store.plan else None
    return index


def _model_view(
    settings: Settings, model: RiskModel | None, frame: pd.DataFrame
) -> tuple[np.ndarray | None, str]:
    """The case profile and, when it is the model's view, the per-feature TreeSHAP contributions; a library
    built without a model compares features."""
    if settings.index.case_profile == "features" or model is None:
        return None, "features"
    x, _ = model.encoder.transform(frame)
    return contributions(model, x, nthread=settings.threads)[:, :-1], settings.index.case_profile


def build_case_library(
    settings: Settings,
    name: str,
    dataset: Dataset,
    report: IndexReport,
    *,
    model: RiskModel | None,
    text_vectors: np.ndarray | None,
    embedder_id: str,
    outcome_window_days: int,
) -> CaseLibrary:
    """A library of the dataset's labelled cases (with the model's PDs and grades when given), saved as
    the workspace's library ``name``."""
    started = time.perf_counter()
    spec = dataset.spec
    source: dict[str, Any] = {"spec": spec.name, "data": dataset.source, "data_sha256": dataset.sha256}
    pds = grades = None
    if model is not None:
        scored = score_dataset(model, dataset, nthread=settings.threads, reasons="none").frame
        pds, grades = scored["pd"].tolist(), scored["grade"].tolist()
        source |= {"model": model.label, "model_id": model.model_id}
    view, profile = _model_view(settings, model, dataset.frame)
    library = CaseLibrary.build(
        dataset.frame,
        contributions=view,
        representation=profile,
        case_ids=dataset.ids.astype(str).tolist(),
        decided_at=[d.date().isoformat() for d in dataset.dates],  # type: ignore[union-attr]
        outcomes=dataset.labels.astype(int).tolist(),  # type: ignore[union-attr]
        numeric=spec.numeric,
        categorical=spec.categorical,
        names=spec.names,
        pds=pds,
        grades=grades,
        text_vectors=text_vectors,
        embedder_id=embedder_id,
        weights=settings.index.case_weights(),
        outcome_window_days=outcome_window_days,
        source=source,
        exact_below=settings.index.exact_below,
    )
    report.case_library_dir = library.save(Workspace(settings).case_library_dir(name))
    report.cases = len(library)
    report.case_plan = library.store.plan.to_dict() if library.store.plan else None
    report.timings["build case library"] = time.perf_counter() - started
    return library


def build_portfolio_case_library(
    settings: Settings, files: PortfolioFiles, documents: DocumentIndex, report: IndexReport
) -> CaseLibrary:
    """Historical merchants: their profile, their documents' narrative, the workspace model's view."""
    dataset = load_dataset(files.merchants, load_spec(PORTFOLIO_SPEC), require_label=True)
    return build_case_library(
        settings,
        PORTFOLIO_LIBRARY,
        dataset,
        report,
        model=load_model(Workspace(settings).model_dir, nthread=settings.threads),
        text_vectors=narrative_vectors(documents.store, dataset.ids.astype(str).tolist()),
        embedder_id=documents.store.embedder_id,
        outcome_window_days=settings.index.outcome_window_days,
    )


def build_dataset_case_library(
    settings: Settings,
    spec_name: str,
    data: Path,
    cache: EmbeddingCache | None,
    report: IndexReport,
    model_dir: Path | None = None,
    outcome_window_days: int = 0,
) -> CaseLibrary:
    """Any labelled dataset with a spec and a date column; its text columns are the narrative."""
    spec = load_spec(spec_name)
    if spec.date is None:
        raise UnderwriterError(f"spec {spec.name} has no date column; a case library needs decision dates")
    dataset: Dataset = load_dataset(data, spec, require_label=True)
    text_vectors = None
    if spec.text and cache is not None:
        texts = dataset.frame[spec.text].fillna("").astype(str).agg(". ".join, axis=1).tolist()
        text_vectors = cache.embed(texts)
    return build_case_library(
        settings,
        spec.name,
        dataset,
        report,
        model=None if model_dir is None else load_model(model_dir, nthread=settings.threads),
        text_vectors=text_vectors,
        embedder_id=cache.embedder.model_id if cache is not None and text_vectors is not None else "none",
        outcome_window_days=outcome_window_days,
    )


def build_dataset_documents(
    settings: Settings,
    spec: DatasetSpec,
    data: Path,
    documents: Path,
    cache: EmbeddingCache,
    report: IndexReport,
    progress: bool,
) -> DocumentIndex:
    """The user's own documents for a dataset's cases (``--documents``), dated and indexed for its memos."""
    dataset = load_dataset(data, spec, require_label=False)
    days = (
        [None] * len(dataset.ids) if dataset.dates is None else [d.date().isoformat() for d in dataset.dates]
    )
    dates = dict(zip(dataset.ids.astype(str), days, strict=True))
    folder = Workspace(settings).dataset_documents_dir(spec.name)
    staging = folder.parent / "staged"
    shutil.rmtree(staging, ignore_errors=True)
    collected = collect_documents(documents, dates, staging, settings.index.limits.to_limits())
    report.skipped = collected.skipped
    if not collected.sources:
        why = "; ".join(collected.skipped[:3]) or "it holds no files"
        raise UnderwriterError(f"no document in {documents} belongs to a case of {data} ({why})")
    return build_document_index(settings, collected.sources, cache, report, progress, out=folder)


def build_indexes(
    settings: Settings,
    *,
    spec: str | None = None,
    data: Path | None = None,
    model: Path | None = None,
    outcome_window_days: int = 0,
    progress: bool = True,
    on_progress: Progress | None = None,
    documents: Path | None = None,
) -> IndexReport:
    """Demo workspace (no ``spec``): document index + merchant case library. With ``spec``: that dataset's library."""
    report = IndexReport()
    if documents is not None and spec is None:
        raise UnderwriterError("--documents needs --spec and --data: the cases the documents belong to")
    if spec is not None:
        if data is None:
            raise UnderwriterError("--spec needs --data (the CSV or Parquet file of past cases)")
        dataset_spec = load_spec(spec)
        cache = open_embedder(settings) if dataset_spec.text or documents is not None else None
        if documents is not None:
            assert cache is not None
            build_dataset_documents(settings, dataset_spec, data, documents, cache, report, progress)
        if dataset_spec.label is None:
            report.notes.append(f"no similar-case library: spec {dataset_spec.name} has no label (outcomes)")
        else:
            build_dataset_case_library(settings, spec, data, cache, report, model, outcome_window_days)
        return report
    started = time.perf_counter()
    files, _ = ensure_portfolio_and_model(settings, progress=progress)
    report.timings["portfolio and model"] = time.perf_counter() - started
    cache = open_embedder(settings)
    index = build_document_index(settings, portfolio_sources(files), cache, report, progress, on_progress)
    if on_progress is not None:
        on_progress(LIBRARY, 0, 1)
    build_portfolio_case_library(settings, files, index, report)
    if on_progress is not None:
        on_progress(LIBRARY, 1, 1)
    return report
