"""What a batch of memos will cover, checked before anything starts: the demo portfolio's cases by
status, or an uploaded CSV of merchant ids or of whole records (stored as a copy the run reads).
A clear error names a bad file or row; the plan's folder is a function of the selection and the
memo and LLM settings, so the same selection resumes the same run."""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

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
