"""Which FAISS index a corpus gets, and with what parameters.

Below ``exact_below`` vectors: exact search (``IndexFlatIP``/``IndexFlatL2``),
which is a few milliseconds at that size. Above it: IVF-Flat with
``nlist ~ 4 * sqrt(n)`` lists (a power of two, 256..65536), trained on a seeded
sample of ``40 * nlist`` vectors; ``nprobe`` is then tuned on the corpus
itself, doubling from 1 until recall@10 against exact search on sample
queries reaches ``target_recall``. IVF (rather than HNSW) because it supports
deletes and id selectors, and builds in minutes on two cores at a million
vectors. Everything chosen is recorded in the store's manifest.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass

import numpy as np

EXACT_BELOW = 50_000
TARGET_RECALL = 0.97
TUNING_QUERIES = 200


@dataclass
class IndexPlan:
    kind: str  # flat | ivf
    metric: str  # ip | l2
    nlist: int = 0
    nprobe: int = 0
    train_size: int = 0
    recall_at_10: float | None = None
    build_seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


def plan_for(n: int, metric: str, exact_below: int = EXACT_BELOW) -> IndexPlan:
    if n < exact_below:
        return IndexPlan("flat", metric)
    nlist = int(min(65536, max(256, 2 ** round(math.log2(4 * math.sqrt(n))))))
    return IndexPlan("ivf", metric, nlist=nlist, nprobe=16, train_size=min(n, 40 * nlist))


def _faiss_metric(metric: str) -> int:
    import faiss

    return faiss.METRIC_INNER_PRODUCT if metric == "ip" else faiss.METRIC_L2


def build_index(vectors: np.ndarray, ids: np.ndarray, plan: IndexPlan, *, seed: int = 0):  # -> faiss.Index
    import faiss

    started = time.perf_counter()
    dim = vectors.shape[1]
    flat = faiss.IndexFlatIP(dim) if plan.metric == "ip" else faiss.IndexFlatL2(dim)
    if plan.kind == "flat":
        index = faiss.IndexIDMap2(flat)
    else:
        ivf = faiss.IndexIVFFlat(flat, dim, plan.nlist, _faiss_metric(plan.metric))
        ivf.cp.seed = seed
        sample = np.random.default_rng(seed).choice(len(vectors), size=plan.train_size, replace=False)
        ivf.train(np.ascontiguousarray(vectors[np.sort(sample)]))
        ivf.nprobe = plan.nprobe
        index = faiss.IndexIDMap2(ivf)  # the Python wrappers keep ivf and its quantizer alive
    if len(vectors):
        index.add_with_ids(np.ascontiguousarray(vectors), ids.astype(np.int64))
    if plan.kind == "ivf":
        tune_nprobe(index, vectors, ids, plan, seed=seed)
    plan.build_seconds = round(time.perf_counter() - started, 3)
    return index


def ivf_of(index):  # -> faiss.IndexIVF | None
    import faiss

    inner = faiss.downcast_index(index.index) if hasattr(index, "index") else index
    return inner if isinstance(inner, faiss.IndexIVF) else None


def similarity(queries: np.ndarray, block: np.ndarray, metric: str) -> np.ndarray:
    """Higher-is-better scores of every query against every row: inner product, or minus squared L2."""
    if metric == "ip":
        return queries @ block.T
    return -(np.sum(queries**2, axis=1)[:, None] - 2 * queries @ block.T + np.sum(block**2, axis=1)[None, :])


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    hits = sum(len(set(f[f >= 0].tolist()) & set(t.tolist())) for f, t in zip(found, truth, strict=True))
    return hits / truth.size


def tune_nprobe(index, vectors: np.ndarray, ids: np.ndarray, plan: IndexPlan, *, seed: int = 0) -> None:
    """Smallest power-of-two nprobe whose recall@10 on sample queries reaches ``TARGET_RECALL``."""
    ivf = ivf_of(index)
    assert ivf is not None
    rng = np.random.default_rng(seed + 1)
    pick = np.sort(rng.choice(len(vectors), size=min(TUNING_QUERIES, len(vectors)), replace=False))
    # Queries drawn from the corpus itself, each leaving itself out of both lists: a fair stand-in for a
    # new case from the same population (a stored vector would find itself too easily).
    queries = np.ascontiguousarray(vectors[pick], dtype=np.float32)
    truth = _drop_self(ids[exact_top_k(vectors, queries, 11, plan.metric)], ids[pick])
    nprobe, best = 1, 0.0
    while True:
        ivf.nprobe = nprobe
        _, found = index.search(queries, 11)
        best = recall(_drop_self(found, ids[pick]), truth)
        if best >= TARGET_RECALL or nprobe >= plan.nlist:
            break
        nprobe *= 2
    plan.nprobe, plan.recall_at_10 = nprobe, round(best, 4)


def _drop_self(found: np.ndarray, own: np.ndarray) -> np.ndarray:
    """Each row's first 10 ids other than the query's own id."""
    return np.stack([row[row != me][:10] for row, me in zip(found, own, strict=True)])


def exact_top_k(
    vectors: np.ndarray, queries: np.ndarray, k: int, metric: str, rows: int = 200_000
) -> np.ndarray:
    """Positions of the exact top ``k`` rows of ``vectors`` per query, in NumPy (the baseline), over row
    blocks so that a million vectors never need one giant score matrix."""
    best_pos = np.zeros((len(queries), 0), dtype=np.int64)
    best_score = np.zeros((len(queries), 0), dtype=np.float32)
    for start in range(0, len(vectors), rows):
        block = vectors[start : start + rows]
        if metric == "ip":
            scores = queries @ block.T
        else:
            scores = -(
                np.sum(queries**2, axis=1)[:, None]
                - 2 * queries @ block.T
                + np.sum(block**2, axis=1)[None, :]
            )
        kk = min(k, block.shape[0])
        top = np.argpartition(-scores, kk - 1, axis=1)[:, :kk]
        best_pos = np.concatenate([best_pos, top + start], axis=1)
        best_score = np.concatenate([best_score, np.take_along_axis(scores, top, axis=1)], axis=1)
        keep = np.argsort(-best_score, axis=1, kind="stable")[:, :k]
        best_pos = np.take_along_axis(best_pos, keep, axis=1)
        best_score = np.take_along_axis(best_score, keep, axis=1)
    return best_pos
