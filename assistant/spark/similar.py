"""Similar past cases for every record of a file, as a Spark job: the case library travels to each executor."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

from assistant.settings import Settings
from assistant.spark.session import read_records, spark_session
from assistant.workspace import PORTFOLIO_LIBRARY, Workspace
from models.errors import UnderwriterError
from models.store.artifacts import load_model
from models.store.versioned import replace_folder
from retrieval.similar_cases.library import CaseLibrary

SIMILAR_SCHEMA = (
    "query_id string, rank int, case_id string, decided_at string, outcome int, pd double, grade string, "
    "similarity double, closest string"
)
SIMILAR_COLUMNS = [
    "query_id",
    "rank",
    "case_id",
    "decided_at",
    "outcome",
    "pd",
    "grade",
    "similarity",
    "closest",
]
_SIMILAR_WORKER: dict[str, Any] = {}


def _load_worker(library_name: str, documents_name: str | None, model_name: str | None) -> dict[str, Any]:
    """The case library, document index and model shipped to this executor, loaded once per worker.
    Callers use the returned dict: a task's closure is pickled with its own copy of the module's globals."""
    from pyspark import SparkFiles

    from models.store.artifacts import load_model
    from retrieval.similar_cases.library import CaseLibrary
    from retrieval.vector_store.store import VectorStore

    if "cases" not in _SIMILAR_WORKER:
        _SIMILAR_WORKER["cases"] = CaseLibrary.load(Path(SparkFiles.get(library_name)))
        _SIMILAR_WORKER["documents"] = (
            VectorStore.load(Path(SparkFiles.get(documents_name))) if documents_name else None
        )
        _SIMILAR_WORKER["model"] = load_model(Path(SparkFiles.get(model_name)), 1) if model_name else None
    return _SIMILAR_WORKER


def _hit_row(query_id: str, rank: int, hit: Any) -> dict[str, Any]:
    return {
        "query_id": query_id,
        "rank": rank,
        "case_id": hit.case_id,
        "decided_at": hit.decided_at,
        "outcome": hit.outcome,
        "pd": hit.pd,
        "grade": hit.grade,
        "similarity": hit.similarity,
        "closest": ";".join(m.name for m in hit.closest),
    }


def _similar_partition(
    spec_json: str, library_name: str, documents_name: str | None, model_name: str | None, k: int
) -> Any:
    """Each task queries the case library its executor received (``SparkFiles``): a merchant in
    the library by its stored profile, any other by its record (and its documents' vector
    when the document index came too, and the model's view of it when the library compares
    that), as ``underwrite similar`` does, one row at a time."""

    def run(frames: Any) -> Any:
        import pandas as pd

        from models.data.dataset import parse_features
        from models.data.spec import DatasetSpec
        from retrieval.similar_cases.search import find_similar, narrative_vectors

        worker = _load_worker(library_name, documents_name, model_name)
        cases: CaseLibrary = worker["cases"]
        documents = worker["documents"]
        spec = DatasetSpec.model_validate(json.loads(spec_json))
        date_column = spec.date.column if spec.date else None
        for raw in frames:
            raw = raw.reset_index(drop=True)
            typed, _ = parse_features(raw, spec)
            ids = raw[spec.id].astype(str).str.strip().tolist()
            texts = narrative_vectors(documents, ids) if documents is not None and cases.text_dim else None
            rows: list[dict[str, Any]] = []
            for r, query_id in enumerate(ids):
                found = find_similar(
                    cases,
                    library_name,
                    query_id,
                    k=k,
                    record=typed.iloc[[r]].reset_index(drop=True),
                    decided_at=str(raw.loc[r, date_column])[:10] if date_column else None,
                    text_vector=None if texts is None else texts[r],
                    model=worker["model"],
                    nthread=1,
                )
                rows += [_hit_row(query_id, rank, hit) for rank, hit in enumerate(found.hits, start=1)]
            yield pd.DataFrame(rows, columns=SIMILAR_COLUMNS).astype({"outcome": "Int32", "rank": "int32"})

    return run


def similar_with_spark(
    settings: Settings,
    *,
    data: str | Path,
    out: str | Path,
    k: int = 10,
    library: str = PORTFOLIO_LIBRARY,
    master: str | None = None,
    partitions: int | None = None,
    spark: Any | None = None,
) -> tuple[int, int, float]:
    """The ``k`` most similar past cases of every record in ``data``, written to ``OUT/similar/``
    (Parquet: query id, rank, case, outcome, PD, grade, similarity). Returns (queries, rows, seconds)."""
    started = time.perf_counter()
    data, out = Path(data), Path(out)
    workspace = Workspace(settings)
    root = workspace.require_case_library(library)
    uses_model = CaseLibrary.load(root).uses_model
    spec = load_model(workspace.model_dir, nthread=1).spec
    if not spec.id:
        raise UnderwriterError(f"spec {spec.name!r} names no id column")
    own_session = spark is None
    session = spark or spark_session(master or settings.spark.master, conf=dict(settings.spark.conf))
    try:
        session.sparkContext.addFile(str(root), recursive=True)  # the index travels to every executor
        documents = None
        if library == PORTFOLIO_LIBRARY and workspace.has_document_index():
            documents = workspace.documents_index_dir
            session.sparkContext.addFile(str(documents), recursive=True)
        model_name = None
        if uses_model:  # the library compares the model's view: the model travels too
            session.sparkContext.addFile(str(workspace.model_dir), recursive=True)
            model_name = workspace.model_dir.name
        columns = [spec.id, *spec.features] + ([spec.date.column] if spec.date else [])
        records = read_records(session, data, columns)
        if partitions:
            records = records.repartition(partitions)
        queries = records.count()
        found = records.mapInPandas(
            _similar_partition(
                spec.model_dump_json(), root.name, documents.name if documents else None, model_name, k
            ),
            schema=SIMILAR_SCHEMA,
        )
        out.mkdir(parents=True, exist_ok=True)
        staging = out / f".similar.{uuid.uuid4().hex[:8]}"
        found.write.mode("overwrite").parquet(str(staging))
        rows = session.read.parquet(str(staging)).count()
        replace_folder(staging, out / "similar")
    finally:
        if own_session:
            session.stop()
    return queries, rows, time.perf_counter() - started
