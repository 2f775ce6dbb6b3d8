"""Document summaries: map one LLM call over each chunk, reduce to validated, cited sentences.

A chunk that is mostly a table is quoted (its salient rows, verbatim) without asking the LLM.
When too few LLM sentences survive validation, the section falls back to an extractive
summary: the document's most salient sentences, verbatim, each with its citation tag.
"""

from __future__ import annotations

import re
from typing import Any

from assistant.case.schema import CaseChunk, CaseDocument
from assistant.memo.calls import CallBook
from assistant.memo.config import MemoConfig
from assistant.memo.schema import SectionText
from assistant.memo.validation import CITATION_RE, CaseTruth, check_sentence, check_text, split_sentences
from retrieval.documents.screening import FLAG_AT, order_score

SALIENT_WORDS = re.compile(
    r"\b(?:refund\w*|chargeback\w*|dispute\w*|loss\w*|debt\w*|loan\w*|lawsuit\w*|litigation|claim\w*|"
    r"delay\w*|deliver\w*|supplier\w*|revenue|income|cash|going concern|default\w*|late|overdue|"
    r"negative|decline\w*|fell|growth|grew|margin|settle\w*|fraud\w*|complain\w*|pay\w*)\b",
    re.IGNORECASE,
)


REDACTED = re.compile(r"\[(?:PERSON|EMAIL|PHONE|CARD|ACCOUNT|IBAN|TAX_ID)\]")
"""A redaction placeholder: a sentence with one may still be quoted (it is not a citation)."""


def dropped_of(verdicts: list[Any]) -> list[dict[str, Any]]:
    return [{"sentence": v.sentence, "reasons": list(v.reasons)} for v in verdicts]


def quotable(chunk: CaseChunk, truth: CaseTruth, sources: dict[str, str]) -> list[tuple[int, str]]:
    """A chunk's sentences that may be quoted, with the chunk's tag and a salience score (risk words,
    figures). A quote is the document's own words, so it is not held to the memo's rules for what an LLM
    may write (a borrower may say "fund this loan"); it must be a finished sentence, carry no order to a
    model in any reading (plain, look-alike letters, ROT13, leetspeak, spaced letters, base64) and state
    nothing the case's facts or the chunk itself do not."""
    out = []
    for sentence in split_sentences(chunk.text):
        words = sentence.split()
        if len(words) < 5 or len(words) > 60 or sentence.lstrip().startswith("#"):
            continue
        if order_score(sentence) >= FLAG_AT or "[" in REDACTED.sub("", sentence) or "<<<" in sentence:
            continue
        if not sentence.endswith((".", "!", "?")) or sum(c.isupper() for c in sentence) > len(words) * 2:
            continue
        tagged = f"{sentence[:-1]} [{chunk.tag}]{sentence[-1]}"
        if check_sentence(tagged, truth, sources, require_citation=True, quoted=True).kept:
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


def withheld(label: str) -> str:
    """A document's title or section as a prompt may carry it: one that reads as an order to a model
    is withheld (older template versions put these outside the untrusted-data fence)."""
    return "(withheld: it reads as an instruction to a model)" if order_score(label) >= FLAG_AT else label


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
        rendered = prompt.render(
            tag=chunk.tag, title=withheld(doc.title), section=withheld(chunk.section), text=chunk.text
        )
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
        return SectionText(sentences=checked.kept + tables, source="llm", dropped=dropped_of(checked.dropped))
    fallback = extractive_sentences(doc, truth, sources, config.extractive_sentences) + tables
    return SectionText(
        sentences=fallback, source="extractive" if fallback else "none", dropped=dropped_of(checked.dropped)
    )
