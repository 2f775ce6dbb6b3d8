"""Embedding throughput and similar-case search at 10k, 100k and 1M cases.

Baselines, measured in the same run on the same data:
  * embedding: bare ``SentenceTransformer.encode`` on the raw chunk text, against our path
    (layout-stripped embedding text through the SQLite cache; then the same call again, all cache hits);
  * search: brute-force NumPy (exact) and FAISS exact (``IndexFlatL2``) against the case library
    (``CaseLibrary.similar``: IVF above ``exact_below``, tuned nprobe, plus the point-in-time filter,
    the self-exclusion and the per-feature explanation of every hit).

Case vectors are real-shaped: the tabular part comes from the portfolio generator's merchants
(``generate_merchants``), the narrative part from real MiniLM embeddings of real generated merchant
documents (a pool of a few hundred merchants; each synthetic case takes one plus 5% noise), because
embedding a million narratives would take the better part of an hour on two cores.

Run: ``.venv/bin/python bench/bench_retrieval.py [--sizes 10000 100000 1000000] [--queries 200]``
Writes bench/results/retrieval.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np
import pandas as pd

from models.backends.embedders import load_embedder
from models.data.spec import load_spec
from models.demo_data.generate import generate_portfolio
from models.demo_data.merchants import generate_merchants
from retrieval.documents.ingest import DocumentSource, ingest
from retrieval.embedding_cache import EmbeddingCache
from retrieval.similar_cases.library import CaseLibrary
from retrieval.vector_store.index_plan import exact_top_k, recall

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.machine import describe, machine

OUT = Path(__file__).resolve().parent / "results" / "retrieval.json"


def percentiles(seconds: list[float]) -> dict[str, float]:
    ms = np.asarray(seconds) * 1000
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 3),
        "p95_ms": round(float(np.percentile(ms, 95)), 3),
    }


def bench_embedding(tmp: Path, merchants: int) -> tuple[dict, np.ndarray, list[str]]:
    files = generate_portfolio(tmp / "pf", merchants=merchants, seed=5, progress=False)
    docs = pd.read_csv(files.documents, dtype=str)
    embedder = load_embedder(threads=2)
    result = ingest(
        [DocumentSource(files.root / r.path, r.doc_id, r.merchant_id, r.doc_type) for r in docs.itertuples()],
        workers=2,
        max_tokens=embedder.max_tokens - 16,
        count=embedder.count_tokens,
    )
    chunks = result.chunks
    raw = [c.text for c in chunks]
    prepared = [c.embedding_text() for c in chunks]
    model = embedder._model  # the bare sentence-transformers model: the baseline
    started = time.perf_counter()
    model.encode(raw, batch_size=64, normalize_embeddings=True)
    t_bare = time.perf_counter() - started
    cache = EmbeddingCache(embedder, tmp / "cache.sqlite")
    started = time.perf_counter()
    vectors = cache.embed(prepared)
    t_ours = time.perf_counter() - started
    started = time.perf_counter()
    cache.embed(prepared)
    t_cached = time.perf_counter() - started
    raw_tokens = sum(embedder.count_tokens(raw))
    our_tokens = sum(embedder.count_tokens(prepared))
    n = len(chunks)
    out = {
        "chunks": n,
        "mean_tokens_raw": round(raw_tokens / n, 1),
        "mean_tokens_embedded": round(our_tokens / n, 1),
        "bare_encode_chunks_per_s": round(n / t_bare, 1),
        "ours_chunks_per_s": round(n / t_ours, 1),
        "ours_tokens_per_s": round(our_tokens / t_ours),
        "ratio_time_ours_vs_bare": round(t_ours / t_bare, 3),
        "cache_hit_chunks_per_s": round(n / t_cached),
        "short_texts_per_s": None,
    }
    short = [" ".join(t.split()[:12]) for t in raw[:2000]]
    started = time.perf_counter()
    embedder.embed(short)
    out["short_texts_per_s"] = round(len(short) / (time.perf_counter() - started), 1)
    print(
        f"embedding {n:,} chunks ({out['mean_tokens_raw']} tokens raw, {out['mean_tokens_embedded']} embedded): "
        f"bare encode {out['bare_encode_chunks_per_s']}/s, ours {out['ours_chunks_per_s']}/s "
        f"({out['ours_tokens_per_s']:,} tokens/s; time ratio {out['ratio_time_ours_vs_bare']}), "
        f"cache hits {out['cache_hit_chunks_per_s']:,}/s; 12-word texts {out['short_texts_per_s']}/s"
    )
    by_merchant: dict[str, list[int]] = {}
    for i, c in enumerate(chunks):
        by_merchant.setdefault(str(c.merchant_id), []).append(i)
    pool = np.stack([vectors[ix].mean(axis=0) for ix in by_merchant.values()])
    pool /= np.linalg.norm(pool, axis=1, keepdims=True)
    return out, pool, embedder.model_id


def synthetic_cases(
    n: int, pool: np.ndarray, seed: int
) -> tuple[pd.DataFrame, np.ndarray, list[str], list[int]]:
    rng = np.random.default_rng(seed)
    frame = generate_merchants(n, rng).merchants.reset_index(drop=True)
    text = pool[rng.integers(0, len(pool), n)] + 0.05 * rng.standard_normal((n, pool.shape[1])).astype(
        np.float32
    )
    text /= np.linalg.norm(text, axis=1, keepdims=True)
    days = rng.integers(0, 4 * 365, n)
    dates = (np.datetime64("2021-01-01") + days.astype("timedelta64[D]")).astype(str).tolist()
    outcomes = rng.integers(0, 2, n).tolist()
    return frame, text.astype(np.float32), dates, outcomes


def bench_size(n: int, pool: np.ndarray, embedder_id: str, queries: int) -> dict:
    spec = load_spec("merchant_portfolio")
    frame, text, dates, outcomes = synthetic_cases(n, pool, seed=n)
    started = time.perf_counter()
    library = CaseLibrary.build(
        frame,
        case_ids=[f"C{i}" for i in range(n)],
        decided_at=dates,
        outcomes=outcomes,
        numeric=spec.numeric,
        categorical=spec.categorical,
        names=spec.names,
        text_vectors=text,
        embedder_id=embedder_id,
    )
    library.store.ensure_index()
    t_build = time.perf_counter() - started
    plan = library.store.plan
    assert plan is not None
    vectors = library.store.vectors

    q_frame, q_text, _, _ = synthetic_cases(queries, pool, seed=n + 1)
    query_objs = [
        library.query_for(q_frame.iloc[[i]], text_vector=q_text[i], merchant_id=f"Q{i}")
        for i in range(queries)
    ]
    qv = np.stack([q.vector for q in query_objs]).astype(np.float32)

    # baselines: exact brute force in NumPy, and FAISS exact
    numpy_times = []
    for i in range(min(queries, 50)):
        started = time.perf_counter()
        exact_top_k(vectors, qv[i : i + 1], 10, "l2")
        numpy_times.append(time.perf_counter() - started)
    flat = faiss.IndexFlatL2(vectors.shape[1])
    flat.add(vectors)
    flat_times = []
    for i in range(queries):
        started = time.perf_counter()
        flat.search(qv[i : i + 1], 10)
        flat_times.append(time.perf_counter() - started)
    _, truth = flat.search(qv, 10)
    del flat

    # ours: the store search (FAISS index + id mapping), then the full library call
    store_times, found = [], []
    for i in range(queries):
        started = time.perf_counter()
        ids, _ = library.store.search_ids(qv[i : i + 1], 10, None)
        store_times.append(time.perf_counter() - started)
        found.append(ids[0])
    full_times, filtered_times = [], []
    for q in query_objs:
        started = time.perf_counter()
        library.similar(q, k=10, as_of="2100-01-01")
        full_times.append(time.perf_counter() - started)
    for q in query_objs:
        started = time.perf_counter()
        library.similar(q, k=10, as_of="2023-01-01")  # point in time: about half the cases eligible
        filtered_times.append(time.perf_counter() - started)
    rec = recall(np.asarray(found), truth)
    result = {
        "cases": n,
        "dim": int(vectors.shape[1]),
        "plan": plan.to_dict(),
        "build_s": round(t_build, 2),
        "numpy_bruteforce": percentiles(numpy_times),
        "faiss_exact": percentiles(flat_times),
        "store_search": percentiles(store_times),
        "similar_full": percentiles(full_times),
        "similar_as_of_filtered": percentiles(filtered_times),
        "recall_at_10_vs_exact": round(rec, 4),
    }
    result["speedup_p50_vs_numpy"] = round(
        result["numpy_bruteforce"]["p50_ms"] / result["store_search"]["p50_ms"], 1
    )
    result["speedup_p50_vs_faiss_exact"] = round(
        result["faiss_exact"]["p50_ms"] / result["store_search"]["p50_ms"], 1
    )
    print(
        f"{n:>9,} cases ({plan.kind}, nlist {plan.nlist}, nprobe {plan.nprobe}; build {t_build:.1f}s): "
        f"numpy {result['numpy_bruteforce']['p50_ms']:.2f} ms | faiss exact {result['faiss_exact']['p50_ms']:.2f} ms | "
        f"ours {result['store_search']['p50_ms']:.3f} ms p50 / {result['store_search']['p95_ms']:.3f} p95 "
        f"({result['speedup_p50_vs_numpy']}x numpy, {result['speedup_p50_vs_faiss_exact']}x faiss exact), "
        f"recall@10 {rec:.3f}; full similar() {result['similar_full']['p50_ms']:.2f} ms, "
        f"as-of filtered {result['similar_as_of_filtered']['p50_ms']:.2f} ms"
    )
    return result


def main() -> None:
    print(describe(), flush=True)
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument(
        "--merchants", type=int, default=500, help="portfolio merchants whose documents are embedded"
    )
    args = parser.parse_args()
    faiss.omp_set_num_threads(2)
    tmp = Path(tempfile.mkdtemp())
    results: dict = {
        "machine": machine(),
        "faiss": faiss.__version__,
        "threads": 2,
        "command": "bench/bench_retrieval.py "
        + " ".join(f"--sizes {' '.join(map(str, args.sizes))}".split()),
    }
    results["embedding"], pool, embedder_id = bench_embedding(tmp, args.merchants)
    results["search"] = [bench_size(n, pool, embedder_id, args.queries) for n in args.sizes]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
