"""Credit memos as a Spark job whose tasks call the configured LLM backend, once per case per run.

The run's id and timestamp live in ``OUT/.spark_run.json``: the same folder run again resumes
the same run. A case whose JSON file exists is done; any other goes through
:func:`assistant.memo.once.memo_once` (the memo this run already recorded, or a new one whose id
depends only on the case and the run), so a retried or speculative attempt writes the same
files under the same name (whole or not at all, JSON last).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.jobs.runs import record_run
from assistant.settings import Settings
from assistant.spark.session import spark_session
from assistant.workspace import Workspace
from models.errors import UnderwriterError

_MEMO_WORKER: dict[str, Any] = {}
RUN_FILE = ".spark_run.json"


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
    """What each Spark task runs over its case ids: ``(case id, status, memo id or error, seconds)``."""

    def run_partition(case_ids: Any) -> Any:
        from assistant.backends import open_llm
        from assistant.case.source import CaseSource
        from assistant.memo.config import memo_config
        from assistant.memo.files import write_memo_files
        from assistant.memo.once import memo_once

        if "source" not in _MEMO_WORKER:  # once per Python worker process, reused across tasks
            worker_settings = Settings.model_validate(json.loads(settings_json))
            _MEMO_WORKER["settings"] = worker_settings
            _MEMO_WORKER["source"] = CaseSource(worker_settings, **source_args)
            _MEMO_WORKER["llm"] = open_llm(worker_settings, threads=1)
        settings: Settings = _MEMO_WORKER["settings"]
        folder = Path(out)
        with Workspace(settings).open_audit() as audit:
            for case_id in case_ids:
                started = time.perf_counter()
                if (folder / f"{case_id}.json").is_file():
                    yield (case_id, "skipped", "", 0.0)
                    continue
                try:
                    done = memo_once(
                        _MEMO_WORKER["source"],
                        case_id,
                        _MEMO_WORKER["llm"],
                        audit,
                        memo_config(settings),
                        run_id=run["run_id"],
                        generated_at=run["generated_at"],
                    )
                    write_memo_files(folder, case_id, done.rendered)
                    yield (case_id, "done", done.memo_id, time.perf_counter() - started)
                except Exception as exc:  # one failing case is reported; the task goes on
                    yield (case_id, "failed", f"{type(exc).__name__}: {exc}", time.perf_counter() - started)

    return run_partition


def _run_state(out: Path) -> dict[str, str]:
    """The run this folder belongs to: read back when resuming, else a new one written atomically."""
    state_file = out / RUN_FILE
    if state_file.is_file():
        return dict(json.loads(state_file.read_text()))
    run = {
        "run_id": f"spark-memo-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}",
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
    }
    staging = state_file.with_suffix(".tmp")
    staging.write_text(json.dumps(run))
    os.replace(staging, state_file)
    return run


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
    """Memos for ``case_ids`` into ``out`` (see the module's docstring)."""
    started = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if len(set(case_ids)) != len(case_ids):
        raise UnderwriterError("each case id may appear once")
    run = _run_state(out)
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
    memo_run = SparkMemoRun(
        run_id=run["run_id"],
        master=f"spark {master}",
        out=out,
        cases=len(case_ids),
        written=sum(1 for s, _ in statuses.values() if s == "done"),
        skipped=sum(1 for s, _ in statuses.values() if s == "skipped"),
        failed={c: d for c, (s, d) in statuses.items() if s == "failed"},
        seconds=time.perf_counter() - started,
    )
    record_run(
        Workspace(settings),
        run_id=f"{run['run_id']}@{time.strftime('%Y%m%dT%H%M%S')}",
        kind="memo",
        engine=memo_run.master,
        model_id="",
        input_sha256=hashlib.sha256("\n".join(case_ids).encode()).hexdigest(),
        rows_in=len(case_ids),
        rows_out=memo_run.written + memo_run.skipped,
        rows_rejected=len(memo_run.failed),
        output=str(out),
        params={"source": source_args or {}, "partitions": slices, "memo_run": run["run_id"]},
    )
    return memo_run
