"""Portfolio scoring into ``OUT/scores/`` (Parquet, partitioned by band or grade) on one machine.

The Spark job (:mod:`assistant.spark.score`) writes the same layout; this single-machine path is
the baseline it is compared with. Every run is recorded in the audit trail's ``runs`` table
with the model, the input's hash and the row counts.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.jobs.modeling import score_file
from assistant.jobs.runs import input_sha256, record_run
from assistant.settings import Settings
from assistant.workspace import Workspace
from models.errors import UnderwriterError
from models.store.versioned import replace_folder

OUTPUT_PARTITIONS = frozenset({"grade", "band"})


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


def output_partitions(settings: Settings, partition_by: list[str] | None) -> list[str]:
    """The output's partition columns (``[spark] partition_by`` unless given); a clear error otherwise."""
    chosen = list(settings.spark.partition_by if partition_by is None else partition_by)
    unknown = [c for c in chosen if c not in OUTPUT_PARTITIONS]
    if unknown:
        raise UnderwriterError(
            f"--partition-by: {', '.join(unknown)} is not an output column; use grade or band"
        )
    return chosen


def record_score_run(settings: Settings, run: ScoreRun, data: Path, params: dict[str, Any]) -> None:
    record_run(
        Workspace(settings),
        run_id=run.run_id,
        kind="score",
        engine=run.master,
        model_id=run.model_id,
        input_sha256=run.input_sha256,
        rows_in=run.rows_in,
        rows_out=run.rows_scored,
        rows_rejected=run.rows_rejected,
        output=str(run.out),
        params={"data": str(data), **params},
    )


def score_locally(
    settings: Settings,
    *,
    model: str | Path,
    data: str | Path,
    out: str | Path,
    partition_by: list[str] | None = None,
) -> ScoreRun:
    """Score on this machine into the Spark job's layout.

    The whole file is validated first, as ``underwrite score`` does: a bad row stops the run
    with every problem listed, and nothing is written."""
    started = time.perf_counter()
    data, out = Path(data), Path(out)
    partition_by = output_partitions(settings, partition_by)
    outcome = score_file(settings, model=model, data=data, out=None)
    run_id = f"local-score-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"
    out.mkdir(parents=True, exist_ok=True)
    staging = out / f".scores.{run_id}"
    outcome.batch.frame.to_parquet(staging, partition_cols=partition_by or None, index=False)
    replace_folder(staging, out / "scores")
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
    record_score_run(settings, run, data, {"partition_by": partition_by, "model": outcome.model.label})
    return run
