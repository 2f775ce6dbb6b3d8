"""Memo jobs behind ``POST /v1/memos``: queued, written by the configured LLM on worker threads, recorded in
the audit trail like every memo (``underwrite memo``'s own :func:`generate_memo`).

A job's state lives in memory while the service runs; the memo itself is in the audit trail, so
``GET /v1/memos/{memo_id}`` finds it after a restart too. The workers hold their own audit connection:
a memo that takes a minute of LLM time never holds up the decisions' writes.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from assistant.audit import AuditStore
from assistant.jobs.portfolio_cases import PortfolioCases
from assistant.settings import Settings
from assistant.workspace import Workspace
from models.backends.llm import LLM
from models.errors import UnderwriterError

MAX_JOBS_KEPT = 10_000


class MemoJobs:
    def __init__(self, settings: Settings, llm_factory: Callable[[], LLM]):
        self.settings = settings
        self.llm_factory = llm_factory
        self.pool = ThreadPoolExecutor(max_workers=settings.service.memo_workers, thread_name_prefix="memo")
        self.lock = threading.Lock()
        self.jobs: dict[str, dict[str, Any]] = {}
        self.cases = PortfolioCases(settings)
        self._llm: LLM | None = None
        self._audit: AuditStore | None = None

    def start(self, case_id: str) -> dict[str, Any]:
        """Queue a memo for a case of the portfolio; a clear error (nothing queued) for an unknown case."""
        self.cases.check_case(case_id)
        job = {"job_id": f"job-{uuid.uuid4().hex[:16]}", "case_id": case_id, "status": "queued"}
        with self.lock:
            self.jobs[job["job_id"]] = job
            while len(self.jobs) > MAX_JOBS_KEPT:
                self.jobs.pop(next(iter(self.jobs)))
        self.pool.submit(self._run, job["job_id"])
        return dict(job)

    def _run(self, job_id: str) -> None:
        job = self.jobs[job_id]
        job["status"] = "running"
        try:
            with self.lock:
                if self._llm is None:
                    self._llm = self.llm_factory()
                if self._audit is None:
                    self._audit = Workspace(self.settings).open_audit()
            result = self.cases.write_memo(job["case_id"], self._llm, self._audit)
            job.update(status="done", memo_id=result.memo_id)
        except UnderwriterError as exc:
            job.update(status="failed", error=str(exc))
        except Exception as exc:  # a broken backend fails the job with its message, never the service
            job.update(status="failed", error=f"{type(exc).__name__}: {exc}")

    def get(self, job_or_memo_id: str, audit: AuditStore) -> dict[str, Any] | None:
        """A job by its id, with the memo once done; or a recorded memo by its id (``memo-...``)."""
        job = self.jobs.get(job_or_memo_id)
        if job is not None:
            out = dict(job)
            if job.get("memo_id"):
                out |= memo_body(audit, job["memo_id"])
            return out
        found = memo_body(audit, job_or_memo_id)
        if not found:
            return None
        return {"job_id": "", "status": "done", "memo_id": job_or_memo_id, **found}

    def shutdown(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


def memo_body(audit: AuditStore, memo_id: str) -> dict[str, Any]:
    rows = audit.rows("memos", {"memo_id": memo_id}, limit=1)
    if not rows:
        return {}
    return {
        "case_id": rows[0]["merchant_id"],
        "memo": json.loads(rows[0]["json_text"]),
        "markdown": rows[0]["markdown"],
    }
