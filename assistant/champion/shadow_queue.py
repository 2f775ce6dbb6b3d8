"""Challengers scoring in shadow: after the champion's answer has gone, never before it.

A served decision puts its row on a bounded queue; one low-priority worker thread scores it with every
challenger and records each score beside the champion's in ``shadow_scores``. When the queue is full
the work is dropped and counted (``/readyz`` reports it): shadow scoring may lose a sample, it never
slows a response or grows memory without bound.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from dataclasses import dataclass
from typing import Any

import pandas as pd

from assistant.audit import AuditStore
from models.scoring.score import score_matrix
from models.store.artifacts import RiskModel

SHADOW_NICE = 10
"""The worker's scheduling priority offset (Linux threads can be niced one by one)."""


@dataclass(frozen=True)
class ShadowJob:
    request_id: str
    case_id: str
    row: pd.DataFrame
    champion: dict[str, Any]
    """``model_id``, ``pd``, ``band`` of the served decision."""
    challengers: dict[str, RiskModel]


class ShadowScorer:
    def __init__(self, audit: AuditStore, audit_lock: threading.Lock, size: int):
        self.audit = audit
        self.audit_lock = audit_lock
        self.jobs: queue.Queue[ShadowJob | None] = queue.Queue(maxsize=size)
        self.dropped = 0
        self.scored = 0
        self.thread = threading.Thread(target=self._work, name="shadow", daemon=True)
        self.thread.start()

    def submit(self, job: ShadowJob) -> None:
        if not job.challengers:
            return
        try:
            self.jobs.put_nowait(job)
        except queue.Full:
            self.dropped += 1

    def drain(self, timeout: float = 30.0) -> None:
        """Wait until every queued job is recorded (tests, shutdown)."""
        done = threading.Event()

        def wait() -> None:
            self.jobs.join()
            done.set()

        threading.Thread(target=wait, daemon=True).start()
        done.wait(timeout)

    def stop(self) -> None:
        self.jobs.put(None)

    def _work(self) -> None:
        with contextlib.suppress(OSError, AttributeError):  # best effort: not every OS nices a thread
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), SHADOW_NICE)
        while True:
            job = self.jobs.get()
            try:
                if job is None:
                    return
                self._score(job)
            except Exception:  # a challenger that fails is a missing shadow row, never a failed request
                self.dropped += 1
            finally:
                self.jobs.task_done()

    def _score(self, job: ShadowJob) -> None:
        rows = []
        for name, model in job.challengers.items():
            x, _ = model.encoder.transform(job.row)
            out, _ = score_matrix(model, x, job.row, nthread=1, reasons="none")
            first = out.iloc[0]
            rows.append(
                (
                    "shadow_scores",
                    {
                        "request_id": job.request_id,
                        "case_id": job.case_id,
                        "challenger": name,
                        "model_id": model.model_id,
                        "pd": float(first["pd"]),
                        "grade": str(first["grade"]),
                        "band": str(first["band"]),
                        "champion_model_id": job.champion["model_id"],
                        "champion_pd": job.champion["pd"],
                        "champion_band": job.champion["band"],
                    },
                )
            )
        with self.audit_lock:
            self.audit.append_many(rows)
        self.scored += 1
