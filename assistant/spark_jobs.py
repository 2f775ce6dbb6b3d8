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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.audit import AuditStore
from assistant.settings import Settings
from models.artifacts import load_model
from models.errors import UnderwriterError
from models.partition_scoring import OUTPUT_COLUMNS, model_payload, score_partitions

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
    """SHA-256 of a file, or of a folder's files (names and contents, in name order)."""
    digest = hashlib.sha256()
    files = (
        [path]
        if path.is_file()
        else sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith((".", "_")))
    )
    if not files:
        raise UnderwriterError(f"{path}: no input file")
    for file in files:
        digest.update(str(file.relative_to(path) if path.is_dir() else file.name).encode())
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


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
    timings: dict[str, float] = field(default_factory=dict)


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
    timings: dict[str, float] = {"start spark": time.perf_counter() - started}
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

        t = time.perf_counter()
        good = scored.filter(F.col("error") == "").drop("error")
        good.write.mode("overwrite").partitionBy(*partition_by).parquet(str(staging["scores"]))
        scored.filter(F.col("error") != "").select("id", "error").coalesce(1).write.mode("overwrite").parquet(
            str(staging["rejected"])
        )
        counts = {
            r["ok"]: r["count"] for r in scored.groupBy((F.col("error") == "").alias("ok")).count().collect()
        }
        timings["score and write"] = time.perf_counter() - t
        partitions_used = scored.rdd.getNumPartitions()
        scored.unpersist()
        payload.unpersist()
        for name, path in staging.items():
            _swap_into_place(path, out / name)
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
        timings=timings,
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
