"""The adverse-action notice: what a declined (or counter-offered) applicant is sent, built from the memo.

The principal reasons are at most four, in order: the policy's hard stops that the case triggered,
then the model's own reason codes (fixed texts with the value and its standing, never LLM text). The
policy names features that may never be stated as a reason (a protected characteristic); a notice
whose principal reasons include one is refused, so the decision goes back for review instead of
going out with the reason hidden or stated. The lender's details and the statement of the
applicant's rights come from settings. Pure: the same memo, lender and date give the same bytes.
"""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass

from assistant.memo.explain_text import reason_text
from assistant.memo.schema import Memo
from models.errors import UnderwriterError

MAX_NOTICE_REASONS = 4
KINDS = ("decline", "counter-offer")


class NoticeRefusedError(UnderwriterError):
    """A notice that must not be sent as built (a forbidden reason, no adverse action)."""


@dataclass(frozen=True)
class Lender:
    name: str
    address: str
    contact: str
    rights_statement: str
    regulator: str = ""


@dataclass(frozen=True)
class NoticeReason:
    code: str
    text: str
    feature: str


@dataclass(frozen=True)
class Notice:
    notice_id: str
    memo_id: str
    case_id: str
    kind: str
    reasons: list[NoticeReason]
    markdown: str
    html: str

    def sha256(self) -> str:
        return hashlib.sha256((self.markdown + self.html).encode()).hexdigest()


def principal_reasons(memo: Memo, hard_stop_columns: dict[str, str]) -> list[NoticeReason]:
    """Hard stops first (each names its column), then the model's reasons; at most four, no repeats."""
    texts = {
        t.split(":", 1)[0]: t.split(":", 1)[1].strip() for t in memo.decision.get("policy_flag_texts", [])
    }
    out = [
        NoticeReason(f, texts.get(f, f), hard_stop_columns.get(f, "")) for f in memo.decision["policy_flags"]
    ]
    out += [NoticeReason(r["code"], reason_text(r), r.get("feature", "")) for r in memo.reasons]
    return out[:MAX_NOTICE_REASONS]


def build_notice(
    memo: Memo,
    memo_id: str,
    lender: Lender,
    *,
    forbidden: list[str],
    hard_stop_columns: dict[str, str],
    issued_on: str,
    kind: str = "decline",
    offer: str = "",
) -> Notice:
    """The notice for ``memo``; :class:`NoticeRefusedError` names a forbidden reason or a missing offer."""
    if kind not in KINDS:
        raise NoticeRefusedError(f"notice kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if kind == "counter-offer" and not offer.strip():
        raise NoticeRefusedError("a counter-offer notice needs the offer's terms (--counter-offer TEXT)")
    reasons = principal_reasons(memo, hard_stop_columns)
    banned = [r for r in reasons if r.feature and r.feature in forbidden]
    if banned:
        named = ", ".join(f"{r.code} ({r.feature})" for r in banned)
        raise NoticeRefusedError(
            f"refused: principal reason(s) {named} are characteristics the policy forbids on a notice; "
            "the decision rests on them and must be reviewed before any notice is sent"
        )
    if not reasons:
        raise NoticeRefusedError(
            f"case {memo.case_id} has no principal reason to state; a notice needs at least one"
        )
    markdown = _markdown(memo, memo_id, lender, reasons, issued_on, kind, offer)
    digest = hashlib.sha256(markdown.encode()).hexdigest()[:12]
    return Notice(
        f"notice-{memo.case_id}-{digest}", memo_id, memo.case_id, kind, reasons, markdown, _html(markdown)
    )


def _markdown(
    memo: Memo,
    memo_id: str,
    lender: Lender,
    reasons: list[NoticeReason],
    issued_on: str,
    kind: str,
    offer: str,
) -> str:
    shown = {f.key: f.text() for f in memo.metrics}
    asked = (
        ", ".join(f"{k.replace('_', ' ')} {shown.get(k) or v}" for k, v in memo.request.items()) or "credit"
    )
    action = (
        f"We have declined your application ({asked})."
        if kind == "decline"
        else f"We cannot approve your application as submitted ({asked}). We can offer instead: {offer.strip()}"
    )
    lines = [
        "# Notice of action taken on your credit application",
        "",
        f"**{lender.name}**  ",
        f"{lender.address}  ",
        f"Date: {issued_on}",
        "",
        f"To: {memo.name or memo.case_id} (application {memo.case_id}, decided {memo.as_of or issued_on})",
        "",
        action,
        "",
        "## Principal reasons for our decision",
        "",
        *[f"{i}. {r.text}." for i, r in enumerate(reasons, start=1)],
        "",
        "## Your right to the reasons",
        "",
        lender.rights_statement.strip(),
        "",
        f"To ask about this decision, contact {lender.contact}.",
    ]
    if lender.regulator:
        lines += ["", f"The agency that oversees our compliance with this law: {lender.regulator}."]
    lines += [
        "",
        f"Issued on memo {memo_id}; model {memo.model['label']} (id {memo.model['model_id'][:16]}), "
        f"policy {memo.model['policy']}.",
        "",
    ]
    return "\n".join(lines)


def _html(markdown: str) -> str:
    from assistant.memo.render import html_body

    style = "body{font-family:system-ui,sans-serif;max-width:44rem;margin:2rem auto;line-height:1.5}"
    return (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape("Notice")}</title>'
        f"<style>{style}</style></head><body>\n{html_body(markdown)}\n</body></html>\n"
    )
