"""A FAISS vector store with a SQLite sidecar: build, add, delete, filter, save, load.

Layout on disk (a folder)::

    CURRENT                      name of the live version, replaced atomically
    versions/v0007/manifest.json format tag, embedder id, plan, SHA-256 of every file
    versions/v0007/index.faiss   the FAISS index (ids = sidecar row ids)
    versions/v0007/vectors.npy   the vectors themselves (rebuilds, exact filtered search)
    versions/v0007/sidecar.sqlite  id -> key and metadata, plus an FTS5 table for BM25
    versions/v0007/<name>.npy    attachments (e.g. a case library's feature matrix)

A save writes a new version folder and then swaps ``CURRENT``: a crash leaves
the previous version intact and readers never see a half-written store. A
load checks every file against the manifest before FAISS parses anything, so
a corrupt or foreign index is refused with a message, not a crash.

Filters (merchant, tenant, document type, as-of date, exclusions) are masks
over numpy columns kept in memory. How a filtered search runs:

* small allowed set (<= ``EXACT_FILTER_MAX`` rows or <= 2% of the store):
  exact NumPy search over just those rows;
* exact (flat) index, or an IVF index with a restrictive filter: FAISS search
  with an ``IDSelectorBitmap`` over the allowed ids;
* IVF with a permissive filter (>= 50% allowed): over-fetch ``k / share * 2``
  and drop disallowed hits, falling back to the selector if too few remain.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import shutil
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.errors import StoreError
from retrieval.index_plan import EXACT_BELOW, IndexPlan, build_index, ivf_of, plan_for, similarity

FORMAT = "underwriter-vector-store/1"
EXACT_FILTER_MAX = 4096
KEEP_VERSIONS = 2
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


def _days(iso: str | None) -> int:
    if not iso:
        return int(NO_DATE)
    try:
        return date.fromisoformat(str(iso)[:10]).toordinal()
    except ValueError:
        raise StoreError(f"as_of {iso!r} is not an ISO date (YYYY-MM-DD)") from None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


class _Codes:
    """String column -> small ints, for fast masks."""

    def __init__(self) -> None:
        self.code: dict[str | None, int] = {None: 0}

    def of(self, value: str | None) -> int:
        return self.code.setdefault(value, len(self.code))

    def lookup(self, values: Iterable[str]) -> list[int]:
        return [self.code[v] for v in values if v in self.code]


class VectorStore:
    def __init__(self, dim: int, embedder_id: str, *, metric: str = "ip", exact_below: int = EXACT_BELOW):
        if metric not in ("ip", "l2"):
            raise ValueError(f"metric must be 'ip' or 'l2', got {metric!r}")
        self.dim = dim
        self.embedder_id = embedder_id
        self.metric = metric
        self.exact_below = exact_below
        self.info: dict[str, Any] = {}
        self.attachments: dict[str, np.ndarray] = {}
        self.plan: IndexPlan | None = None
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.executescript(SCHEMA)
        self._vectors = np.zeros((0, dim), dtype=np.float32)
        self._alive = np.zeros(0, dtype=bool)
        self._merchant = np.zeros(0, dtype=np.int32)
        self._tenant = np.zeros(0, dtype=np.int32)
        self._doc_type = np.zeros(0, dtype=np.int32)
        self._as_of = np.zeros(0, dtype=np.int32)
        self._codes = {"merchant": _Codes(), "tenant": _Codes(), "doc_type": _Codes()}
        self._index: Any = None
        self._key_to_id: dict[str, int] = {}

    # ---- size and lookup -------------------------------------------------------------------
    def __len__(self) -> int:
        return int(self._alive.sum())

    def __contains__(self, key: object) -> bool:
        return key in self._key_to_id

    @property
    def vectors(self) -> np.ndarray:
        return self._vectors

    def id_of(self, key: str) -> int:
        try:
            return self._key_to_id[key]
        except KeyError:
            raise StoreError(f"no item with key {key!r} in the store") from None

    def item(self, id_: int) -> Item:
        row = self._db.execute(
            "SELECT key, merchant_id, tenant, doc_type, as_of, payload FROM items WHERE id = ?", (int(id_),)
        ).fetchone()
        if row is None:
            raise StoreError(f"no item with id {id_}")
        text = self._db.execute("SELECT body FROM items_fts WHERE rowid = ?", (int(id_),)).fetchone()
        return Item(row[0], row[1], row[2], row[3], row[4], text[0] if text else None, json.loads(row[5]))

    def items(self, ids: Sequence[int], *, with_text: bool = True) -> list[Item]:
        """Several items in one sidecar query, in the order of ``ids``."""
        wanted = [int(i) for i in ids]
        rows = {
            r[0]: r[1:]
            for r in self._db.execute(
                "SELECT id, key, merchant_id, tenant, doc_type, as_of, payload FROM items "
                "WHERE id IN (SELECT value FROM json_each(?))",
                (json.dumps(wanted),),
            )
        }
        texts: dict[int, str] = {}
        if with_text:
            texts = dict(
                self._db.execute(
                    "SELECT rowid, body FROM items_fts WHERE rowid IN (SELECT value FROM json_each(?))",
                    (json.dumps(wanted),),
                ).fetchall()
            )
        missing = [i for i in wanted if i not in rows]
        if missing:
            raise StoreError(f"no item with id {missing[0]}")
        return [
            Item(r[0], r[1], r[2], r[3], r[4], texts.get(i), json.loads(r[5]))
            for i in wanted
            for r in [rows[i]]
        ]

    def ids_by_merchant(self) -> dict[str, list[int]]:
        """Live item ids grouped by merchant."""
        out: dict[str, list[int]] = {}
        for i, m in self._db.execute(
            "SELECT id, merchant_id FROM items WHERE merchant_id IS NOT NULL ORDER BY id"
        ):
            out.setdefault(m, []).append(int(i))
        return out

    def items_where(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[int, str]]:
        """``(id, key)`` of rows matching a WHERE clause over the ``items`` table."""
        return [(int(i), k) for i, k in self._db.execute(f"SELECT id, key FROM items WHERE {sql}", params)]

    def put_records(self, kind: str, records: dict[str, dict[str, Any]]) -> None:
        """Store JSON records beside the vectors (documents' screening results, ingest failures)."""
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO records VALUES (?, ?, ?)",
                [(kind, key, json.dumps(body)) for key, body in records.items()],
            )

    def records(
        self, kind: str, keys: Sequence[str] | None = None, *, merchant_id: str | None = None
    ) -> dict[str, dict[str, Any]]:
        """Records of ``kind``: all, those with ``keys``, or those whose body names ``merchant_id``."""
        if merchant_id is not None:
            rows = self._db.execute(
                "SELECT key, body FROM records WHERE kind = ? AND json_extract(body, '$.merchant_id') = ?",
                (kind, merchant_id),
            )
        elif keys is None:
            rows = self._db.execute("SELECT key, body FROM records WHERE kind = ?", (kind,))
        else:
            marks = ",".join("?" * len(keys))
            rows = self._db.execute(
                f"SELECT key, body FROM records WHERE kind = ? AND key IN ({marks})", (kind, *keys)
            )
        return {key: json.loads(body) for key, body in rows}

    def delete_records(self, kind: str, keys: Sequence[str]) -> None:
        with self._db:
            self._db.executemany("DELETE FROM records WHERE kind = ? AND key = ?", [(kind, k) for k in keys])

    # ---- mutation --------------------------------------------------------------------------
    def add(self, items: Sequence[Item], vectors: np.ndarray, *, replace: bool = True) -> np.ndarray:
        """Add items with their vectors; an existing key is replaced (or skipped with ``replace=False``)."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise StoreError(f"vectors must have shape (n, {self.dim}), got {vectors.shape}")
        if len(items) != len(vectors):
            raise StoreError(f"{len(items)} items but {len(vectors)} vectors")
        if not np.isfinite(vectors).all():
            raise StoreError("vectors contain NaN or infinity; nothing was added")
        keys = [it.key for it in items]
        if len(set(keys)) != len(keys):
            raise StoreError("duplicate keys in one add; nothing was added")
        for it in items:  # validate every date before changing anything
            _days(it.as_of)
        existing = [k for k in keys if k in self._key_to_id]
        if existing and not replace:
            keep = [i for i, k in enumerate(keys) if k not in self._key_to_id]
            items, vectors = [items[i] for i in keep], vectors[keep]
        elif existing:
            self.delete(existing)
        start = len(self._vectors)
        ids = np.arange(start, start + len(items), dtype=np.int64)
        with self._db:
            self._db.executemany(
                "INSERT INTO items VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (int(i), it.key, it.merchant_id, it.tenant, it.doc_type, it.as_of, json.dumps(it.payload))
                    for i, it in zip(ids, items, strict=True)
                ],
            )
            self._db.executemany(
                "INSERT INTO items_fts (rowid, body) VALUES (?, ?)",
                [(int(i), it.text) for i, it in zip(ids, items, strict=True) if it.text],
            )
        self._append_columns(items, vectors)
        for i, it in zip(ids, items, strict=True):
            self._key_to_id[it.key] = int(i)
        if self._index is not None:
            if self._plan_still_fits():
                self._index.add_with_ids(vectors, ids)
            else:
                self._index = None
        return ids

    def _append_columns(self, items: Sequence[Item], vectors: np.ndarray) -> None:
        codes = self._codes
        self._vectors = np.concatenate([self._vectors, vectors]) if len(self._vectors) else vectors.copy()
        self._alive = np.concatenate([self._alive, np.ones(len(items), dtype=bool)])
        self._merchant = np.concatenate(
            [self._merchant, [codes["merchant"].of(it.merchant_id) for it in items]]
        ).astype(np.int32)
        self._tenant = np.concatenate([self._tenant, [codes["tenant"].of(it.tenant) for it in items]]).astype(
            np.int32
        )
        self._doc_type = np.concatenate(
            [self._doc_type, [codes["doc_type"].of(it.doc_type) for it in items]]
        ).astype(np.int32)
        self._as_of = np.concatenate([self._as_of, [_days(it.as_of) for it in items]]).astype(np.int32)

    def delete(self, keys: Iterable[str]) -> int:
        ids = [self._key_to_id.pop(k) for k in keys if k in self._key_to_id]
        if not ids:
            return 0
        arr = np.asarray(ids, dtype=np.int64)
        self._alive[arr] = False
        with self._db:
            self._db.executemany("DELETE FROM items WHERE id = ?", [(int(i),) for i in ids])
            self._db.executemany("DELETE FROM items_fts WHERE rowid = ?", [(int(i),) for i in ids])
        if self._index is not None:
            import faiss

            self._index.remove_ids(faiss.IDSelectorBatch(arr))
        return len(ids)

    def _plan_still_fits(self) -> bool:
        wanted = plan_for(len(self), self.metric, self.exact_below)
        return (
            self.plan is not None
            and wanted.kind == self.plan.kind
            and (self.plan.kind == "flat" or wanted.nlist <= 2 * self.plan.nlist)
        )

    def ensure_index(self) -> None:
        """(Re)build the FAISS index when missing or outgrown; compacts deleted rows first."""
        if self._index is not None and self._plan_still_fits():
            return
        import faiss

        faiss.omp_set_num_threads(int(self.info.get("threads", 2)))
        self._compact()
        self.plan = plan_for(len(self._vectors), self.metric, self.exact_below)
        self._index = build_index(self._vectors, np.arange(len(self._vectors), dtype=np.int64), self.plan)

    def _compact(self) -> None:
        if self._alive.all():
            return
        keep = np.flatnonzero(self._alive)
        remap = {int(old): new for new, old in enumerate(keep)}
        rows = self._db.execute(
            "SELECT id, key, merchant_id, tenant, doc_type, as_of, payload FROM items"
        ).fetchall()
        texts = dict(self._db.execute("SELECT rowid, body FROM items_fts").fetchall())
        with self._db:
            self._db.execute("DELETE FROM items")
            self._db.execute("DELETE FROM items_fts")
            self._db.executemany(
                "INSERT INTO items VALUES (?, ?, ?, ?, ?, ?, ?)", [(remap[r[0]], *r[1:]) for r in rows]
            )
            self._db.executemany(
                "INSERT INTO items_fts (rowid, body) VALUES (?, ?)", [(remap[i], t) for i, t in texts.items()]
            )
        self._vectors = self._vectors[keep]
        self._merchant, self._tenant = self._merchant[keep], self._tenant[keep]
        self._doc_type, self._as_of = self._doc_type[keep], self._as_of[keep]
        self._alive = np.ones(len(keep), dtype=bool)
        self.attachments = {k: v[keep] for k, v in self.attachments.items()}
        self._key_to_id = {k: remap[i] for k, i in self._key_to_id.items()}
        self._index = None

    # ---- search ----------------------------------------------------------------------------
    def mask(self, where: Filter | None) -> np.ndarray:
        """Boolean mask over ids of the live items that pass ``where``."""
        mask = self._alive.copy()
        if where is None:
            return mask
        codes = self._codes
        if where.merchant_ids is not None:  # few merchants, many rows: ask the sidecar's index
            keep = np.zeros_like(mask)
            keep[self._ids_of_merchants(where.merchant_ids)] = True
            mask &= keep
        if where.tenant is not None:
            mask &= self._column_in(self._tenant, codes["tenant"].lookup([where.tenant]))
        if where.doc_types is not None:
            mask &= self._column_in(self._doc_type, codes["doc_type"].lookup(where.doc_types))
        if where.before is not None:
            mask &= self._as_of < _days(where.before)
        if where.exclude_merchants:
            mask[self._ids_of_merchants(where.exclude_merchants)] = False
        for key in where.exclude_keys:
            if key in self._key_to_id:
                mask[self._key_to_id[key]] = False
        return mask

    def _ids_of_merchants(self, merchants: Sequence[str]) -> np.ndarray:
        rows = self._db.execute(
            "SELECT id FROM items WHERE merchant_id IN (SELECT value FROM json_each(?))",
            (json.dumps(list(merchants)),),
        )
        return np.fromiter((r[0] for r in rows), dtype=np.int64)

    @staticmethod
    def _column_in(column: np.ndarray, wanted: list[int]) -> np.ndarray:
        if len(wanted) == 1:
            return column == wanted[0]
        return np.isin(column, wanted)

    def search(self, queries: np.ndarray, k: int = 10, where: Filter | None = None) -> list[list[Hit]]:
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        if queries.shape[1] != self.dim:
            raise StoreError(f"query vectors have {queries.shape[1]} dimensions; this store has {self.dim}")
        ids, scores = self.search_ids(queries, k, self.mask(where) if where else None)
        return [
            [
                Hit(self._key(i), int(i), float(s), self.item(int(i)))
                for i, s in zip(row_ids, row_scores, strict=True)
                if i >= 0
            ]
            for row_ids, row_scores in zip(ids, scores, strict=True)
        ]

    def _key(self, id_: int) -> str:
        row = self._db.execute("SELECT key FROM items WHERE id = ?", (int(id_),)).fetchone()
        return row[0]

    def search_ids(
        self, queries: np.ndarray, k: int, mask: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Ids and scores (``-1`` padded) of the top ``k`` per query among ``mask`` rows (all live rows if None)."""
        self.ensure_index()
        assert self._index is not None and self.plan is not None
        n = len(self._vectors)
        if mask is None and self._alive.all():
            return self._faiss_search(queries, k, None)
        mask = self._alive if mask is None else mask & self._alive
        allowed = int(mask.sum())
        if allowed == 0:
            return np.full((len(queries), k), -1, np.int64), np.full((len(queries), k), -np.inf, np.float32)
        share = allowed / max(n, 1)
        if allowed <= EXACT_FILTER_MAX or share <= 0.02:
            return self._exact_subset(queries, k, np.flatnonzero(mask))
        if self.plan.kind == "ivf" and share >= 0.5:
            fetch = min(n, math.ceil(k / share * 2) + 8)
            ids, scores = self._faiss_search(queries, fetch, None)
            keep = (ids >= 0) & mask[np.clip(ids, 0, n - 1)]
            if (keep.sum(axis=1) >= min(k, allowed)).all():
                out_ids = np.full((len(queries), k), -1, np.int64)
                out_scores = np.full((len(queries), k), -np.inf, np.float32)
                for r in range(len(queries)):
                    sel = np.flatnonzero(keep[r])[:k]
                    out_ids[r, : len(sel)], out_scores[r, : len(sel)] = ids[r, sel], scores[r, sel]
                return out_ids, out_scores
        return self._faiss_search(queries, k, mask)

    def _faiss_search(
        self, queries: np.ndarray, k: int, mask: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        import faiss

        assert self.plan is not None
        params: Any = None
        bitmap = None
        if mask is not None:
            bitmap = np.packbits(mask, bitorder="little")
            selector = faiss.IDSelectorBitmap(len(mask), faiss.swig_ptr(bitmap))
            if self.plan.kind == "ivf":
                params = faiss.SearchParametersIVF(sel=selector, nprobe=self.plan.nprobe)  # type: ignore[call-arg]
            else:
                params = faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]
        elif self.plan.kind == "ivf":
            params = faiss.SearchParametersIVF(nprobe=self.plan.nprobe)  # type: ignore[call-arg]
        scores, ids = self._index.search(queries, k, params=params)
        del bitmap
        if self.metric == "l2":
            scores = -scores
        return ids, scores

    def _exact_subset(self, queries: np.ndarray, k: int, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        scores = similarity(queries, self._vectors[rows], self.metric)
        kk = min(k, len(rows))
        top = np.argsort(-scores, axis=1, kind="stable")[:, :kk]
        ids = np.full((len(queries), k), -1, np.int64)
        out = np.full((len(queries), k), -np.inf, np.float32)
        ids[:, :kk] = rows[top]
        out[:, :kk] = np.take_along_axis(scores, top, axis=1)
        return ids, out

    def keyword_search(self, query: str, k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """BM25 over the items' text (SQLite FTS5); ``(id, score)`` best first, higher is better."""
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
            if len(allowed_ids) <= 20_000:  # let SQLite restrict the match; else filter while reading
                sql += " AND rowid IN (SELECT value FROM json_each(?))"
                params.append(json.dumps(allowed_ids.tolist()))
            else:
                allowed = mask
        out: list[tuple[int, float]] = []
        for rowid, rank in self._db.execute(sql + " ORDER BY bm25(items_fts)", params):
            if allowed is None or allowed[rowid]:
                out.append((int(rowid), -float(rank)))
                if len(out) >= k:
                    break
        return out

    # ---- persistence -----------------------------------------------------------------------
    def save(self, root: str | Path) -> Path:
        """Write a new version under ``root`` and make it current; returns the version folder."""
        root = Path(root)
        self.ensure_index()
        import faiss

        assert self.plan is not None
        versions = root / "versions"
        versions.mkdir(parents=True, exist_ok=True)
        numbers = [int(p.name[1:]) for p in versions.glob("v[0-9]*") if p.name[1:].isdigit()]
        name = f"v{max(numbers, default=0) + 1:04d}"
        staging = versions / f".{name}.tmp-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        try:
            faiss.write_index(self._index, str(staging / "index.faiss"))
            np.save(staging / "vectors.npy", self._vectors, allow_pickle=False)
            np.save(staging / "alive.npy", self._alive, allow_pickle=False)
            for att, array in self.attachments.items():
                np.save(staging / f"{att}.npy", array, allow_pickle=False)
            disk = sqlite3.connect(staging / "sidecar.sqlite")
            with disk:
                self._db.backup(disk)
            disk.close()
            files = sorted(p.name for p in staging.iterdir())
            manifest = {
                "format": FORMAT,
                "embedder_id": self.embedder_id,
                "dim": self.dim,
                "metric": self.metric,
                "count": len(self),
                "exact_below": self.exact_below,
                "plan": self.plan.to_dict(),
                "attachments": sorted(self.attachments),
                "info": self.info,
                "saved_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "files": {f: _sha256(staging / f) for f in files},
            }
            (staging / "manifest.json").write_text(json.dumps(manifest, indent=2))
            for f in staging.iterdir():
                with open(f, "rb") as handle:
                    os.fsync(handle.fileno())
            final = versions / name
            os.replace(staging, final)
            pointer = root / f".CURRENT.tmp-{os.getpid()}"
            pointer.write_text(name + "\n")
            os.replace(pointer, root / "CURRENT")
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        for old in sorted(p for p in versions.glob("v[0-9]*") if p.name != name)[:-KEEP_VERSIONS]:
            shutil.rmtree(old, ignore_errors=True)
        return final

    @classmethod
    def load(cls, root: str | Path, *, embedder_id: str | None = None, verify: bool = True) -> VectorStore:
        """Open the current version under ``root``; refuses anything corrupt, foreign or for another embedder."""
        root = Path(root)
        if root.is_file():
            raise StoreError(
                f"{root} is a file; a vector store is a folder written by `underwrite index build`"
            )
        pointer = root / "CURRENT"
        if not pointer.is_file():
            raise StoreError(
                f"{root} is not an Underwriter vector store (no CURRENT); build one with `underwrite index build`"
            )
        folder = root / "versions" / pointer.read_text().strip()
        try:
            manifest = json.loads((folder / "manifest.json").read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise StoreError(
                f"{folder}: manifest.json is missing or unreadable ({exc}); the store is corrupt"
            ) from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            found = manifest.get("format") if isinstance(manifest, dict) else None
            raise StoreError(
                f"{folder} is not a store this version can read (format {found!r}, expected {FORMAT!r})"
            )
        if embedder_id is not None and manifest["embedder_id"] != embedder_id:
            raise StoreError(
                f"{root} was built with embedder {manifest['embedder_id']}, not {embedder_id}; "
                "rebuild the index or use the same embedder"
            )
        expected = set(manifest["files"])
        required = {"index.faiss", "vectors.npy", "alive.npy", "sidecar.sqlite"} | {
            f"{a}.npy" for a in manifest["attachments"]
        }
        if not required <= expected:
            raise StoreError(
                f"{folder}: manifest does not list {sorted(required - expected)}; the store is corrupt"
            )
        if verify:
            for name, digest in manifest["files"].items():
                path = folder / name
                if not path.is_file():
                    raise StoreError(f"{folder}: {name} is missing; the store is corrupt")
                actual = _sha256(path)
                if actual != digest:
                    raise StoreError(
                        f"{folder}: {name} does not match its checksum in manifest.json "
                        f"(expected {digest[:12]}…, found {actual[:12]}…); the store is corrupt or was changed. "
                        "Rebuild it with `underwrite index build`."
                    )
        import faiss

        store = cls(
            manifest["dim"],
            manifest["embedder_id"],
            metric=manifest["metric"],
            exact_below=manifest["exact_below"],
        )
        store.info = manifest["info"]
        store.plan = IndexPlan(**manifest["plan"])
        try:
            store._index = faiss.read_index(str(folder / "index.faiss"))
            vectors = np.load(folder / "vectors.npy", allow_pickle=False)
            alive = np.load(folder / "alive.npy", allow_pickle=False).astype(bool)
            store.attachments = {
                a: np.load(folder / f"{a}.npy", allow_pickle=False) for a in manifest["attachments"]
            }
            disk = sqlite3.connect(f"file:{folder / 'sidecar.sqlite'}?mode=ro", uri=True)
            with contextlib.closing(disk):
                disk.backup(store._db)
            rows = store._db.execute(
                "SELECT id, key, merchant_id, tenant, doc_type, as_of FROM items ORDER BY id"
            ).fetchall()
        except (RuntimeError, ValueError, OSError, sqlite3.DatabaseError) as exc:
            raise StoreError(f"{folder}: could not be read ({exc}); the store is corrupt") from None
        live_ids = np.flatnonzero(alive) if alive.shape == (len(vectors),) else None
        if (
            live_ids is None
            or vectors.ndim != 2
            or vectors.shape[1] != manifest["dim"]
            or store._index.ntotal != len(rows)
            or live_ids.tolist() != [r[0] for r in rows]
        ):
            raise StoreError(
                f"{folder}: index, vectors and sidecar disagree about the items; the store is corrupt"
            )
        items = [Item(f"\0deleted-{i}") for i in range(len(vectors))]
        for i, key, m, t, d, a in rows:
            items[i] = Item(key, m, t, d, a)
        store._append_columns(items, vectors)
        store._alive = alive
        store._key_to_id = {key: int(i) for i, key, *_ in rows}
        ivf = ivf_of(store._index)
        if ivf is not None:
            ivf.nprobe = store.plan.nprobe
        return store
