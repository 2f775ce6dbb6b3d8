"""The batch screen's running jobs: a planned batch (``assistant.jobs.batch_plan``) run in a
background thread, one per output folder, polled through the batch job's ledger.

The output folder is named by a hash of what is asked (cases, source, memo settings), so the same
file run again resumes the same run: what is done is skipped, and the screen says so.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from assistant.jobs.batch_plan import BatchPlan
from assistant.jobs.memo_batch import BatchSummary, ledger_rows, run_batch
from assistant.settings import Settings


@dataclass
class BatchJob:
    """A run in a background thread; the screen polls :func:`ledger_rows` for progress."""

    plan: BatchPlan
    settings: Settings
    workers: int = 1
    already_done: int = 0
    summary: BatchSummary | None = None
    error: str | None = None
    thread: threading.Thread | None = field(default=None, repr=False)

    def start(self) -> BatchJob:
        before = ledger_rows(self.plan.out)
        self.already_done = int((before["status"] == "done").sum()) if len(before) else 0

        def work() -> None:
            try:
                self.summary = run_batch(
                    self.settings,
                    self.plan.case_ids,
                    self.plan.out,
                    workers=self.workers,
                    source_args=self.plan.source_args,
                    progress=False,
                )
            except Exception as exc:  # shown on screen; the ledger keeps what was done
                self.error = f"{type(exc).__name__}: {exc}"

        self.thread = threading.Thread(target=work, name="batch-run", daemon=True)
        self.thread.start()
        return self

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()


_JOBS: dict[Path, BatchJob] = {}
_JOBS_LOCK = threading.Lock()


def start_job(plan: BatchPlan, settings: Settings, workers: int = 1) -> tuple[BatchJob, bool]:
    """(the job for ``plan``, whether it was started now). A run of the same selection that is still
    going (its browser may have left) is returned instead of a second one; another process's run on
    the same folder is refused by the run lock with a clear message."""
    with _JOBS_LOCK:
        running = _JOBS.get(plan.out)
        if running is not None and running.running:
            return running, False
        job = BatchJob(plan, settings, workers=workers).start()
        _JOBS[plan.out] = job
        return job, True
