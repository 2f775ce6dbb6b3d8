"""What a vector store holds beside its vectors: items, filters, hits, and the sidecar's SQL schema."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from retrieval.errors import StoreError

NO_DATE = np.iinfo(np.int32).max

SCHEMA = """
CREATE TABLE items (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    merchant_id TEXT,
    tenant TEXT NOT NULL,
    doc_type TEXT,
    as_of TEXT,
    payload TEXT NOT NULL
);
CREATE INDEX items_merchant ON items (merchant_id);
CREATE VIRTUAL TABLE items_fts USING fts5 (body, tokenize = 'porter unicode61');
CREATE TABLE records (kind TEXT NOT NULL, key TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (kind, key));
"""


@dataclass
class Item:
    """One stored vector's metadata. ``key`` is the caller's stable id (chunk id, case id)."""

    key: str
    merchant_id: str | None = None
    tenant: str = "default"
    doc_type: str | None = None
    as_of: str | None = None
    """ISO date; items without one are left out of any as-of search (their timing cannot be proven)."""
    text: str | None = None
    """Indexed for keyword (BM25) search when given."""
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Filter:
    merchant_ids: Sequence[str] | None = None
    tenant: str | None = None
    doc_types: Sequence[str] | None = None
    before: str | None = None
    """ISO date: only items dated strictly before it."""
    exclude_merchants: Sequence[str] = ()
    exclude_keys: Sequence[str] = ()


@dataclass
class Hit:
    key: str
    id: int
    score: float
    """Higher is better: inner product for ``ip`` stores, minus squared distance for ``l2``."""
    item: Item


def iso_days(iso: str | None) -> int:
    """An ISO date as a day number (``NO_DATE`` when absent), for fast as-of masks."""
    if not iso:
        return int(NO_DATE)
    try:
        return date.fromisoformat(str(iso)[:10]).toordinal()
    except ValueError:
        raise StoreError(f"as_of {iso!r} is not an ISO date (YYYY-MM-DD)") from None


class Codes:
    """String column -> small ints, for fast masks."""

    def __init__(self) -> None:
        self.code: dict[str | None, int] = {None: 0}

    def of(self, value: str | None) -> int:
        return self.code.setdefault(value, len(self.code))

    def lookup(self, values: Iterable[str]) -> list[int]:
        return [self.code[v] for v in values if v in self.code]
