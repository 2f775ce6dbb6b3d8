"""Adverse-action notices issued and recorded: the one service the CLI and the workbench both call.

A notice rests on a recorded memo (the case's latest, or one named by id; written now when the case
has none) and on the decision: the model's band is decline, or an underwriter recorded a decline,
or the lender makes a counter-offer. It is recorded in the audit trail's ``notices`` table with the
memo it rests on and its principal reasons.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from assistant.audit import AuditStore
from assistant.backends import open_llm
from assistant.case.source import CaseSource
from assistant.decisions import decisions_for
from assistant.memo.config import memo_config
from assistant.memo.record import generate_memo, stored_memo
from assistant.memo.schema import Memo
from assistant.notice.letter import Lender, Notice, NoticeRefusedError, build_notice
from assistant.settings import Settings
from models.store.artifacts import RiskModel


@dataclass
class IssuedNotice:
    notice: Notice
    seq: int
    memo_written: bool
    """True when no memo was on record and one was written for the notice."""


def lender_of(settings: Settings) -> Lender:
    lender = settings.lender
    return Lender(lender.name, lender.address, lender.contact, lender.rights_statement, lender.regulator)


def memo_row(
    audit: AuditStore, source: CaseSource, settings: Settings, ref: str
) -> tuple[dict[str, Any], bool]:
    """The memo a notice rests on: by id (``memo-...``), else the case's latest, else one written now."""
    if ref.startswith("memo-"):
        return stored_memo(audit, ref), False
    rows = audit.rows("memos", {"merchant_id": ref})
    if rows:
        return rows[-1], False
    written = generate_memo(source, ref, open_llm(settings), audit, memo_config(settings))
    return stored_memo(audit, written.memo_id), True


def adverse_kind(audit: AuditStore, memo: Memo, memo_id: str, kind: str) -> str:
    """Refuse a decline notice for a case neither the model nor an underwriter declined."""
    if kind == "counter-offer":
        return kind
    decided = [d for _, d in decisions_for(audit, memo.case_id) if d.memo_id in ("", memo_id)]
    final = decided[-1].decision if decided else memo.decision["band"]
    if final != "decline":
        raise NoticeRefusedError(
            f"case {memo.case_id} is not declined (model band {memo.decision['band']}"
            + (f", underwriter's decision {final}" if decided else "")
            + "): a notice is for a decline (record one with `underwrite audit decide`) or a counter-offer"
        )
    return kind


def issue_notice(
    settings: Settings,
    audit: AuditStore,
    source: CaseSource,
    ref: str,
    *,
    kind: str = "decline",
    offer: str = "",
    issued_on: str | None = None,
) -> IssuedNotice:
    """Build the notice for a case (or memo id) and record it; :class:`NoticeRefusedError` when it must not go."""
    model: RiskModel = source.risk_model()
    row, written = memo_row(audit, source, settings, ref)
    memo = Memo.model_validate_json(row["json_text"])
    kind = adverse_kind(audit, memo, str(row["memo_id"]), kind)
    notice = build_notice(
        memo,
        str(row["memo_id"]),
        lender_of(settings),
        forbidden=model.policy.explanations.notice_forbidden,
        hard_stop_columns={s.id: s.column for s in model.policy.hard_stops},
        issued_on=issued_on or datetime.now(UTC).date().isoformat(),
        kind=kind,
        offer=offer,
    )
    seq = audit.append(
        "notices",
        notice_id=notice.notice_id,
        memo_id=notice.memo_id,
        merchant_id=notice.case_id,
        decision=notice.kind,
        reasons=[{"code": r.code, "text": r.text, "feature": r.feature} for r in notice.reasons],
        markdown=notice.markdown,
        html=notice.html,
        output_sha256=notice.sha256(),
    )
    return IssuedNotice(notice, seq, written)
