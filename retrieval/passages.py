"""The document index: merchant document chunks in a vector store, searched by meaning and keyword.

``DocumentIndex.search`` answers a question about one merchant with hybrid
retrieval: dense (embedding inner product over the merchant's chunks) and
keyword (SQLite FTS5 BM25, which catches exact terms such as "going concern"
or an account number that embeddings blur), fused by reciprocal rank
(``1 / (60 + rank)`` summed over both lists). Every hit carries the citation
of its exact passage and the injection score of its chunk.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from retrieval.documents.ingest import Chunk, Document, Failure
from retrieval.embedding_cache import EmbeddingCache
from retrieval.errors import StoreError
from retrieval.vector_store.items import Filter, Item
from retrieval.vector_store.store import VectorStore

RRF_K = 60
CANDIDATES = 50
EMBED_BATCH = 256
"""Chunks embedded, cached and added at a time: an interrupted build loses at most this many."""


@dataclass
class Passage:
    chunk_id: str
    doc_id: str
    merchant_id: str | None
    doc_type: str | None
    title: str
    section: str
    page: int | None
    start: int
    end: int
    text: str
    score: float
    """Fused reciprocal-rank score."""
    dense_score: float | None
    dense_rank: int | None
    keyword_rank: int | None
    injection_score: float
    citation: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _chunk_item(chunk: Chunk) -> Item:
    payload = {
        "doc_id": chunk.doc_id,
        "title": chunk.title,
        "section": chunk.section,
        "page": chunk.page,
        "start": chunk.start,
        "end": chunk.end,
        "original_start": chunk.original_start,
        "original_end": chunk.original_end,
        "injection_score": chunk.injection_score,
        "injection_rules": chunk.injection_rules,
        "doc_sha256": chunk.doc_sha256,
        "text": chunk.text,
        "citation": chunk.citation(),
    }
    return Item(
        key=chunk.chunk_id,
        merchant_id=chunk.merchant_id,
        tenant=chunk.tenant,
        doc_type=chunk.doc_type,
        as_of=chunk.as_of,
        text=chunk.embedding_text(),
        payload=payload,
    )


def document_record(doc: Document) -> dict[str, Any]:
    return {
        "doc_id": doc.doc_id,
        "merchant_id": doc.merchant_id,
        "doc_type": doc.doc_type,
        "as_of": doc.as_of,
        "source": doc.source,
        "sha256": doc.sha256,
        "title": doc.title,
        "chars": len(doc.text),
        "pages": len(doc.page_starts) or None,
        "encoding": doc.encoding,
        "notes": doc.notes,
        "injection_score": doc.screening.score,
        "injection_flagged": doc.screening.flagged,
        "injection_flags": [f.to_dict() for f in doc.screening.flags],
    }


class DocumentIndex:
    def __init__(self, store: VectorStore, cache: EmbeddingCache):
        if store.embedder_id != cache.embedder.model_id:
            raise StoreError(
                f"document index was built with embedder {store.embedder_id}, "
                f"but the query embedder is {cache.embedder.model_id}; rebuild the index"
            )
        self.store = store
        self.cache = cache

    @classmethod
    def new(cls, cache: EmbeddingCache, *, exact_below: int | None = None) -> DocumentIndex:
        kwargs = {"exact_below": exact_below} if exact_below else {}
        return cls(VectorStore(cache.embedder.dim, cache.embedder.model_id, metric="ip", **kwargs), cache)

    @classmethod
    def load(cls, root: str | Path, cache: EmbeddingCache) -> DocumentIndex:
        return cls(VectorStore.load(root, embedder_id=cache.embedder.model_id), cache)

    def add(
        self,
        documents: Sequence[Document],
        chunks: Sequence[Chunk],
        failures: Sequence[Failure] = (),
        *,
        progress: bool = False,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> int:
        """Embed (through the cache) and add chunks; returns how many were new to the index.
        ``on_progress(done, total)`` after each batch."""
        fresh = [c for c in chunks if c.chunk_id not in self.store]
        bar = tqdm(total=len(fresh), desc="embedding chunks", unit="chunk", disable=not progress)
        for i in range(0, len(fresh), EMBED_BATCH):
            batch = fresh[i : i + EMBED_BATCH]
            vectors = self.cache.embed([c.embedding_text() for c in batch])
            self.store.add([_chunk_item(c) for c in batch], vectors)
            bar.update(len(batch))
            if on_progress is not None:
                on_progress(i + len(batch), len(fresh))
        bar.close()
        self.store.put_records("document", {d.doc_id: document_record(d) for d in documents})
        self.store.put_records("failure", {f.source: asdict(f) for f in failures})
        return len(fresh)

    def remove_documents(self, doc_ids: Sequence[str]) -> int:
        wanted = sorted(set(doc_ids))
        rows = self.store.items_where(
            "json_extract(payload, '$.doc_id') IN (SELECT value FROM json_each(?))", [json.dumps(wanted)]
        )
        keys = [key for _, key in rows]
        self.store.delete_records("document", wanted)
        return self.store.delete(keys)

    def save(self, root: str | Path) -> Path:
        return self.store.save(root)

    def documents(self, merchant_id: str | None = None) -> list[dict[str, Any]]:
        return list(self.store.records("document", merchant_id=merchant_id).values())

    def failures(self) -> list[dict[str, Any]]:
        return list(self.store.records("failure").values())

    def search(
        self,
        question: str,
        *,
        merchant_id: str | None = None,
        k: int = 8,
        doc_types: Sequence[str] | None = None,
        tenant: str | None = None,
        as_of: str | None = None,
    ) -> list[Passage]:
        if not question.strip():
            raise StoreError("the question is empty")
        where = Filter(
            merchant_ids=[merchant_id] if merchant_id else None,
            tenant=tenant,
            doc_types=doc_types,
            before=as_of,
        )
        mask = self.store.mask(where)
        if not mask.any():
            return []
        query = self.cache.embed([question])
        ids, scores = self.store.search_ids(query, CANDIDATES, mask)
        dense = [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
        keyword = self.store.keyword_search(question, CANDIDATES, mask)
        fused: dict[int, float] = {}
        dense_rank = {i: r for r, (i, _) in enumerate(dense, start=1)}
        dense_score = dict(dense)
        keyword_rank = {i: r for r, (i, _) in enumerate(keyword, start=1)}
        for ranks in (dense_rank, keyword_rank):
            for i, r in ranks.items():
                fused[i] = fused.get(i, 0.0) + 1.0 / (RRF_K + r)
        order = sorted(fused, key=lambda i: (-fused[i], -dense_score.get(i, -np.inf), i))[:k]
        out = []
        for i, item in zip(order, self.store.items(order, with_text=False), strict=True):
            p = item.payload
            out.append(
                Passage(
                    chunk_id=item.key,
                    doc_id=p["doc_id"],
                    merchant_id=item.merchant_id,
                    doc_type=item.doc_type,
                    title=p["title"],
                    section=p["section"],
                    page=p["page"],
                    start=p["start"],
                    end=p["end"],
                    text=p["text"],
                    score=round(fused[i], 6),
                    dense_score=round(dense_score[i], 4) if i in dense_score else None,
                    dense_rank=dense_rank.get(i),
                    keyword_rank=keyword_rank.get(i),
                    injection_score=p["injection_score"],
                    citation=p["citation"],
                )
            )
        return out
