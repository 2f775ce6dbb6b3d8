"""Portfolio scoring on Apache Spark: the same code in ``local[*]`` on a laptop and on a cluster.

It reads the records with Spark (CSV as text cells, or Parquet), ships the versioned
model to the executors as a broadcast of its files, scores each partition with
:func:`models.scoring.partition.score_partitions` (``mapInPandas``), and writes

* ``OUT/scores/``: id, PD, grade, band, policy flags and reason codes, Parquet partitioned
  by the configured columns (``[spark] partition_by``);
* ``OUT/rejected/``: each record that could not be scored, with the reason.

The folders are written next to their final names and renamed into place when the job
has succeeded (on a local or mounted file system), so a reader never sees a half-written
run; Spark's own commit protocol keeps a retried or speculative task from writing its
rows twice. The run (model, input hash, row counts) is recorded in the audit trail.
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assistant.jobs.batch_score import ScoreRun, output_partitions, record_score_run
from assistant.jobs.runs import input_sha256
from assistant.settings import Settings
from assistant.spark.session import read_records, spark_session
from models.errors import UnderwriterError
from models.scoring.partition import OUTPUT_COLUMNS, model_payload, score_partitions
from models.store.artifacts import load_model
from models.store.versioned import replace_folder

SCHEMA = ", ".join(f"{c} double" if c == "pd" else f"{c} string" for c in OUTPUT_COLUMNS)


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
    before_task: Callable[[], None] | None = None,
) -> ScoreRun:
    """Score ``data`` with ``model`` on Spark into ``out`` (see the module's docstring).

    ``before_task`` runs on the executor at the start of every scoring task (tests make one
    attempt fail there, to prove a retried task writes its rows once)."""
    started = time.perf_counter()
    data, out = Path(data), Path(out)
    if not data.exists():
        raise UnderwriterError(f"{data} does not exist")
    partition_by = output_partitions(settings, partition_by)
    risk_model = load_model(model, nthread=1)
    spec = risk_model.spec
    if not spec.id:
        raise UnderwriterError(f"spec {spec.name!r} names no id column; Spark scoring keys rows by id")
    digest = input_sha256(data)
    run_id = f"spark-score-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"
    own_session = spark is None
    session = spark or spark_session(master or settings.spark.master, conf=dict(settings.spark.conf))
    master = str(session.sparkContext.master)  # a session handed in says where it runs
    try:
        job = _ScoreJob(session, spec.id, spec.features, Path(model), reasons, before_task)
        counts, partitions_used = job.write(data, out, run_id, partition_by, partitions)
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
    params = {"partition_by": partition_by, "partitions": partitions_used, "reasons": reasons}
    record_score_run(settings, run, data, {**params, "model": risk_model.label})
    return run


class _ScoreJob:
    """The Spark side of one scoring run: the model broadcast, the partitions scored, both outputs written."""

    def __init__(
        self,
        session: Any,
        id_column: str,
        features: list[str],
        model: Path,
        reasons: str,
        before_task: Callable[[], None] | None,
    ):
        self.session = session
        self.columns = [id_column, *features]
        self.model = model
        self.reasons = reasons
        self.before_task = before_task

    def write(
        self, data: Path, out: Path, run_id: str, partition_by: list[str], partitions: int | None
    ) -> tuple[dict[bool, int], int]:
        """Scores and rejected rows staged beside their final folders, then swapped into place; returns
        the row counts (scored: True, rejected: False) and the partitions used."""
        from pyspark.sql import functions as F  # noqa: N812 - Spark's own convention

        records = read_records(self.session, data, self.columns)
        if partitions:
            records = records.repartition(partitions)
        payload = self.session.sparkContext.broadcast(model_payload(self.model))
        reasons, before_task = self.reasons, self.before_task

        def scorer(frames: Any) -> Any:  # runs on the executors; reads the broadcast there
            if before_task is not None:
                before_task()
            return score_partitions(payload.value, reasons=reasons)(frames)

        scored = records.mapInPandas(scorer, schema=SCHEMA).persist()
        out.mkdir(parents=True, exist_ok=True)
        staging = {name: out / f".{name}.{run_id}" for name in ("scores", "rejected")}
        good = scored.filter(F.col("error") == "").drop("error")
        good.write.mode("overwrite").partitionBy(*partition_by).parquet(str(staging["scores"]))
        rejected = scored.filter(F.col("error") != "").select("id", "error").coalesce(1)
        rejected.write.mode("overwrite").parquet(str(staging["rejected"]))
        counts = {
            r["ok"]: r["count"] for r in scored.groupBy((F.col("error") == "").alias("ok")).count().collect()
        }
        partitions_used = scored.rdd.getNumPartitions()
        scored.unpersist()
        payload.unpersist()
        for name, path in staging.items():
            replace_folder(path, out / name)
        return counts, partitions_used
