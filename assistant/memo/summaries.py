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
from assistant.memo.validation import (
    CITATION_RE,
    CaseTruth,
    check_sentence,
    check_text,
    hidden_order,
    split_sentences,
)
from retrieval.documents.screening import FLAG_AT, order_score
from retrieval.evidence.sentences import prose_sentences

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


MIN_QUOTE_WORDS = 5
MAX_QUOTE_WORDS = 120
CAPITALS_STYLE_LETTERS = 120


def quote_candidates(chunk: CaseChunk, *, ends_document: bool = True) -> list[tuple[int, str]]:
    """A chunk's whole sentences that could be quoted, tagged, with a salience score (risk words,
    figures), before the checks: five to 120 words, no heading, no order to a model, no redaction
    bracket but placeholders, not shouted. A sentence needs its full stop, except the last one of a
    document that writes in sentences (one has come before it): the writer ended the text there,
    where a chunk boundary (a chunk that does not ``ends_document``) only cuts it."""
    out = []
    sentences = prose_sentences(chunk.text)
    hidden = hidden_orders(chunk.text)
    letters = [c for c in chunk.text if c.isalpha()]
    capitals = (  # the writer's style: a whole passage in capitals, not one shouted line
        len(letters) >= CAPITALS_STYLE_LETTERS and sum(c.isupper() for c in letters) > 0.8 * len(letters)
    )
    for i, sentence in enumerate(sentences):
        words = sentence.split()
        if not MIN_QUOTE_WORDS <= len(words) <= MAX_QUOTE_WORDS or sentence.lstrip().startswith("#"):
            continue
        if order_score(sentence) >= FLAG_AT or "[" in REDACTED.sub("", sentence) or "<<<" in sentence:
            continue
        if any(sentence in h or h in sentence for h in hidden):
            continue
        finished = sentence.endswith((".", "!", "?"))
        writers_end = ends_document and i == len(sentences) - 1 and i > 0
        if not finished and not writers_end:
            continue  # cut by a chunk boundary (the next chunk opens with it whole), or not prose
        if sum(c.isupper() for c in sentence) > len(words) * 2 and not capitals:
            continue  # a shouted line in a document that is not written in capitals
        body, end = (sentence[:-1], sentence[-1]) if finished else (sentence.rstrip(",;:- "), ".")
        salience = len(SALIENT_WORDS.findall(sentence)) + (1 if re.search(r"\d", sentence) else 0)
        out.append((salience, f"{body} [{chunk.tag}]{end}"))
    return out


def hidden_orders(text: str) -> list[str]:
    """Sentences of ``text`` (white space as written: ``H I D E   A L L`` reads only so) that carry an
    order in a hidden reading, white space then collapsed as the quoted sentences' is."""
    return [" ".join(raw.split()) for raw in split_sentences(text) if hidden_order(raw)]


def may_quote(tagged: str, truth: CaseTruth, sources: dict[str, str]) -> bool:
    """A quote is the document's own words, so it is not held to the memo's rules for what an LLM may
    write (a borrower may say "fund this loan"); it must carry no order to a model in any reading
    (plain, look-alike letters, ROT13, leetspeak, spaced letters, base64) and state nothing the case's
    facts or the chunk itself do not."""
    return check_sentence(tagged, truth, sources, require_citation=True, quoted=True).kept


def quotable(
    chunk: CaseChunk, truth: CaseTruth, sources: dict[str, str], *, ends_document: bool = True
) -> list[tuple[int, str]]:
    """Every sentence of ``chunk`` that may be quoted, tagged, with its salience."""
    return [
        (s, q)
        for s, q in quote_candidates(chunk, ends_document=ends_document)
        if may_quote(q, truth, sources)
    ]


def extractive_sentences(
    doc: CaseDocument, truth: CaseTruth, sources: dict[str, str], count: int
) -> list[str]:
    """The most salient sentences of a document, verbatim with their tag, in document order. Candidates
    are checked most salient first, until ``count`` pass (a 10-K item has hundreds)."""
    last = len(doc.chunks) - 1
    seen: set[str] = set()
    candidates: list[tuple[int, int, str]] = []
    for n, chunk in enumerate(doc.chunks):
        for salience, text in quote_candidates(chunk, ends_document=n == last):
            said = CITATION_RE.sub("", text)
            if said not in seen:  # the overlap repeats a sentence in the next chunk
                seen.add(said)
                candidates.append((salience, len(candidates), text))
    chosen: list[tuple[int, int, str]] = []
    for candidate in sorted(candidates, key=lambda c: (-c[0], c[1])):
        if len(chosen) == count:
            break
        if may_quote(candidate[2], truth, sources):
            chosen.append(candidate)
    return [text for _, _, text in sorted(chosen, key=lambda c: c[1])]


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
    r"^\s*\|?\s*([A-Za-z][A-Za-z' ()/&-]{2,40}?)\s*(?:\||:|\s{2,})\s*(-?[$€£]?-?[\d,]+(?:\.\d+)?%?)"
    r"(?:\s*(?:\||\s{2,}|\t)\s*\(?-?[$€£]?-?[\d,]+(?:\.\d+)?%?\)?)*\s*\|?\s*$"
)
"""A table row: ``Revenue   $507,100``, ``| Revenue | $404,300 |`` or ``Revenue: $1,200``; where more
periods' columns follow (``Revenue   $507,100   $404,300``) the first, the current period, is read."""


CELL_GAP = re.compile(r"\t|\s{2,}")
NUMBER_CELL = re.compile(r"^[(\-]?[$€£]?\(?-?[\d,]+(?:\.\d+)?%?\)?$")


def line_kind(line: str) -> str:
    """``table`` for a row of label and figures (``Revenue   $507,100``, ``| a | b |``, mostly
    numbers), ``heading`` for a short line that ends no sentence, ``prose`` for the rest: a line of
    words is prose whether or not it ends with a full stop (a description cut by a chunk boundary)."""
    words = line.split()
    if TABLE_ROW.match(line) or line.count("|") >= 2:
        return "table"
    cells = [c for c in CELL_GAP.split(line.strip()) if c]
    if len(cells) >= 3 and sum(bool(NUMBER_CELL.match(c)) for c in cells) >= 2:
        return "table"
    if len(words) >= 2 and sum(bool(NUMBER_CELL.match(w)) for w in words) > len(words) / 2:
        return "table"
    if len(words) < 6 and not line.endswith((".", "!", "?")):
        return "heading"
    return "prose"


def prose_share(text: str) -> float:
    """Share of a chunk's characters in lines that read as prose, by the shape of the lines."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    total = sum(len(line) for line in lines) or 1
    return sum(len(line) for line in lines if line_kind(line) == "prose") / total


def table_facts(text: str, tag: str, limit: int = 4) -> list[str]:
    """A table chunk's salient rows, verbatim (``Revenue $507,100``), as one cited sentence."""
    rows = [(m.group(1).strip(), m.group(2)) for m in map(TABLE_ROW.match, text.splitlines()) if m]
    salient = [r for r in rows if SALIENT_WORDS.search(r[0]) or re.search(r"debt|assets|profit", r[0], re.I)]
    chosen = (salient or rows)[:limit]
    return [f"{'; '.join(f'{label} {value}' for label, value in chosen)} [{tag}]."] if chosen else []


def unsummarised_quotes(
    doc: CaseDocument, summarised: int, truth: CaseTruth, sources: dict[str, str]
) -> list[str]:
    """The parts of a long document past the LLM's chunk cap are still read: their most salient
    sentence, quoted verbatim, so no part of a document is left unread."""
    if summarised >= len(doc.chunks):
        return []
    rest = CaseDocument(**{**doc.model_dump(), "chunks": doc.chunks[summarised:]})
    return extractive_sentences(rest, truth, sources, 1)


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
    read = doc.chunks[: config.max_chunks_per_document]
    for chunk in read:
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
    rest = unsummarised_quotes(doc, len(read), truth, sources)
    if not outputs:
        quoted = tables + rest if tables or rest else extractive_sentences(doc, truth, sources, 1)
        return SectionText(sentences=quoted, source="quoted" if quoted else "none", dropped=[])
    if len(checked.kept) >= config.min_sentences:
        kept = checked.kept + tables + rest
        return SectionText(sentences=kept, source="llm", dropped=dropped_of(checked.dropped))
    fallback = extractive_sentences(doc, truth, sources, config.extractive_sentences)
    fallback += tables + [q for q in rest if q not in fallback]
    return SectionText(
        sentences=fallback, source="extractive" if fallback else "none", dropped=dropped_of(checked.dropped)
    )
