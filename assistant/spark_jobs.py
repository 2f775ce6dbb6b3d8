"""Portfolio jobs on Apache Spark: the same code in ``local[*]`` on a laptop and on a cluster.

Scoring reads the records with Spark (CSV as text cells, or Parquet), ships the versioned
model to the executors as a broadcast of its files, scores each partition with
:func:`models.partition_scoring.score_partitions` (``mapInPandas``), and writes

* ``OUT/scores/``: id, PD, grade, band, policy flags and reason codes, Parquet partitioned
  by the configured columns (``[spark] partition_by``);
* ``OUT/rejected/``: each record that could not be scored, with the reason.

The folders are written next to their final names and renamed into place when the job
has succeeded (on a local or mounted file system), so a reader never sees a half-written
run; Spark's own commit protocol keeps a retried or speculative task from writing its
rows twice. The run (model, input hash, row counts) is recorded in the audit trail.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.audit import AuditStore
from assistant.settings import Settings
from models.artifacts import load_model
from models.errors import UnderwriterError
from models.partition_scoring import OUTPUT_COLUMNS, model_payload, score_partitions
from models.versioned import sha256_file

SCHEMA = ", ".join(f"{c} double" if c == "pd" else f"{c} string" for c in OUTPUT_COLUMNS)


def spark_session(master: str, *, app_name: str = "underwriter", conf: dict[str, str] | None = None) -> Any:
    """A Spark session bound to 127.0.0.1 in local mode, with Arrow on for pandas exchange."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise UnderwriterError(
            "Spark is not installed: pip install 'underwriter[spark]' (pyspark; Java 17+ on the machine)"
        ) from None
    builder = SparkSession.builder.master(master).appName(app_name)
    settings = {
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.shuffle.partitions": "8",
    }
    if master.startswith("local"):  # one machine: loopback only, workers run this interpreter
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        settings |= {
            "spark.driver.host": "127.0.0.1",
            "spark.driver.bindAddress": "127.0.0.1",
            "spark.pyspark.python": sys.executable,
            "spark.pyspark.driver.python": sys.executable,
        }
    for key, value in (settings | (conf or {})).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def input_sha256(path: Path) -> str:
    """SHA-256 of a file (as a local run's dataset hash), or of a folder's files: each file's
    relative name and content hash, in name order (a Parquet dataset written by Spark)."""
    if path.is_file():
        return sha256_file(path)
    files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith((".", "_")))
    if not files:
        raise UnderwriterError(f"{path}: no input file")
    lines = "".join(f"{p.relative_to(path).as_posix()} {sha256_file(p)}\n" for p in files)
    return hashlib.sha256(lines.encode()).hexdigest()


def read_records(spark: Any, data: Path, columns: list[str]) -> Any:
    """The columns the model needs, from CSV (every cell as text, parsed like a local file) or Parquet."""
    text = str(data)
    parquet = data.suffix.lower() in {".parquet", ".pq"} or (data.is_dir() and any(data.rglob("*.parquet")))
    frame = spark.read.parquet(text) if parquet else spark.read.csv(text, header=True, inferSchema=False)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise UnderwriterError(f"{data}: missing column(s) {', '.join(missing)}")
    from pyspark.sql import functions as F  # noqa: N812 - Spark's own convention

    return frame.select(*[F.col(c).cast("string") if not parquet else F.col(c) for c in columns])


@dataclass
class ScoreRun:
    run_id: str
    master: str
    out: Path
    rows_in: int
    rows_scored: int
    rows_rejected: int
    seconds: float
    partitions: int
    model_id: str
    input_sha256: str


def _swap_into_place(staging: Path, final: Path) -> None:
    if final.exists():
        old = final.with_name(f".{final.name}.old-{uuid.uuid4().hex[:6]}")
        os.replace(final, old)
        os.replace(staging, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staging, final)


def score_with_spark(
    settings: Settings,
    *,
    model: str | Path,
    data: str | Path,
    out: str | Path,
    master: str | None = None,
    partition_by: list[str] | None = None,
    partitions: int | None = None,
    reasons: str = "all",
    spark: Any | None = None,
    fail_marker: str | None = None,
) -> ScoreRun:
    """Score ``data`` with ``model`` on Spark into ``out`` (see the module's docstring)."""
    started = time.perf_counter()
    data, out = Path(data), Path(out)
    if not data.exists():
        raise UnderwriterError(f"{data} does not exist")
    master = master or settings.spark.master
    partition_by = _partitions(settings, partition_by)
    risk_model = load_model(model, nthread=1)
    spec = risk_model.spec
    if not spec.id:
        raise UnderwriterError(f"spec {spec.name!r} names no id column; Spark scoring keys rows by id")
    digest = input_sha256(data)
    run_id = f"spark-score-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"
    own_session = spark is None
    session = spark or spark_session(master, conf=dict(settings.spark.conf))
    master = str(session.sparkContext.master)  # a session handed in says where it runs
    try:
        records = read_records(session, data, [spec.id, *spec.features])
        if partitions:
            records = records.repartition(partitions)
        payload = session.sparkContext.broadcast(model_payload(model))

        def scorer(frames: Any) -> Any:  # runs on the executors; reads the broadcast there
            return score_partitions(payload.value, reasons=reasons, fail_marker=fail_marker)(frames)

        scored = records.mapInPandas(scorer, schema=SCHEMA).persist()
        out.mkdir(parents=True, exist_ok=True)
        staging = {name: out / f".{name}.{run_id}" for name in ("scores", "rejected")}
        from pyspark.sql import functions as F  # noqa: N812 - Spark's own convention

        good = scored.filter(F.col("error") == "").drop("error")
        good.write.mode("overwrite").partitionBy(*partition_by).parquet(str(staging["scores"]))
        scored.filter(F.col("error") != "").select("id", "error").coalesce(1).write.mode("overwrite").parquet(
            str(staging["rejected"])
        )
        counts = {
            r["ok"]: r["count"] for r in scored.groupBy((F.col("error") == "").alias("ok")).count().collect()
        }
        partitions_used = scored.rdd.getNumPartitions()
        scored.unpersist()
        payload.unpersist()
        for name, path in staging.items():
            _swap_into_place(path, out / name)
    except BaseException:
        for path in out.glob(f".*.{run_id}"):  # a failed job leaves no half-written folder behind
            shutil.rmtree(path, ignore_errors=True)
        raise
    finally:
        if own_session:
            session.stop()
    run = ScoreRun(
        run_id=run_id,
        master=f"spark {master}",
        out=out,
        rows_in=int(sum(counts.values())),
        rows_scored=int(counts.get(True, 0)),
        rows_rejected=int(counts.get(False, 0)),
        seconds=time.perf_counter() - started,
        partitions=partitions_used,
        model_id=risk_model.model_id,
        input_sha256=digest,
    )
    _record(
        settings,
        run,
        data,
        {
            "partition_by": partition_by,
            "partitions": partitions_used,
            "reasons": reasons,
            "model": risk_model.label,
        },
    )
    return run


def _record(settings: Settings, run: ScoreRun, data: Path, params: dict[str, Any]) -> None:
    with AuditStore.open(settings.audit_target) as audit:
        audit.append(
            "runs",
            run_id=run.run_id,
            kind="score",
            engine=run.master,
            model_id=run.model_id,
            input_sha256=run.input_sha256,
            rows_in=run.rows_in,
            rows_out=run.rows_scored,
            rows_rejected=run.rows_rejected,
            output=str(run.out),
            params=json.dumps({"data": str(data), **params}, sort_keys=True),
        )


def score_locally(
    settings: Settings,
    *,
    model: str | Path,
    data: str | Path,
    out: str | Path,
    partition_by: list[str] | None = None,
) -> ScoreRun:
    """The single-machine path with the same output layout: the baseline Spark is compared with.

    The whole file is validated first, as ``underwrite score`` does: a bad row stops the run
    with every problem listed, and nothing is written."""
    from assistant.workflows import score_file

    started = time.perf_counter()
    data, out = Path(data), Path(out)
    partition_by = _partitions(settings, partition_by)
    outcome = score_file(settings, model=model, data=data, out=None)
    run_id = f"local-score-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"
    out.mkdir(parents=True, exist_ok=True)
    staging = out / f".scores.{run_id}"
    outcome.batch.frame.to_parquet(staging, partition_cols=partition_by or None, index=False)
    _swap_into_place(staging, out / "scores")
    rows = len(outcome.batch.frame)
    run = ScoreRun(
        run_id,
        "local",
        out,
        rows,
        rows,
        0,
        time.perf_counter() - started,
        1,
        outcome.model.model_id,
        input_sha256(data),
    )
    _record(settings, run, data, {"partition_by": partition_by, "model": outcome.model.label})
    return run


def _partitions(settings: Settings, partition_by: list[str] | None) -> list[str]:
    chosen = list(settings.spark.partition_by if partition_by is None else partition_by)
    unknown = [c for c in chosen if c not in {"grade", "band"}]
    if unknown:
        raise UnderwriterError(
            f"--partition-by: {', '.join(unknown)} is not an output column; use grade or band"
        )
    return chosen


# ---- memos ------------------------------------------------------------------------------------

_MEMO_WORKER: dict[str, Any] = {}


@dataclass
class SparkMemoRun:
    run_id: str
    master: str
    out: Path
    cases: int
    written: int
    skipped: int
    failed: dict[str, str]
    seconds: float


def _memo_partition(settings_json: str, source_args: dict[str, Any], run: dict[str, str], out: str) -> Any:
    """What each Spark task runs over its case ids: one memo per case, exactly once per run.

    A case whose JSON file exists is done. A case whose memo this run already recorded (a
    task killed after recording, before writing) gets its files from the audit trail with no
    LLM call. Otherwise the memo is written; its id depends only on the case and the run, so
    a retried or speculative attempt writes the same files under the same name (whole or
    not at all, JSON last)."""

    def run_partition(case_ids: Any) -> Any:
        from assistant.casefile import CaseSource
        from assistant.memos import RenderedMemo, generate_memo, memo_config, open_llm, write_memo_files

        if "source" not in _MEMO_WORKER:  # once per Python worker process, reused across tasks
            worker_settings = Settings.model_validate(json.loads(settings_json))
            _MEMO_WORKER["settings"] = worker_settings
            _MEMO_WORKER["source"] = CaseSource(worker_settings, **source_args)
            _MEMO_WORKER["llm"] = open_llm(worker_settings, threads=1)
        folder = Path(out)
        with AuditStore.open(_MEMO_WORKER["settings"].audit_target) as audit:
            for case_id in case_ids:
                started = time.perf_counter()
                if (folder / f"{case_id}.json").is_file():
                    yield (case_id, "skipped", "", 0.0)
                    continue
                try:
                    rows = audit.rows("memos", {"merchant_id": case_id, "run_id": run["run_id"]}, limit=1)
                    if rows:
                        row = rows[0]
                        rendered = RenderedMemo(None, row["markdown"], row["json_text"], row["html"])
                        memo_id = row["memo_id"]
                    else:
                        result = generate_memo(
                            _MEMO_WORKER["source"], case_id, _MEMO_WORKER["llm"], audit,
                            memo_config(_MEMO_WORKER["settings"]), run_id=run["run_id"],
                            generated_at=run["generated_at"],
                        )  # fmt: skip
                        rendered, memo_id = result.rendered, result.memo_id
                    write_memo_files(folder, case_id, rendered)
                    yield (case_id, "done", memo_id, time.perf_counter() - started)
                except Exception as exc:  # one failing case is reported; the task goes on
                    yield (case_id, "failed", f"{type(exc).__name__}: {exc}", time.perf_counter() - started)

    return run_partition


def memos_with_spark(
    settings: Settings,
    case_ids: list[str],
    out: str | Path,
    *,
    master: str | None = None,
    source_args: dict[str, Any] | None = None,
    partitions: int | None = None,
    spark: Any | None = None,
) -> SparkMemoRun:
    """Memos for ``case_ids`` as a Spark job whose tasks call the configured LLM backend.

    The run's id and timestamp live in ``OUT/.spark_run.json``: the same folder run again
    resumes the same run, skipping what is done."""
    started = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if len(set(case_ids)) != len(case_ids):
        raise UnderwriterError("each case id may appear once")
    state_file = out / ".spark_run.json"
    if state_file.is_file():
        run = json.loads(state_file.read_text())
    else:
        run = {
            "run_id": f"spark-memo-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}",
            "generated_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
        }
        staging = state_file.with_suffix(".tmp")
        staging.write_text(json.dumps(run))
        os.replace(staging, state_file)
    own_session = spark is None
    session = spark or spark_session(master or settings.spark.master, conf=dict(settings.spark.conf))
    master = str(session.sparkContext.master)
    try:
        slices = partitions or max(1, min(len(case_ids), session.sparkContext.defaultParallelism))
        rdd = session.sparkContext.parallelize(case_ids, slices)
        results = rdd.mapPartitions(
            _memo_partition(settings.model_dump_json(), source_args or {}, run, str(out))
        ).collect()
    finally:
        if own_session:
            session.stop()
    statuses = {case_id: (status, detail) for case_id, status, detail, _ in results}
    failed = {c: d for c, (s, d) in statuses.items() if s == "failed"}
    memo_run = SparkMemoRun(
        run_id=run["run_id"],
        master=f"spark {master}",
        out=out,
        cases=len(case_ids),
        written=sum(1 for s, _ in statuses.values() if s == "done"),
        skipped=sum(1 for s, _ in statuses.values() if s == "skipped"),
        failed=failed,
        seconds=time.perf_counter() - started,
    )
    with AuditStore.open(settings.audit_target) as audit:
        audit.append(
            "runs",
            run_id=f"{run['run_id']}@{time.strftime('%Y%m%dT%H%M%S')}",
            kind="memo",
            engine=memo_run.master,
            model_id="",
            input_sha256=hashlib.sha256("\n".join(case_ids).encode()).hexdigest(),
            rows_in=len(case_ids),
            rows_out=memo_run.written + memo_run.skipped,
            rows_rejected=len(failed),
            output=str(out),
            params=json.dumps({"source": source_args or {}, "partitions": slices, "memo_run": run["run_id"]}),
        )
    return memo_run


# ---- similar cases -------------------------------------------------------------------------------

SIMILAR_SCHEMA = (
    "query_id string, rank int, case_id string, decided_at string, outcome int, pd double, grade string, "
    "similarity double, closest string"
)
_SIMILAR_WORKER: dict[str, Any] = {}


def _similar_partition(spec_json: str, library_name: str, documents_name: str | None, k: int) -> Any:
    """Each task queries the case library its executor received (``SparkFiles``): a merchant in
    the library by its stored profile, any other by its record (and its documents' vector
    when the document index came too), as ``underwrite similar`` does, one row at a time."""

    def run(frames: Any) -> Any:
        import pandas as pd
        from pyspark import SparkFiles

        from assistant.indexing import merchant_text_vectors
        from models.dataset import parse_features
        from models.spec import DatasetSpec
        from retrieval.similar_cases.library import CaseLibrary
        from retrieval.vector_store.store import VectorStore

        if "cases" not in _SIMILAR_WORKER:
            _SIMILAR_WORKER["cases"] = CaseLibrary.load(Path(SparkFiles.get(library_name)))
            _SIMILAR_WORKER["documents"] = (
                VectorStore.load(Path(SparkFiles.get(documents_name))) if documents_name else None
            )
        cases: CaseLibrary = _SIMILAR_WORKER["cases"]
        documents = _SIMILAR_WORKER["documents"]
        spec = DatasetSpec.model_validate(json.loads(spec_json))
        date_column = spec.date.column if spec.date else None
        for raw in frames:
            raw = raw.reset_index(drop=True)
            typed, _ = parse_features(raw, spec)
            ids = raw[spec.id].astype(str).str.strip().tolist()
            texts = (
                merchant_text_vectors(documents, ids) if documents is not None and cases.text_dim else None
            )
            rows: list[dict[str, Any]] = []
            for r, query_id in enumerate(ids):
                if query_id in cases.store:
                    query = cases.query_for_case(query_id)
                    when = cases.store.item(cases.store.id_of(query_id)).as_of
                else:
                    when = str(raw.loc[r, date_column])[:10] if date_column else None
                    query = cases.query_for(
                        typed.iloc[[r]].reset_index(drop=True),
                        text_vector=None if texts is None else texts[r],
                        merchant_id=query_id,
                        decided_at=when,
                    )
                for rank, hit in enumerate(cases.similar(query, k=k, as_of=when), start=1):
                    rows.append(
                        {"query_id": query_id, "rank": rank, "case_id": hit.case_id, "decided_at": hit.decided_at,
                         "outcome": hit.outcome, "pd": hit.pd, "grade": hit.grade, "similarity": hit.similarity,
                         "closest": ";".join(m.name for m in hit.closest)}
                    )  # fmt: skip
            yield pd.DataFrame(
                rows, columns=["query_id", "rank", "case_id", "decided_at", "outcome", "pd", "grade", "similarity",
                               "closest"]
            ).astype({"outcome": "Int32", "rank": "int32"})  # fmt: skip

    return run


def similar_with_spark(
    settings: Settings,
    *,
    data: str | Path,
    out: str | Path,
    k: int = 10,
    library: str = "merchants",
    master: str | None = None,
    partitions: int | None = None,
    spark: Any | None = None,
) -> tuple[int, int, float]:
    """The ``k`` most similar past cases of every record in ``data``, written to ``OUT/similar/``
    (Parquet: query id, rank, case, outcome, PD, grade, similarity). Returns (queries, rows, seconds)."""
    started = time.perf_counter()
    data, out = Path(data), Path(out)
    root = settings.case_library_dir(library)
    if not (root / "CURRENT").is_file():
        raise UnderwriterError(
            f"no case library {library!r} at {root}; build it with `underwrite index build`"
        )
    from retrieval.similar_cases.library import CaseLibrary

    if CaseLibrary.load(root).representation != "features":
        raise UnderwriterError(
            "similar cases on Spark compare feature profiles; this library compares contributions"
        )
    spec = load_model(settings.model_dir, nthread=1).spec
    if not spec.id:
        raise UnderwriterError(f"spec {spec.name!r} names no id column")
    own_session = spark is None
    session = spark or spark_session(master or settings.spark.master, conf=dict(settings.spark.conf))
    try:
        session.sparkContext.addFile(str(root), recursive=True)  # the index travels to every executor
        documents = settings.documents_index_dir if library == "merchants" else None
        if documents is not None and (documents / "CURRENT").is_file():
            session.sparkContext.addFile(str(documents), recursive=True)
        else:
            documents = None
        columns = [spec.id, *spec.features] + ([spec.date.column] if spec.date else [])
        records = read_records(session, data, columns)
        if partitions:
            records = records.repartition(partitions)
        queries = records.count()
        found = records.mapInPandas(
            _similar_partition(spec.model_dump_json(), root.name, documents.name if documents else None, k),
            schema=SIMILAR_SCHEMA,
        )
        out.mkdir(parents=True, exist_ok=True)
        staging = out / f".similar.{uuid.uuid4().hex[:8]}"
        found.write.mode("overwrite").parquet(str(staging))
        rows = session.read.parquet(str(staging)).count()
        _swap_into_place(staging, out / "similar")
    finally:
        if own_session:
            session.stop()
    return queries, rows, time.perf_counter() - started
