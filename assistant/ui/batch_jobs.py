"""The batch screen's jobs: which cases a portfolio file names, a resumable run, its downloads.

A portfolio file is a CSV that either lists merchant ids of the demo portfolio (a
``merchant_id`` column) or holds whole records in the model's dataset spec (its feature
columns; documents then come from the spec's text columns). The output folder is named by
a hash of what is asked (cases, source, memo settings), so the same file run again
resumes the same run: what is done is skipped, and the screen says so.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import sqlite3
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from assistant.jobs.memo_batch import LEDGER, BatchSummary, run_batch
from assistant.settings import Settings
from assistant.workspace import PORTFOLIO_LIBRARY, Workspace
from models.data.spec import SHIPPED_SPECS
from models.errors import UnderwriterError
from models.store.artifacts import load_model

SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass
class BatchPlan:
    label: str
    case_ids: list[str]
    source_args: dict[str, Any]
    out: Path


def _check_ids(ids: list[str], where: str) -> list[str]:
    bad = [(i + 2, c) for i, c in enumerate(ids) if not SAFE_ID.match(c)]
    if bad:
        line, value = bad[0]
        raise UnderwriterError(
            f"{where}, line {line}: merchant id {value!r} is not a plain id (letters, digits, . _ -, up to 64)"
        )
    if len(set(ids)) != len(ids):
        dupes = sorted({c for c in ids if ids.count(c) > 1})[:5]
        raise UnderwriterError(f"{where}: merchant id(s) listed twice: {', '.join(dupes)}")
    return ids


def plan_batch(
    settings: Settings, *, upload: Path | None, status: str = "applicant", limit: int = 10
) -> BatchPlan:
    """What a run will do, checked before anything starts: a clear error names a bad file or row."""
    workspace = Workspace(settings)
    if limit < 1 or limit > settings.ui.batch_max_cases:
        raise UnderwriterError(f"cases per run: between 1 and {settings.ui.batch_max_cases}, got {limit}")
    if upload is None:
        files = workspace.portfolio
        if not files.exists():
            raise UnderwriterError("no demo portfolio; run `underwrite demo` first")
        frame = pd.read_csv(files.merchants, dtype={"merchant_id": str}, usecols=["merchant_id", "status"])
        if status and status != "all":
            frame = frame[frame["status"] == status]
        ids = frame["merchant_id"].head(limit).tolist()
        return _plan(settings, f"demo-{status or 'all'}", ids, {})
    name = Path(upload).name
    if Path(upload).suffix.lower() != ".csv":
        raise UnderwriterError(f"{name}: a portfolio file must be a .csv")
    try:
        frame = pd.read_csv(upload, dtype=str, keep_default_na=False, nrows=settings.ui.batch_max_cases + 1)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise UnderwriterError(f"{name}: not a readable CSV ({str(exc).splitlines()[0]})") from None
    if len(frame) > settings.ui.batch_max_cases:
        raise UnderwriterError(f"{name}: more than {settings.ui.batch_max_cases} rows; split the file")
    if frame.empty:
        raise UnderwriterError(f"{name}: no rows")
    model = load_model(workspace.model_dir, nthread=settings.threads)
    spec = model.spec
    missing = [f for f in spec.features if f not in frame.columns]
    if not missing:  # whole records: a dataset case source over a stored copy of the file
        if spec.id is None or spec.id not in frame:
            raise UnderwriterError(f"{name}: no id column {spec.id!r}")
        ids = _check_ids(frame[spec.id].astype(str).str.strip().tolist(), name)
        data = _stored_copy(settings, Path(upload))
        spec_file = SHIPPED_SPECS / f"{spec.name}.yaml"
        args = {
            "spec": str(spec_file),
            "data": str(data),
            "model": str(workspace.model_dir),
            "library": PORTFOLIO_LIBRARY,
        }
        return _plan(settings, f"file-{Path(upload).stem}", ids[:limit], args)
    if "merchant_id" in frame.columns:
        ids = _check_ids(frame["merchant_id"].str.strip().tolist(), name)
        known = set(
            pd.read_csv(workspace.portfolio.merchants, usecols=["merchant_id"], dtype=str)["merchant_id"]
        )
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise UnderwriterError(
                f"{name}: {len(unknown)} merchant id(s) not in the portfolio, e.g. {', '.join(unknown[:5])}"
            )
        return _plan(settings, f"file-{Path(upload).stem}", ids[:limit], {})
    raise UnderwriterError(
        f"{name}: needs a merchant_id column (ids of the portfolio) or the model's inputs; missing {', '.join(missing[:6])}"
    )


def _stored_copy(settings: Settings, upload: Path) -> Path:
    data = upload.read_bytes()
    target = Workspace(settings).ui_dir / "uploads" / f"{hashlib.sha256(data).hexdigest()[:16]}.csv"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.with_suffix(f".tmp-{os.getpid()}")
        staging.write_bytes(data)
        os.replace(staging, target)
    return target


def _plan(settings: Settings, label: str, ids: list[str], source_args: dict[str, Any]) -> BatchPlan:
    if not ids:
        raise UnderwriterError("no cases to run")
    safe_label = re.sub(r"[^A-Za-z0-9._-]+", "-", label)[:40]
    key = json.dumps(
        [ids, source_args, settings.memo.model_dump(), settings.llm.model_dump()], sort_keys=True, default=str
    )
    digest = hashlib.sha256(key.encode()).hexdigest()[:10]
    return BatchPlan(
        label, ids, source_args, Workspace(settings).ui_dir / "batches" / f"{safe_label}-{digest}"
    )


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


def summary_csv(out: Path) -> str:
    """One line per case: status, memo id, and the decision the memo records."""
    rows = ledger_rows(out)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        ["case_id", "status", "memo_id", "pd", "grade", "band", "policy_flags", "seconds", "error"]
    )
    for r in rows.to_dict("records"):
        decision: dict[str, Any] = {}
        memo_json = out / f"{r['case_id']}.json"
        if memo_json.is_file():
            decision = json.loads(memo_json.read_text(encoding="utf-8")).get("decision", {})
        writer.writerow(
            [
                r["case_id"],
                r["status"],
                r["memo_id"] or "",
                decision.get("pd", ""),
                decision.get("grade", ""),
                decision.get("band", ""),
                ";".join(decision.get("policy_flags", [])),
                "" if r["seconds"] is None or pd.isna(r["seconds"]) else round(float(r["seconds"]), 2),
                r["error"] or "",
            ]
        )
    return buffer.getvalue()


def write_downloads(out: Path) -> tuple[Path, Path]:
    """``memos.zip`` (every finished memo, all formats, plus the summary) and ``summary.csv``."""
    summary = summary_csv(out)
    csv_path = out / "downloads" / "summary.csv"
    zip_path = out / "downloads" / "memos.zip"
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    staging = zip_path.with_suffix(".zip.partial")
    with zipfile.ZipFile(staging, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(out.glob("*")):
            if path.is_file() and path.suffix in {".md", ".json", ".html"} and not path.name.startswith("."):
                archive.write(path, f"memos/{path.name}")
        archive.writestr("summary.csv", summary)
    os.replace(staging, zip_path)
    csv_path.write_text(summary, encoding="utf-8")
    return zip_path, csv_path
