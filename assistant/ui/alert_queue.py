"""The alert queue's data (no Gradio here): the book monitor's alerts, a merchant's trend across the monitored
months, and a memo refreshed from the merchant's latest month."""

from __future__ import annotations

import json
import uuid

import pandas as pd

from assistant.memo.record import written
from assistant.monitor.history import BookHistory
from assistant.ui.workbench import Workbench

QUEUE_COLUMNS = ["rank", "merchant", "month", "PD", "usual PD", "band", "checks", "detail"]


def history(bench: Workbench) -> BookHistory:
    spec = bench.source.risk_model().spec
    return BookHistory(bench.workspace.root / "monitor" / spec.name)


def alert_queue(bench: Workbench, month: str | None = None) -> pd.DataFrame:
    """The alerts of ``month`` (default: the latest monitored), ranked as the monitor ranked them."""
    with bench.audit() as audit:
        rows = audit.rows("alerts")
    if not rows:
        return pd.DataFrame(columns=QUEUE_COLUMNS)
    month = month or max(r["month"] for r in rows)
    chosen = sorted((r for r in rows if r["month"] == month), key=lambda r: (-r["score"], r["merchant_id"]))
    return pd.DataFrame([_queue_row(i, r) for i, r in enumerate(chosen, start=1)], columns=QUEUE_COLUMNS)


def _queue_row(rank: int, alert: dict) -> dict:
    return {
        "rank": rank,
        "merchant": alert["merchant_id"],
        "month": alert["month"],
        "PD": round(alert["pd"], 4),
        "usual PD": _usual(alert),
        "band": alert["band"],
        "checks": ", ".join(json.loads(alert["kinds"])),
        "detail": json.loads(alert["detail"]).get("text", ""),
    }


def _usual(row: dict) -> float | None:
    previous = json.loads(row["detail"]).get("previous_pd")
    return None if previous is None else round(previous, 4)


def alert_months(bench: Workbench) -> list[str]:
    with bench.audit() as audit:
        return sorted({r["month"] for r in audit.rows("alerts")}, reverse=True)


def trend(bench: Workbench, merchant_id: str) -> pd.DataFrame:
    """PD and every watched feature of one merchant, month by month."""
    from assistant.monitor.run import watched_features

    model = bench.source.risk_model()
    columns = ["pd", *watched_features(bench.settings, model)]
    return history(bench).trend(merchant_id, columns)


def refresh_memo(bench: Workbench, merchant_id: str) -> tuple[str, str]:
    """A new memo from the merchant's latest monitored month, recorded in the audit trail: (memo id, Markdown)."""
    month, record = history(bench).latest_record(merchant_id)
    case = bench.source.case_as_of(merchant_id, month, record)
    result = written(bench.write_memo(case, run_id=f"alert-refresh-{uuid.uuid4().hex[:8]}"))
    return result.memo_id, result.rendered.markdown
