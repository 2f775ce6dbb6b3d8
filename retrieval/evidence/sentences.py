"""The prose sentences of a passage: table rows, headings and rules dropped, paragraphs split by pysbd."""

from __future__ import annotations

import re
from functools import lru_cache

import pysbd

TABLE_ROW = re.compile(r"^\s*\||\S\s{2,}[-($]?\$?-?\(?\d|\.{4,}\s*\$?\(?\d")
"""A row of a table: a Markdown row, a label and a figure set apart by spaces, or dot leaders."""
RULE_OR_HEADING = re.compile(r"^\s*(?:#{1,6}\s|[=\-_*]{3,}\s*$)")
MAX_SENTENCE_CHARS = 900
"""Longer 'sentences' are lists or tables run together; they are not quoted."""


@lru_cache(maxsize=1)
def _segmenter() -> pysbd.Segmenter:
    return pysbd.Segmenter(language="en", clean=False)


def paragraphs(text: str) -> list[str]:
    """Runs of prose lines, each joined into one line; table rows, headings and a line that ends a
    sentence end a run (pysbd slows down sharply on very long runs)."""
    out: list[str] = []
    run: list[str] = []
    for line in text.replace("\r", "").split("\n"):
        if not line.strip() or TABLE_ROW.search(line) or RULE_OR_HEADING.match(line):
            if run:
                out.append(" ".join(run))
            run = []
            continue
        run.append(line.strip())
        if line.rstrip().endswith(
            (".", "!", "?", ":")
        ):  # a paragraph per line (a filing's items): split here
            out.append(" ".join(run))
            run = []
    if run:
        out.append(" ".join(run))
    return out


@lru_cache(maxsize=4096)
def prose_sentences(text: str) -> tuple[str, ...]:
    """Every prose sentence of ``text``, verbatim (whitespace aside), in order. Cached: a case's signals and
    its spread read the same passages, and sentence splitting is the slow step."""
    out = []
    for paragraph in paragraphs(text):
        for sentence in _segmenter().segment(paragraph):
            sentence = " ".join(sentence.split())
            if len(sentence.split()) >= 3 and len(sentence) <= MAX_SENTENCE_CHARS:
                out.append(sentence)
    return tuple(out)
