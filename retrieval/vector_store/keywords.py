"""Keyword search over a store's item texts: BM25 from SQLite FTS5, restricted to a filter mask."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import numpy as np

STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "but",
        "by",
        "can",
        "did",
        "do",
        "does",
        "for",
        "from",
        "had",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "me",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "she",
        "so",
        "such",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "any",
        "all",
        "about",
    ]
)
"""Left out of keyword queries: BM25 on "or" or "the" matches everything and means nothing."""
SQL_FILTER_MAX = 20_000
"""Up to this many allowed ids, SQLite restricts the match; beyond, rows are filtered while read."""


def bm25_search(
    db: sqlite3.Connection, query: str, k: int, mask: np.ndarray | None
) -> list[tuple[int, float]]:
    """``(id, score)`` of the ``k`` best matches of the query's words (any of them), best first."""
    words = "".join(c if c.isalnum() else " " for c in query.lower()).split()
    terms = [t for t in words if len(t) > 1 and t not in STOPWORDS]
    if not terms:
        return []
    match = " OR ".join(f'"{t}"' for t in dict.fromkeys(terms))
    sql = "SELECT rowid, bm25(items_fts) FROM items_fts WHERE items_fts MATCH ?"
    params: list[Any] = [match]
    allowed = None
    if mask is not None:
        allowed_ids = np.flatnonzero(mask)
        if len(allowed_ids) <= SQL_FILTER_MAX:
            sql += " AND rowid IN (SELECT value FROM json_each(?))"
            params.append(json.dumps(allowed_ids.tolist()))
        else:
            allowed = mask
    out: list[tuple[int, float]] = []
    for rowid, rank in db.execute(sql + " ORDER BY bm25(items_fts)", params):
        if allowed is None or allowed[rowid]:
            out.append((int(rowid), -float(rank)))
            if len(out) >= k:
                break
    return out
