"""Compose a credit memo from a case file: deterministic sections plus validated LLM narrative.

The decision summary, key metrics, reason codes, similar-case table, risks and mitigants,
integrity warnings and the recommendation come from the model, the policy and the data.
The LLM writes only three kinds of text: a summary of each document (map over its chunks,
then a per-document reduce that keeps validated, cited sentences), the business summary
(the business document's summary), and a paragraph comparing the case with similar cases.
Every LLM sentence passes :mod:`assistant.validation`; when too little survives, the
section falls back to an extractive summary of the cited text. Whatever the LLM writes,
no score, band, reason or recommendation can change.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from assistant.calls import CallBook
from assistant.casefile import CaseChunk, CaseDocument, CaseFile, Fact, SimilarRow, similar_line
from assistant.validation import CITATION_RE, CaseTruth, check_sentence, check_text, split_sentences
from prompts.loader import Prompt, load_prompt
from retrieval.documents.screening import FLAG_AT, instruction_score

MEMO_FORMAT = 1
BUSINESS_DOC_TYPES = ("business_description", "desc_clean", "description")
SALIENT_WORDS = re.compile(
    r"\b(?:refund\w*|chargeback\w*|dispute\w*|loss\w*|debt\w*|loan\w*|lawsuit\w*|litigation|claim\w*|"
    r"delay\w*|deliver\w*|supplier\w*|revenue|income|cash|going concern|default\w*|late|overdue|"
    r"negative|decline\w*|fell|growth|grew|margin|settle\w*|fraud\w*|complain\w*|pay\w*)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class MemoConfig:
    max_chunks_per_document: int = 2
    max_sentences_per_document: int = 3
    min_sentences: int = 1
    """Fewer surviving LLM sentences than this and the section falls back to extractive text."""
    extractive_sentences: int = 2
    min_support: float = 0.75
    min_prose_share: float = 0.4
    """Chunks with less running text than this (tables, headings) are quoted, not summarised."""
    prompt_versions: tuple[tuple[str, int], ...] = ()
    """Pinned template versions, e.g. ``(("document_summary", 1),)``; others use the current one."""

    def prompt(self, name: str) -> Prompt:
        return load_prompt(name, dict(self.prompt_versions).get(name))

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "prompt_versions": [list(p) for p in self.prompt_versions]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MemoConfig:
        pinned = tuple((str(n), int(v)) for n, v in data.get("prompt_versions", ()))
        return cls(**{**data, "prompt_versions": pinned})

    """Share of a summary sentence's content words that must occur in the chunk it cites."""


class SectionText(BaseModel):
    sentences: list[str]
    source: Literal["llm", "extractive", "quoted", "none"]
    """``llm``: validated LLM sentences; ``extractive``: the LLM's failed, quoted instead;
    ``quoted``: table rows quoted without asking the LLM; ``none``: nothing to state."""
    dropped: list[dict[str, Any]]


class DocumentFinding(BaseModel):
    doc_id: str
    title: str
    doc_type: str
    tags: list[str]
    flagged: bool
    summary: SectionText


class Memo(BaseModel):
    memo_format: int = MEMO_FORMAT
    case_id: str
    name: str | None
    dataset: str
    as_of: str | None
    generated_at: str
    model: dict[str, str]
    llm: dict[str, Any]
    prompts: list[dict[str, Any]]
    request: dict[str, Any]
    decision: dict[str, Any]
    metrics: list[Fact]
    reasons: list[dict[str, str]]
    business_summary: SectionText
    findings: list[DocumentFinding]
    similar: list[SimilarRow]
    comparison: SectionText
    risks: list[str]
    mitigants: list[str]
    integrity: list[str]
    recommendation: dict[str, Any]
    sources: list[dict[str, str]]
    validation: dict[str, dict[str, int]]


def truth_of(case: CaseFile) -> CaseTruth:
    return CaseTruth(band=case.score.band, grade=case.score.grade, pd=case.score.pd, facts=case.fact_values())


def _dropped(verdicts: list[Any]) -> list[dict[str, Any]]:
    return [{"sentence": v.sentence, "reasons": list(v.reasons)} for v in verdicts]


def quotable(chunk: CaseChunk, truth: CaseTruth, sources: dict[str, str]) -> list[tuple[int, str]]:
    """A chunk's sentences that may be quoted (finished, no instruction, no verdict), with the chunk's
    tag and a salience score (risk words, figures)."""
    out = []
    for sentence in split_sentences(chunk.text):
        words = sentence.split()
        if len(words) < 5 or len(words) > 60 or sentence.lstrip().startswith("#"):
            continue
        if instruction_score(sentence) >= FLAG_AT or "[" in sentence or "<<<" in sentence:
            continue
        if not sentence.endswith((".", "!", "?")) or sum(c.isupper() for c in sentence) > len(words) * 2:
            continue
        tagged = f"{sentence[:-1]} [{chunk.tag}]{sentence[-1]}"
        if check_sentence(tagged, truth, sources, require_citation=True, allow_verdicts=False).kept:
            salience = len(SALIENT_WORDS.findall(sentence)) + (1 if re.search(r"\d", sentence) else 0)
            out.append((salience, tagged))
    return out


def extractive_sentences(
    doc: CaseDocument, truth: CaseTruth, sources: dict[str, str], count: int
) -> list[str]:
    """The most salient sentences of a document, verbatim with their tag, in document order."""
    candidates = [
        (s, i, text) for i, (s, text) in enumerate(q for c in doc.chunks for q in quotable(c, truth, sources))
    ]
    best = sorted(candidates, key=lambda c: (-c[0], c[1]))[:count]
    return [text for _, _, text in sorted(best, key=lambda c: c[1])]


META = re.compile(
    r"\b(?:the|this|that)\s+(?:document|passage|text|report|statement\s+above)\b|\bunderwriter|\bDOCUMENT\b|<<<|>>>",
    re.IGNORECASE,
)


def cite_each(output: str, tag: str) -> str:
    """One map call reads one chunk, so each of its sentences cites that chunk: attach the tag where
    the model left it out. Sentences about the document itself (not the merchant) are left out."""
    out = []
    for sentence in split_sentences(output):
        if META.search(CITATION_RE.sub("", sentence)):
            continue
        if not CITATION_RE.search(sentence):
            end = sentence[-1] if sentence.endswith((".", "!", "?")) else ""
            sentence = f"{sentence[: len(sentence) - len(end)].rstrip()} [{tag}]{end}"
        out.append(sentence)
    return "\n".join(out)


TABLE_ROW = re.compile(
    r"^\s*\|?\s*([A-Za-z][A-Za-z' ()/&-]{2,40}?)\s*(?:\||:|\s{2,})\s*(-?[$€£]?-?[\d,]+(?:\.\d+)?%?)\s*\|?\s*$"
)
"""A table row: ``Revenue   $507,100``, ``| Revenue | $404,300 |`` or ``Revenue: $1,200``."""


def prose_share(text: str) -> float:
    """Share of a chunk's characters in lines that read as sentences (tables and headings are not)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    total = sum(len(line) for line in lines) or 1
    prose = sum(len(line) for line in lines if line.endswith((".", "!", "?")) and len(line.split()) >= 6)
    return prose / total


def table_facts(text: str, tag: str, limit: int = 4) -> list[str]:
    """A table chunk's salient rows, verbatim (``Revenue $507,100``), as one cited sentence."""
    rows = [(m.group(1).strip(), m.group(2)) for m in map(TABLE_ROW.match, text.splitlines()) if m]
    salient = [r for r in rows if SALIENT_WORDS.search(r[0]) or re.search(r"debt|assets|profit", r[0], re.I)]
    chosen = (salient or rows)[:limit]
    return [f"{'; '.join(f'{label} {value}' for label, value in chosen)} [{tag}]."] if chosen else []


def summarise_document(
    doc: CaseDocument, truth: CaseTruth, book: CallBook, config: MemoConfig
) -> SectionText:
    """Map: one LLM call per chunk (up to a cap). Reduce: the validated, cited sentences, deduplicated."""
    sources = {c.tag: c.text for c in doc.chunks}
    prompt = config.prompt("document_summary")
    outputs = []
    tables: list[str] = []
    for chunk in doc.chunks[: config.max_chunks_per_document]:
        if prose_share(chunk.text) < config.min_prose_share:  # a table: quote its rows, no LLM needed
            tables += table_facts(chunk.text, chunk.tag)
            continue
        rendered = prompt.render(tag=chunk.tag, title=doc.title, section=chunk.section, text=chunk.text)
        outputs.append(cite_each(book.ask("summary", rendered), chunk.tag))
    checked = check_text(
        "\n".join(outputs),
        truth,
        sources,
        require_citation=True,
        max_sentences=config.max_sentences_per_document,
        min_support=config.min_support,
        allow_verdicts=False,
    )
    if not outputs:
        return SectionText(sentences=tables, source="quoted" if tables else "none", dropped=[])
    if len(checked.kept) >= config.min_sentences:
        return SectionText(sentences=checked.kept + tables, source="llm", dropped=_dropped(checked.dropped))
    fallback = extractive_sentences(doc, truth, sources, config.extractive_sentences) + tables
    return SectionText(
        sentences=fallback, source="extractive" if fallback else "none", dropped=_dropped(checked.dropped)
    )


def comparison_paragraph(case: CaseFile, book: CallBook, config: MemoConfig) -> SectionText:
    if not case.similar:
        return SectionText(sentences=[], source="none", dropped=[])
    truth = truth_of(case)
    sources = case.similar_sources()
    rendered = config.prompt("memo_comparison").render(
        pd=f"{case.score.pd:.1%}",
        reasons="; ".join(r["text"] for r in case.score.reasons) or "none stated",
        rows=[{"tag": s.tag, "line": similar_line(s)} for s in case.similar],
    )
    output = book.ask("comparison", rendered)
    checked = check_text(output, truth, sources, require_citation=True, max_sentences=3, allow_verdicts=False)
    if checked.kept:
        return SectionText(sentences=checked.kept, source="llm", dropped=_dropped(checked.dropped))
    return SectionText(
        sentences=comparison_facts(case), source="extractive", dropped=_dropped(checked.dropped)
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
    headline = {
        "approve": "Approve, subject to standard monitoring.",
        "refer": "Refer to a senior underwriter; do not approve before the conditions below are met.",
        "decline": "Decline.",
    }[band]
    conditions = [f"Policy {f['id']}: {f['text']}." for f in case.score.policy_flags]
    if case.contradictions:
        conditions.append("Obtain evidence that resolves the contradictions between documents and data.")
    if band == "approve" and not conditions:
        conditions.append("Monitor refund and dispute rates monthly.")
    return {
        "band": band,
        "grade": case.score.grade,
        "pd": case.score.pd,
        "text": headline,
        "conditions": conditions,
    }


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
        summary = summarise_document(doc, truth, book, config)
        finding = DocumentFinding(
            doc_id=doc.doc_id,
            title=doc.title,
            doc_type=doc.doc_type,
            tags=[c.tag for c in doc.chunks],
            flagged=doc.flagged,
            summary=summary,
        )
        findings.append(finding)
        yield finding
    business = next((f.summary for f in findings if f.doc_type in BUSINESS_DOC_TYPES), None)
    business = business or SectionText(sentences=[], source="none", dropped=[])
    comparison = comparison_paragraph(case, book, config)
    yield comparison
    sections = {f"finding {f.doc_id}": f.summary for f in findings} | {"comparison": comparison}
    stats = {
        name: {"kept": len(s.sentences), "dropped": len(s.dropped), "fallback": int(s.source == "extractive")}
        for name, s in sections.items()
    }
    dropped = sum(s["dropped"] for s in stats.values())
    warnings = integrity_warnings(case, dropped)
    risks = [r["text"] for r in case.score.reasons] + [f["text"] for f in case.score.policy_flags]
    risks += [f"Contradiction in {c.doc_id}: {c.name.lower()}" for c in case.contradictions]
    mitigants = [f"{m['name']}: {m['value']}" for m in case.score.mitigants]
    prompts = {b.prompt.name: b.prompt for b in book.calls}
    yield Memo(
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
        },
        metrics=case.facts,
        reasons=case.score.reasons,
        business_summary=business,
        findings=findings,
        similar=case.similar,
        comparison=comparison,
        risks=risks,
        mitigants=mitigants,
        integrity=warnings,
        recommendation=recommendation(case),
        sources=[
            {"tag": c.tag, "doc_id": d.doc_id, "chunk_id": c.chunk_id, "citation": c.citation}
            for d in case.documents
            for c in d.chunks
        ]
        + [
            {"tag": s.tag, "doc_id": "", "chunk_id": s.case_id, "citation": similar_line(s)}
            for s in case.similar
        ],
        validation=stats,
    )
