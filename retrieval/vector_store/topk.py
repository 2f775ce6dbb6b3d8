"""Top-k search over a store's vectors, with a filter mask: the strategy that keeps filtered search fast.

* small allowed set (<= ``EXACT_FILTER_MAX`` rows or <= 2% of the store): exact NumPy search over
  just those rows;
* exact (flat) index, or an IVF index with a restrictive filter: FAISS search with an
  ``IDSelectorBitmap`` over the allowed ids;
* IVF with a permissive filter (>= 50% allowed): over-fetch ``k / share * 2`` and drop
  disallowed hits, falling back to the selector if too few remain.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from retrieval.vector_store.index_plan import IndexPlan, similarity

EXACT_FILTER_MAX = 4096


def empty_result(queries: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    return np.full((queries, k), -1, np.int64), np.full((queries, k), -np.inf, np.float32)


def filtered_top_k(
    index: Any, plan: IndexPlan, vectors: np.ndarray, queries: np.ndarray, k: int, mask: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Ids and scores (``-1`` padded) of the top ``k`` per query among the ``mask`` rows."""
    n = len(vectors)
    allowed = int(mask.sum())
    if allowed == 0:
        return empty_result(len(queries), k)
    share = allowed / max(n, 1)
    if allowed <= EXACT_FILTER_MAX or share <= 0.02:
        return exact_top_k_of_rows(vectors, plan.metric, queries, k, np.flatnonzero(mask))
    if plan.kind == "ivf" and share >= 0.5:
        fetch = min(n, math.ceil(k / share * 2) + 8)
        ids, scores = faiss_top_k(index, plan, queries, fetch, None)
        keep = (ids >= 0) & mask[np.clip(ids, 0, n - 1)]
        if (keep.sum(axis=1) >= min(k, allowed)).all():
            out_ids, out_scores = empty_result(len(queries), k)
            for r in range(len(queries)):
                sel = np.flatnonzero(keep[r])[:k]
                out_ids[r, : len(sel)], out_scores[r, : len(sel)] = ids[r, sel], scores[r, sel]
            return out_ids, out_scores
    return faiss_top_k(index, plan, queries, k, mask)


def faiss_top_k(
    index: Any, plan: IndexPlan, queries: np.ndarray, k: int, mask: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """FAISS search, restricted to the ``mask`` ids by a bitmap selector when given."""
    import faiss

    params: Any = None
    bitmap = None
    if mask is not None:
        bitmap = np.packbits(mask, bitorder="little")
        selector = faiss.IDSelectorBitmap(len(mask), faiss.swig_ptr(bitmap))
        if plan.kind == "ivf":
            params = faiss.SearchParametersIVF(sel=selector, nprobe=plan.nprobe)  # type: ignore[call-arg]
        else:
            params = faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]
    elif plan.kind == "ivf":
        params = faiss.SearchParametersIVF(nprobe=plan.nprobe)  # type: ignore[call-arg]
    scores, ids = index.search(queries, k, params=params)
    del bitmap
    if plan.metric == "l2":
        scores = -scores
    return ids, scores


def exact_top_k_of_rows(
    vectors: np.ndarray, metric: str, queries: np.ndarray, k: int, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Exact NumPy search over ``rows`` only (a small filtered set)."""
    scores = similarity(queries, vectors[rows], metric)
    kk = min(k, len(rows))
    top = np.argsort(-scores, axis=1, kind="stable")[:, :kk]
    ids, out = empty_result(len(queries), k)
    ids[:, :kk] = rows[top]
    out[:, :kk] = np.take_along_axis(scores, top, axis=1)
    return ids, out
