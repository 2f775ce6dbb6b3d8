"""Split normalised text into citable chunks that follow the document's structure.

Blocks are separated by blank lines; a block is a heading (``# Title``, a line
underlined with ``===``/``---``, ``ITEM 1A.``-style captions, short title-case
lines), a table (``|`` rows or aligned columns), or a paragraph. Chunks never
cross a heading; paragraphs and tables are packed whole up to ``max_tokens``
(the embedder's limit, counted with its own tokenizer when given); a block too
long to fit is split at sentences, then words, and tables at rows. Each chunk
after a size split starts with the previous chunk's last sentence when it fits
in ``overlap_tokens``, so a fact split across the boundary is still found.

Spans are offsets in the normalised text; the chunk id is derived from the
document hash and the span, so re-ingesting the same file gives the same ids.
"""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass

TokenCounter = Callable[[Sequence[str]], list[int]]

BLANK_LINES = re.compile(r"\n[ \t]*\n\s*")
UNDERLINE = re.compile(r"^\s*(=+|-+)\s*$")
MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+\S")
CAPTION = re.compile(
    r"^\s*(item|part|section|article|schedule|note)\s+[\dA-Z]{1,4}[A-Z]?\b[.:]?", re.IGNORECASE
)
SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=\S)")
WORD = re.compile(r"\S+\s*")
TOKEN_ESTIMATE = re.compile(r"\w+|[^\w\s]")


def estimate_tokens(texts: Sequence[str]) -> list[int]:
    """A word-piece count estimate for when no tokenizer is at hand (rounds up)."""
    return [int(len(TOKEN_ESTIMATE.findall(t)) * 1.3) + 1 for t in texts]


@dataclass(frozen=True)
class ChunkSpan:
    start: int
    end: int
    section: str
    page: int | None
    chunk_id: str
    tokens: int


@dataclass(frozen=True)
class _Unit:
    start: int
    end: int
    kind: str  # heading | paragraph | table | piece
    section: str


def _is_heading_line(line: str) -> bool:
    s = line.strip()
    if not s or len(s) > 90:
        return False
    if MD_HEADING.match(line) or CAPTION.match(s):
        return True
    if s[-1] in ".,;:!?" or s.startswith("|") or "  " in s:
        return False
    words = [w for w in re.findall(r"[A-Za-z][\w'&-]*", s) if len(w) > 3]
    return bool(words) and len(s.split()) <= 12 and (s.isupper() or all(w[0].isupper() for w in words))


def _is_table(lines: list[str]) -> bool:
    if len(lines) < 2:
        return False
    rows = sum(1 for ln in lines if ln.strip().startswith("|") or "\t" in ln or re.search(r"\S {2,}\S", ln))
    return rows / len(lines) >= 0.6


def _heading_text(line: str) -> str:
    return line.strip().lstrip("#").strip()[:120]


def _units(text: str) -> list[_Unit]:
    units: list[_Unit] = []
    section = ""
    position = 0
    blocks = []
    for sep in BLANK_LINES.finditer(text):
        blocks.append((position, sep.start()))
        position = sep.end()
    blocks.append((position, len(text)))
    for b_start, b_end in blocks:
        block = text[b_start:b_end]
        if not block.strip():
            continue
        # lines with offsets; a line followed by an underline is a heading that splits the block
        lines, at = [], b_start
        for line in block.split("\n"):
            lines.append((at, line))
            at += len(line) + 1
        i = 0
        pending: list[tuple[int, str]] = []

        def flush_pending(section: str) -> None:
            nonlocal pending
            if pending:
                start = pending[0][0]
                end = pending[-1][0] + len(pending[-1][1])
                kind = "table" if _is_table([ln for _, ln in pending]) else "paragraph"
                units.append(_Unit(start, end, kind, section))
            pending = []

        while i < len(lines):
            at, line = lines[i]
            underlined = bool(i + 1 < len(lines) and UNDERLINE.match(lines[i + 1][1]) and line.strip())
            first_line_caption = i == 0 and (len(lines) == 1 or bool(CAPTION.match(line)))
            if underlined or MD_HEADING.match(line) or (first_line_caption and _is_heading_line(line)):
                flush_pending(section)
                section = _heading_text(line)
                end = lines[i + 1][0] + len(lines[i + 1][1]) if underlined else at + len(line)
                units.append(_Unit(at, end, "heading", section))
                i += 2 if underlined else 1
                continue
            pending.append((at, line))
            i += 1
        flush_pending(section)
    return units


def _split_long(text: str, unit: _Unit, max_tokens: int, count: TokenCounter) -> list[_Unit]:
    """Pieces of an over-long block: table rows, else sentences, else word runs."""
    body = text[unit.start : unit.end]
    if unit.kind == "table":
        bounds, at = [], unit.start
        for line in body.split("\n"):
            bounds.append((at, at + len(line)))
            at += len(line) + 1
    else:
        bounds, at = [], 0
        for m in SENTENCE_END.finditer(body):
            bounds.append((unit.start + at, unit.start + m.start()))
            at = m.end()
        bounds.append((unit.start + at, unit.end))
    sizes = count([text[s:e] for s, e in bounds])
    pieces: list[_Unit] = []
    for (s, e), size in zip(bounds, sizes, strict=True):
        if size <= max_tokens:
            pieces.append(_Unit(s, e, "piece", unit.section))
            continue
        words = [(s + m.start(), s + m.end()) for m in WORD.finditer(text[s:e])]
        word_tokens = count([text[a:b] for a, b in words])
        run_start, run = words[0][0], 0
        for (a, _b), t in zip(words, word_tokens, strict=True):
            if run and run + t > max_tokens:
                pieces.append(_Unit(run_start, a, "piece", unit.section))
                run_start, run = a, 0
            run += t
        pieces.append(_Unit(run_start, e, "piece", unit.section))
    return pieces


def chunk_id(doc_sha256: str, start: int, end: int) -> str:
    return hashlib.sha256(f"{doc_sha256}:{start}:{end}".encode()).hexdigest()[:20]


def chunk_text(
    text: str,
    doc_sha256: str,
    *,
    max_tokens: int = 240,
    overlap_tokens: int = 48,
    page_starts: Sequence[int] = (),
    count: TokenCounter = estimate_tokens,
) -> list[ChunkSpan]:
    if max_tokens < 16:
        raise ValueError(f"max_tokens must be at least 16, got {max_tokens}")
    chunks: list[ChunkSpan] = []
    current: list[tuple[_Unit, int]] = []

    def emit() -> None:
        if current:
            chunks.append(_span(text, doc_sha256, current, page_starts))

    for unit, size in _sized_units(text, max_tokens, count):
        used = sum(t for _, t in current)
        if unit.kind == "heading":
            if current and any(u.kind != "heading" for u, _ in current):
                emit()
                current = []
            current.append((unit, size))
            continue
        if current and used + size > max_tokens:
            previous = current
            emit()
            current = []
            last_unit, _ = previous[-1]
            if last_unit.section == unit.section and last_unit.kind != "heading":
                tail = _last_sentence(text, last_unit)
                if tail is not None:
                    tail_size = count([text[tail.start : tail.end]])[0]
                    if tail_size <= overlap_tokens and tail_size + size <= max_tokens:
                        current.append((tail, tail_size))
        current.append((unit, size))
    emit()
    return chunks


def _sized_units(text: str, max_tokens: int, count: TokenCounter) -> list[tuple[_Unit, int]]:
    """The text's units with their token counts, a unit longer than ``max_tokens`` split into pieces."""
    units = _units(text)
    sizes = count([text[u.start : u.end] for u in units]) if units else []
    expanded: list[tuple[_Unit, int]] = []
    for unit, size in zip(units, sizes, strict=True):
        if size > max_tokens:
            pieces = _split_long(text, unit, max_tokens, count)
            expanded += list(zip(pieces, count([text[p.start : p.end] for p in pieces]), strict=True))
        else:
            expanded.append((unit, size))
    return expanded


def _span(
    text: str, doc_sha256: str, units: list[tuple[_Unit, int]], page_starts: Sequence[int]
) -> ChunkSpan:
    """One chunk over consecutive units, trailing white space trimmed, with its page and id."""
    start, end = units[0][0].start, units[-1][0].end
    end = start + len(text[start:end].rstrip())
    page = bisect_right(page_starts, start) if page_starts else None
    return ChunkSpan(
        start, end, units[-1][0].section, page, chunk_id(doc_sha256, start, end), sum(t for _, t in units)
    )


def _last_sentence(text: str, unit: _Unit) -> _Unit | None:
    if unit.kind == "piece":
        return unit
    body = text[unit.start : unit.end]
    ends = list(SENTENCE_END.finditer(body))
    if not ends:
        return None
    return _Unit(unit.start + ends[-1].end(), unit.end, "piece", unit.section)
