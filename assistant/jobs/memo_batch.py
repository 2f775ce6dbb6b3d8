"""Batch memo generation for a whole portfolio: resumable, exactly once, never a partial file.

A run is tied to its output folder. The folder's ledger (``.ledger.sqlite``) lists every case
with its status. A memo is produced in three steps, each safe to interrupt:

1. a worker composes the memo and records it in the audit trail (one transaction, tagged
   with the run id);
2. the parent writes the memo files (write, fsync, rename: whole or absent);
3. the parent marks the case done in the ledger.

Killed anywhere, a restart first reconciles: a case whose memo is already in the audit
trail for this run gets its files rewritten from the stored text, without a new LLM call,
so every case ends with exactly one memo. Worker processes die with the parent
(``PR_SET_PDEATHSIG``), so no orphan can write behind a restarted run.
"""

from __future__ import annotations

import ctypes
import fcntl
import json
import multiprocessing
import os
import signal
import sqlite3
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from assistant.backends import open_llm
from assistant.case.source import CaseSource
from assistant.memo.config import memo_config
from assistant.memo.files import FORMATS, write_memo_files
from assistant.memo.once import MemoOnce, memo_once
from assistant.memo.record import recorded_for_run
from assistant.settings import Settings
from assistant.workspace import Workspace
from models.errors import UnderwriterError

LEDGER = ".ledger.sqlite"


@dataclass
class BatchSummary:
    run_id: str
    out: Path
    total: int
    done: int = 0
    failed: int = 0
    skipped: int = 0
    recovered: int = 0
    seconds: float = 0.0
    tokens: int = 0
    failures: dict[str, str] = field(default_factory=dict)

    @property
    def memos_per_minute(self) -> float:
        return 60 * self.done / self.seconds if self.seconds else 0.0

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds else 0.0


class Ledger:
    def __init__(self, out: Path):
        out.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(out / LEDGER, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS cases (case_id TEXT PRIMARY KEY, status TEXT NOT NULL, memo_id TEXT, "
            "error TEXT, attempts INTEGER DEFAULT 0, seconds REAL, tokens INTEGER, finished_at TEXT)"
        )

    def run_id(self) -> str:
        got = self.db.execute("SELECT value FROM meta WHERE key = 'run_id'").fetchone()
        if got:
            return str(got[0])
        run_id = f"run-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
        self.db.execute("INSERT INTO meta (key, value) VALUES ('run_id', ?)", (run_id,))
        return run_id

    def add(self, case_ids: list[str]) -> None:
        self.db.execute("BEGIN")
        self.db.executemany(
            "INSERT OR IGNORE INTO cases (case_id, status) VALUES (?, 'pending')", [(c,) for c in case_ids]
        )
        self.db.execute("COMMIT")

    def status(self, case_ids: list[str]) -> dict[str, str]:
        rows = self.db.execute("SELECT case_id, status FROM cases").fetchall()
        wanted = set(case_ids)
        return {c: s for c, s in rows if c in wanted}

    def finish(
        self,
        case_id: str,
        status: str,
        *,
        memo_id: str | None = None,
        error: str | None = None,
        seconds: float | None = None,
        tokens: int | None = None,
    ) -> None:
        self.db.execute(
            "UPDATE cases SET status = ?, memo_id = ?, error = ?, attempts = attempts + 1, seconds = ?, "
            "tokens = ?, finished_at = ? WHERE case_id = ?",
            (status, memo_id, error, seconds, tokens, datetime.now(UTC).isoformat(), case_id),
        )

    def close(self) -> None:
        self.db.close()


# ---- worker side -------------------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _init_worker(settings_json: str, source_args: dict[str, Any], threads: int) -> None:
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    settings = Settings.model_validate(json.loads(settings_json)).model_copy(update={"threads": threads})
    _WORKER["settings"] = settings
    _WORKER["source"] = CaseSource(settings, **source_args)
    _WORKER["llm"] = open_llm(settings, threads)
    _WORKER["audit"] = Workspace(settings).open_audit()


def _memo_task(case_id: str, run_id: str) -> MemoOnce:
    settings: Settings = _WORKER["settings"]
    return memo_once(
        _WORKER["source"], case_id, _WORKER["llm"], _WORKER["audit"], memo_config(settings), run_id=run_id
    )


# ---- parent side -------------------------------------------------------------------------------


def _clean_partials(out: Path) -> None:
    for stale in out.glob(".*.partial"):
        stale.unlink(missing_ok=True)


def select_cases(
    settings: Settings, source_args: dict[str, Any], ids: list[str], *, status: str | None, limit: int | None
) -> list[str]:
    """The cases a batch writes: those named, else every case of the source (with ``status``), the
    first ``limit`` of them when given."""
    chosen = ids or CaseSource(settings, **source_args).ids(status)
    chosen = chosen[:limit] if limit else chosen
    if not chosen:
        raise UnderwriterError("no cases to write memos for (check --status)")
    return chosen


RUN_LOCK = ".run.lock"
"""An OS lock on the run folder: one run writes a ledger at a time."""


@contextmanager
def run_lock(out: Path, *, wait: bool = False) -> Iterator[None]:
    """Hold the run folder's lock; a second run waits (``wait``) or is refused with who holds it."""
    out.mkdir(parents=True, exist_ok=True)
    fd = os.open(out / RUN_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
            raise UnderwriterError(
                f"a batch run is already writing {out} ({holder}); wait for it to finish (or stop it) "
                "and start again: the new run resumes where it ended"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}, started {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock, also when the process is killed


def run_batch(
    settings: Settings,
    case_ids: list[str],
    out: Path,
    *,
    workers: int = 1,
    source_args: dict[str, Any] | None = None,
    progress: bool = True,
    formats: tuple[str, ...] = FORMATS,
    wait_for_lock: bool = False,
) -> BatchSummary:
    """Produce a memo for every case in ``case_ids`` into ``out``; resumes a run killed earlier. One
    run per folder at a time: a second waits (``wait_for_lock``) or is refused."""
    if workers < 1:
        raise UnderwriterError(f"--workers must be at least 1, got {workers}")
    with run_lock(out, wait=wait_for_lock):
        return _run_locked(settings, case_ids, out, workers, source_args or {}, progress, formats)


def _run_locked(
    settings: Settings,
    case_ids: list[str],
    out: Path,
    workers: int,
    source_args: dict[str, Any],
    progress: bool,
    formats: tuple[str, ...],
) -> BatchSummary:
    ledger = Ledger(out)
    _clean_partials(out)
    run_id = ledger.run_id()
    ledger.add(case_ids)
    summary = BatchSummary(run_id, out, len(case_ids))
    started = time.perf_counter()
    try:
        statuses = ledger.status(case_ids)
        summary.skipped = sum(1 for c in case_ids if statuses.get(c) == "done")
        todo = [c for c in case_ids if statuses.get(c) != "done"]
        with Workspace(settings).open_audit() as audit:  # reconcile memos recorded before a kill
            for case_id in list(todo):
                found = recorded_for_run(audit, case_id, run_id)
                if found is not None:
                    memo_id, rendered = found
                    write_memo_files(out, case_id, rendered, formats)
                    ledger.finish(case_id, "done", memo_id=memo_id)
                    summary.recovered += 1
                    todo.remove(case_id)
        _generate(settings, todo, run_id, out, ledger, summary, workers, source_args, progress, formats)
    finally:
        summary.seconds = time.perf_counter() - started
        ledger.close()
    return summary


def _generate(
    settings: Settings,
    todo: list[str],
    run_id: str,
    out: Path,
    ledger: Ledger,
    summary: BatchSummary,
    workers: int,
    source_args: dict[str, Any],
    progress: bool,
    formats: tuple[str, ...],
) -> None:
    from tqdm import tqdm

    if not todo:
        return
    threads = max(1, (settings.threads or 2) // workers)
    bar = tqdm(total=len(todo), unit="memo", disable=not progress, desc="memos", smoothing=0.1)
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),  # no fork of a process holding model threads
        initializer=_init_worker,
        initargs=(settings.model_dump_json(), source_args, threads),
    ) as pool:
        pending: dict[Future[MemoOnce], str] = {}
        queue = list(todo)
        while queue or pending:
            while queue and len(pending) < workers * 2:
                case_id = queue.pop(0)
                pending[pool.submit(_memo_task, case_id, run_id)] = case_id
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                case_id = pending.pop(future)
                try:
                    task = future.result()
                except Exception as exc:  # one failing case is recorded; the rest go on
                    message = f"{type(exc).__name__}: {exc}"
                    ledger.finish(case_id, "failed", error=message)
                    summary.failed += 1
                    summary.failures[case_id] = message
                    if "BrokenProcessPool" in message:
                        raise UnderwriterError(f"a memo worker died: {message}") from None
                else:
                    write_memo_files(out, case_id, task.rendered, formats)
                    ledger.finish(
                        case_id, "done", memo_id=task.memo_id, seconds=task.seconds, tokens=task.tokens
                    )
                    summary.done += 1
                    summary.tokens += task.tokens
                bar.update(1)
                bar.set_postfix(failed=summary.failed)
    bar.close()


def ledger_rows(out: Path) -> pd.DataFrame:
    """The run's ledger, read without disturbing the running batch."""
    path = out / LEDGER
    columns = ["case_id", "status", "memo_id", "seconds", "error"]
    if not path.is_file():
        return pd.DataFrame(columns=columns)
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        rows = db.execute(f"SELECT {', '.join(columns)} FROM cases ORDER BY case_id").fetchall()
    except sqlite3.OperationalError:  # the run is creating its ledger this very moment
        rows = []
    finally:
        db.close()
    frame = pd.DataFrame(rows, columns=columns)
    frame["seconds"] = pd.to_numeric(frame["seconds"]).round(1)
    return frame
