"""An underwriter's decision on a case, recorded in the audit trail: the one service the CLI and the
workbench both call (:func:`decide`, :func:`decide_on_memo`).

The ``decisions`` table keeps the decision and a JSON note holding the conditions, the free
note, the model's band and PD at the time and, when the underwriter departs from the
model's band, the reason for the override (required). Older rows whose note is plain text
read back as a note without conditions.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from assistant.audit import AuditStore
from assistant.memo.record import stored_memo
from models.data.policy import BANDS
from models.errors import UnderwriterError

MAX_TEXT = 4000


@dataclass
class Decision:
    merchant_id: str
    decision: str
    underwriter: str
    memo_id: str = ""
    model_band: str | None = None
    model_pd: float | None = None
    conditions: list[str] = field(default_factory=list)
    note: str = ""
    override_reason: str = ""
    authenticated: bool = False
    """True when the name is the workbench's signed-in user; False when it was typed (sign-in off, CLI)."""

    @property
    def is_override(self) -> bool:
        return self.model_band is not None and self.decision != self.model_band

    def check(self) -> None:
        """Raise a clear error naming the field that is wrong; nothing is recorded then."""
        if self.decision not in BANDS:
            raise UnderwriterError(f"decision must be one of {', '.join(BANDS)}, got {self.decision!r}")
        if not self.underwriter.strip():
            raise UnderwriterError("underwriter: a name is required to record a decision")
        if not self.merchant_id.strip():
            raise UnderwriterError("merchant: no case is open")
        if self.is_override and not self.override_reason.strip():
            raise UnderwriterError(
                f"override reason: the model's band is {self.model_band!r} and the decision is "
                f"{self.decision!r}; say why the model is overridden"
            )
        for name, text in (("note", self.note), ("override reason", self.override_reason)):
            if len(text) > MAX_TEXT:
                raise UnderwriterError(f"{name}: {len(text):,} characters, at most {MAX_TEXT:,}")

    def note_json(self) -> str:
        body = {k: v for k, v in asdict(self).items() if k not in {"merchant_id", "decision", "underwriter"}}
        body.pop("memo_id")
        return json.dumps(body, sort_keys=True)


def parse_conditions(text: str) -> list[str]:
    """One condition per line (or separated by semicolons), blanks dropped."""
    return [c.strip() for part in text.splitlines() for c in part.split(";") if c.strip()]


def append_decision(audit: AuditStore, decision: Decision) -> int:
    """Check a decision and append it to the audit trail (nothing is written when a field is wrong)."""
    decision.check()
    return audit.append(
        "decisions",
        memo_id=decision.memo_id,
        merchant_id=decision.merchant_id,
        underwriter=decision.underwriter.strip(),
        decision=decision.decision,
        note=decision.note_json(),
    )


def record_decision(
    audit: AuditStore,
    *,
    case_id: str,
    model_band: str,
    model_pd: float,
    decision: str,
    underwriter: str,
    memo_id: str = "",
    conditions: str = "",
    note: str = "",
    override_reason: str = "",
    authenticated: bool = False,
) -> Decision:
    """Check and record a decision on a case whose model band and PD are known; ``conditions`` as
    typed (one per line or separated by semicolons). Nothing is recorded when a field is wrong."""
    made = Decision(
        merchant_id=case_id,
        decision=decision,
        underwriter=underwriter,
        memo_id=memo_id,
        model_band=model_band,
        model_pd=model_pd,
        conditions=parse_conditions(conditions),
        note=note,
        override_reason=override_reason,
        authenticated=authenticated,
    )
    append_decision(audit, made)
    return made


def decide_on_memo(audit: AuditStore, memo_id: str, **form: Any) -> Decision:
    """A decision on the case of a recorded memo, against the band and PD that memo was written with."""
    memo = stored_memo(audit, memo_id)
    score = json.loads(memo["inputs"])["case"]["score"]
    return record_decision(
        audit,
        case_id=memo["merchant_id"],
        model_band=score["band"],
        model_pd=score["pd"],
        memo_id=memo_id,
        **form,
    )


def _from_row(row: dict[str, Any]) -> Decision:
    try:
        body = json.loads(row["note"] or "{}")
        if not isinstance(body, dict):
            raise ValueError
    except ValueError:
        body = {"note": row["note"] or ""}
    known = {
        k: body[k]
        for k in ("model_band", "model_pd", "conditions", "note", "override_reason", "authenticated")
        if k in body
    }
    return Decision(
        merchant_id=row["merchant_id"],
        decision=row["decision"],
        underwriter=row["underwriter"],
        memo_id=row["memo_id"] or "",
        **known,
    )


def decisions_for(audit: AuditStore, merchant_id: str) -> list[tuple[str, Decision]]:
    """(recorded at, decision) for one merchant, oldest first."""
    rows = audit.rows("decisions", {"merchant_id": merchant_id})
    return [(str(r["created_at"]), _from_row(r)) for r in rows]
