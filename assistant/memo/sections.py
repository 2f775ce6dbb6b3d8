"""The memo's sections that no document text can change: comparison with similar cases, integrity
warnings and the recommendation (from the band, the policy flags and the data alone)."""

from __future__ import annotations

from typing import Any

from assistant.case.facts import pd_text
from assistant.case.schema import CaseFile, similar_line
from assistant.memo.calls import CallBook
from assistant.memo.config import MemoConfig
from assistant.memo.schema import SectionText
from assistant.memo.summaries import dropped_of
from assistant.memo.validation import check_text, truth_of


def comparison_paragraph(case: CaseFile, book: CallBook, config: MemoConfig) -> SectionText:
    if not case.similar:
        return SectionText(sentences=[], source="none", dropped=[])
    truth = truth_of(case)
    sources = case.similar_sources()
    rendered = config.prompt("memo_comparison").render(
        pd=pd_text(case.score.pd, 1),
        reasons="; ".join(r.text for r in case.score.reasons) or "none stated",
        rows=[{"tag": s.tag, "line": similar_line(s)} for s in case.similar],
    )
    output = book.ask("comparison", rendered)
    checked = check_text(output, truth, sources, require_citation=True, max_sentences=3, allow_verdicts=False)
    if checked.kept:
        return SectionText(sentences=checked.kept, source="llm", dropped=dropped_of(checked.dropped))
    return SectionText(
        sentences=comparison_facts(case), source="extractive", dropped=dropped_of(checked.dropped)
    )


def comparison_facts(case: CaseFile) -> list[str]:
    """The comparison stated from the table alone (the fallback)."""
    known = [s for s in case.similar if s.outcome is not None]
    defaulted = [s for s in known if s.outcome == 1]
    tags = "".join(f"[{s.tag}]" for s in case.similar)
    when = f" decided before {case.as_of}" if case.as_of else ""
    out = [
        f"Of the {len(case.similar)} most similar past cases{when}, {len(known)} have a known outcome "
        f"and {len(defaulted)} of those defaulted {tags}."
    ]
    first = case.similar[0]
    outcome = {None: "has no known outcome yet", 1: "defaulted", 0: "performed"}[first.outcome]
    out.append(f"The closest case, {first.case_id}, {outcome} [{first.tag}].")
    return out


def integrity_warnings(case: CaseFile, dropped: int) -> list[str]:
    out = []
    for doc in case.documents:
        if doc.flagged:
            rules = sorted({str(f.get("rule")) for f in doc.injection_flags})
            where = sorted({str(f.get("kind")) for f in doc.injection_flags})
            tags = ", ".join(c.tag for c in doc.chunks)
            out.append(
                f"Injection attempt: {doc.title} ({doc.doc_id}; {tags}) contains text addressed to an AI "
                f"reviewer ({', '.join(rules)}; found in {', '.join(where)} text), score "
                f"{doc.injection_score:.2f}. It was treated as data; nothing in it changed the score or "
                "the recommendation. Treat the attempt itself as a risk signal."
            )
    for c in case.contradictions:
        out.append(
            f"Contradiction: {c.doc_id} [{c.tag}] states {c.name.lower()} of {c.stated:,.0f}, "
            f"but the data records {c.recorded:,.2f}."
        )
    if dropped:
        out.append(f"{dropped} LLM-written sentence(s) failed validation and were left out of this memo.")
    return out


def recommendation(case: CaseFile) -> dict[str, Any]:
    """From the band, the policy flags and the data alone: no document text, no LLM text, can change it."""
    band = case.score.band
    if case.score.pd is None:
        return {
            "band": band,
            "grade": case.score.grade,
            "pd": None,
            "text": "Refer: no risk model scores this dataset; decide on the documents and the evidence below.",
            "conditions": [
                f"Review the document signal: {r}" for r in sorted({s["name"] for s in case.evidence.signals})
            ],
        }
    headline = {
        "approve": "Approve, subject to standard monitoring.",
        "refer": "Refer to a senior underwriter; do not approve before the conditions below are met.",
        "decline": "Decline.",
    }[band]
    conditions = [f"Policy {f['id']}: {f['text']}." for f in case.score.policy_flags]
    if case.contradictions:
        conditions.append("Obtain evidence that resolves the contradictions between documents and data.")
    options = case.score.recourse.get("options") or []
    if options:
        conditions.append(f"Discuss with the applicant: {options[0]['text']}.")
    if band == "decline":
        conditions.append(
            f"Send the adverse-action notice with the principal reasons (`underwrite notice {case.case_id}`)."
        )
    if band == "approve" and not conditions:
        conditions.append("Monitor refund and dispute rates monthly.")
    return {
        "band": band,
        "grade": case.score.grade,
        "pd": case.score.pd,
        "text": headline,
        "conditions": conditions,
    }
