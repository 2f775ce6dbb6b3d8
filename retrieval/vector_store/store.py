"""A FAISS vector store with a SQLite sidecar: build, add, delete, filter, search, save, load.

Vectors and their filter columns (merchant, tenant, document type, as-of date) live in memory
as NumPy arrays; each item's key, metadata and text live in an in-memory SQLite sidecar (with
an FTS5 table for BM25 keyword search). Filters are masks over the columns
(:mod:`retrieval.vector_store.topk` says how a filtered search runs). A save writes a new
version folder and then swaps ``CURRENT`` (:mod:`retrieval.vector_store.files`): a crash
leaves the previous version intact and readers never see a half-written store.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from models.store.versioned import publish_version
from retrieval.errors import StoreError
from retrieval.vector_store.files import FORMAT, StoreParts, open_version, read_parts, write_parts
from retrieval.vector_store.index_plan import EXACT_BELOW, IndexPlan, build_index, ivf_of, plan_for
from retrieval.vector_store.items import SCHEMA, Codes, Filter, Hit, Item, iso_days
from retrieval.vector_store.keywords import bm25_search
from retrieval.vector_store.topk import faiss_top_k, filtered_top_k

KEEP_VERSIONS = 2


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
        self._codes = {"merchant": Codes(), "tenant": Codes(), "doc_type": Codes()}
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
            iso_days(it.as_of)
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
        self._as_of = np.concatenate([self._as_of, [iso_days(it.as_of) for it in items]]).astype(np.int32)

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
            mask &= self._as_of < iso_days(where.before)
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
        if mask is None and self._alive.all():
            return faiss_top_k(self._index, self.plan, queries, k, None)
        mask = self._alive if mask is None else mask & self._alive
        return filtered_top_k(self._index, self.plan, self._vectors, queries, k, mask)

    def keyword_search(self, query: str, k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """BM25 over the items' text (SQLite FTS5); ``(id, score)`` best first, higher is better."""
        return bm25_search(self._db, query, k, mask)

    # ---- persistence -----------------------------------------------------------------------
    def save(self, root: str | Path) -> Path:
        """Write a new version under ``root`` and make it current; returns the version folder."""
        self.ensure_index()
        assert self.plan is not None
        plan = self.plan

        def fill(folder: Path) -> None:
            write_parts(folder, self._index, self._vectors, self._alive, self.attachments, self._db)

        def manifest(version: str, hashes: dict[str, str]) -> dict[str, Any]:
            return {
                "format": FORMAT,
                "embedder_id": self.embedder_id,
                "dim": self.dim,
                "metric": self.metric,
                "count": len(self),
                "exact_below": self.exact_below,
                "plan": plan.to_dict(),
                "attachments": sorted(self.attachments),
                "info": self.info,
                "saved_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }

        return publish_version(root, fill, manifest, keep_previous=KEEP_VERSIONS)

    @classmethod
    def load(cls, root: str | Path, *, embedder_id: str | None = None, verify: bool = True) -> VectorStore:
        """Open the current version under ``root``; refuses anything corrupt, foreign or for another embedder."""
        folder, manifest = open_version(root, embedder_id=embedder_id, verify=verify)
        store = cls(
            manifest["dim"],
            manifest["embedder_id"],
            metric=manifest["metric"],
            exact_below=manifest["exact_below"],
        )
        store.info = manifest["info"]
        store.plan = IndexPlan(**manifest["plan"])
        store._restore(read_parts(folder, manifest, store._db))
        return store

    def _restore(self, parts: StoreParts) -> None:
        self._index = parts.index
        self.attachments = parts.attachments
        items = [Item(f"\0deleted-{i}") for i in range(len(parts.vectors))]
        for i, key, m, t, d, a in parts.rows:
            items[i] = Item(key, m, t, d, a)
        self._append_columns(items, parts.vectors)
        self._alive = parts.alive
        self._key_to_id = {key: int(i) for i, key, *_ in parts.rows}
        ivf = ivf_of(self._index)
        if ivf is not None and self.plan is not None:
            ivf.nprobe = self.plan.nprobe
