"""The alert queue's data (no Gradio here): the book monitor's alerts, a merchant's trend across the monitored
months, and a memo refreshed from the merchant's latest month."""

from __future__ import annotations

import json
import uuid

import pandas as pd

from assistant.case.schema import CaseFile
from assistant.memo.calls import CallBook
from assistant.memo.compose import compose_memo
from assistant.memo.config import memo_config
from assistant.memo.record import record_memo
from assistant.monitor.history import BookHistory
from assistant.ui.workbench import Workbench
from models.errors import UnderwriterError

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
    return pd.DataFrame(
        [
            {
                "rank": i, "merchant": r["merchant_id"], "month": r["month"], "PD": round(r["pd"], 4),
                "usual PD": _usual(r), "band": r["band"], "checks": ", ".join(json.loads(r["kinds"])),
                "detail": json.loads(r["detail"]).get("text", ""),
            }
            for i, r in enumerate(chosen, start=1)
        ],
        columns=QUEUE_COLUMNS,
    )  # fmt: skip


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


def latest_case(bench: Workbench, merchant_id: str) -> CaseFile:
    """The merchant's case file as of its latest monitored month: that month's record, its documents."""
    book = history(bench)
    months = [m for m in book.months() if merchant_id in book.read(m).index]
    if not months:
        raise UnderwriterError(f"{merchant_id} is in no monitored month; run `underwrite monitor` first")
    month = book.read(months[-1]).loc[merchant_id]
    source = bench.source
    row = source.row(merchant_id)
    spec = source.risk_model().spec
    for feature in spec.features:
        if feature in month.index:
            row[feature] = month[feature]
    if spec.date is not None:
        row[spec.date.column] = pd.Period(months[-1], freq="M").to_timestamp(how="end").strftime("%Y-%m-%d")
    documents = source.documents(merchant_id, source.row(merchant_id).iloc[0])
    return source.new_case_file(merchant_id, row, documents)


def refresh_memo(bench: Workbench, merchant_id: str) -> tuple[str, str]:
    """A new memo from the merchant's latest month, recorded in the audit trail: (memo id, Markdown)."""
    case = latest_case(bench, merchant_id)
    llm = bench.llm()
    config = memo_config(bench.settings)
    with bench.llm_lock, bench.audit() as audit:
        book = CallBook.live(llm, audit)
        memo = compose_memo(case, book, config)
        result = record_memo(audit, case, book, memo, config, run_id=f"alert-refresh-{uuid.uuid4().hex[:8]}")
    return result.memo_id, result.rendered.markdown
