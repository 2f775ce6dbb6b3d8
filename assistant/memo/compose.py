"""Compose a credit memo from a case file: deterministic sections plus validated LLM narrative.

The decision summary, key metrics, reason codes, similar-case table, risks and mitigants,
integrity warnings and the recommendation come from the model, the policy and the data.
The LLM writes only three kinds of text: a summary of each document (map over its chunks,
then a per-document reduce that keeps validated, cited sentences), the business summary
(the business document's summary), and a paragraph comparing the case with similar cases.
Every LLM sentence passes :mod:`assistant.memo.validation`; when too little survives, the
section falls back to an extractive summary of the cited text. Whatever the LLM writes,
no score, band, reason or recommendation can change.
"""

from __future__ import annotations

from collections.abc import Iterator

from assistant.case.schema import CaseFile, similar_line
from assistant.memo.calls import CallBook
from assistant.memo.config import MemoConfig
from assistant.memo.schema import DocumentFinding, Memo, SectionText
from assistant.memo.sections import comparison_paragraph, integrity_warnings, recommendation
from assistant.memo.summaries import summarise_document
from assistant.memo.validation import truth_of

BUSINESS_DOC_TYPES = ("business_description", "desc_clean", "description")


def compose_memo(case: CaseFile, book: CallBook, config: MemoConfig | None = None) -> Memo:
    *_, memo = memo_steps(case, book, config)
    assert isinstance(memo, Memo)
    return memo


def memo_steps(
    case: CaseFile, book: CallBook, config: MemoConfig | None = None
) -> Iterator[DocumentFinding | SectionText | Memo]:
    """The memo as it is written: each document's finding, then the comparison, then the memo.

    A screen shows each part the moment its LLM calls are done; the last item is the memo,
    identical to :func:`compose_memo`'s.
    """
    config = config or MemoConfig()
    findings = []
    truth = truth_of(case)
    for doc in case.documents:
        finding = DocumentFinding(
            doc_id=doc.doc_id,
            title=doc.title,
            doc_type=doc.doc_type,
            tags=[c.tag for c in doc.chunks],
            flagged=doc.flagged,
            summary=summarise_document(doc, truth, book, config),
        )
        findings.append(finding)
        yield finding
    comparison = comparison_paragraph(case, book, config)
    yield comparison
    yield _memo(case, book, findings, comparison)


def _memo(case: CaseFile, book: CallBook, findings: list[DocumentFinding], comparison: SectionText) -> Memo:
    """The memo around the LLM-written sections: everything else is the case file's and the policy's."""
    business = next((f.summary for f in findings if f.doc_type in BUSINESS_DOC_TYPES), None)
    stats = validation_stats(
        {f"finding {f.doc_id}": f.summary for f in findings} | {"comparison": comparison}
    )
    risks = [r.stated() for r in case.score.reasons] + [f["text"] for f in case.score.policy_flags]
    risks += [f"Contradiction in {c.doc_id}: {c.name.lower()}" for c in case.contradictions]
    risks += signal_risks(case)
    prompts = {b.prompt.name: b.prompt for b in book.calls}
    return Memo(
        case_id=case.case_id,
        name=case.name,
        dataset=case.dataset,
        as_of=case.as_of,
        generated_at=case.generated_at,
        model=case.model,
        llm={"model_id": book.model_id, "params": book.params.to_dict()},
        prompts=[
            {"name": p.name, "version": p.version, "template_sha256": p.template_sha256}
            for p in sorted(prompts.values(), key=lambda p: p.name)
        ],
        request=case.request,
        decision={
            "pd": case.score.pd,
            "grade": case.score.grade,
            "band": case.score.band,
            "policy_flags": [f["id"] for f in case.score.policy_flags],
            "policy_flag_texts": [f"{f['id']}: {f['text']}" for f in case.score.policy_flags],
        },
        metrics=case.facts,
        reasons=case.score.reason_dicts(),
        business_summary=business or SectionText(sentences=[], source="none", dropped=[]),
        findings=findings,
        similar=case.similar,
        comparison=comparison,
        risks=risks,
        mitigants=[m.get("detail") or f"{m['name']}: {m['value']}" for m in case.score.mitigants],
        integrity=integrity_warnings(case, sum(s["dropped"] for s in stats.values())),
        recommendation=recommendation(case),
        sources=memo_sources(case),
        validation=stats,
        signals=case.evidence.signals,
        spread=case.evidence.spread,
        recourse=case.score.recourse,
    )


def signal_risks(case: CaseFile) -> list[str]:
    """One risk line per signal type found in the documents, with every passage that states it."""
    tags: dict[str, list[str]] = {}
    for s in case.evidence.signals:
        tags.setdefault(f"{s['name']} ({s['severity']})", []).append(s["tag"])
    return [f"Document signal: {name} [{', '.join(dict.fromkeys(t))}]" for name, t in tags.items()]


def validation_stats(sections: dict[str, SectionText]) -> dict[str, dict[str, int]]:
    """Per LLM-written section: sentences kept, sentences dropped, and whether it fell back."""
    return {
        name: {"kept": len(s.sentences), "dropped": len(s.dropped), "fallback": int(s.source == "extractive")}
        for name, s in sections.items()
    }


def memo_sources(case: CaseFile) -> list[dict[str, str]]:
    """What each citation tag points at: a document chunk (``C``) or a similar case (``S``)."""
    chunks = [
        {"tag": c.tag, "doc_id": d.doc_id, "chunk_id": c.chunk_id, "citation": c.citation}
        for d in case.documents
        for c in d.chunks
    ]
    cases = [
        {"tag": s.tag, "doc_id": "", "chunk_id": s.case_id, "citation": similar_line(s)} for s in case.similar
    ]
    return chunks + cases
