"""Embedding forms compared on speed and retrieval quality: which one for which use.

Forms (all from the installed all-MiniLM-L6-v2; nothing is downloaded):
  * ``minilm-float32``: sentence-transformers in float32 (the baseline: today's vectors on AVX2 CPUs);
  * ``minilm-auto``: the same in bfloat16 where the CPU has native bf16 kernels (skipped elsewhere);
  * ``onnx-float32`` / ``onnx-int8``: exported to ONNX offline, run by ONNX Runtime (int8: dynamic
    quantisation of the weights);
  * ``static``: a model2vec static model distilled offline from MiniLM (256 dimensions).

Quality, each form against the baseline, on the same texts:
  * passage search recall@10: the share of the baseline's top 10 that the form also returns,
    for 30 underwriter questions and 200 sentences taken from the corpus, searched over every chunk;
  * similar-case outcome AUC, two ways: ``narrative``: each labelled case's 10 nearest other cases
    by narrative vector alone (mean of its chunk vectors; a loan's description), their default
    rate as the score; ``library``: the product's case library (0.6 tabular profile + 0.4
    narrative, point in time: only cases decided earlier), queried for every case decided from
    ``TEST_FROM`` on. The baseline's own AUC is printed beside it; chance is 0.5.
Data: a generated demo portfolio (``--merchants``) and the Lending Club small-business loans in
``data/`` (their ``desc``).

Run: ``.venv/bin/python bench/compare_embedders.py [--merchants 1000] [--threads 2]``
Writes bench/results/embedders.json. Prefix with ``ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2``
to measure torch as an AVX2-only CPU runs it (ONNX Runtime and model2vec pick their own kernels).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.case.portfolio_documents import portfolio_sources
from bench.machine import describe, machine
from models.backends.embedders import Embedder, _embedded_minilm_path, load_embedder
from models.backends.fast_embedders import OnnxEmbedder, StaticEmbedder
from models.data.dataset import load_dataset
from models.data.spec import load_spec
from models.demo_data.generate import generate_portfolio
from retrieval.documents.ingest import ingest
from retrieval.similar_cases.library import CaseLibrary
from retrieval.similar_cases.weights import CaseWeights

REPO = Path(__file__).resolve().parents[1]
QUESTIONS = [
    "Is there any pending litigation against the company?",
    "What is the chargeback rate?",
    "How high are refunds compared with sales?",
    "Does the merchant take pre-orders or deliver late?",
    "What is the cash balance at the bank?",
    "Who are the owners of the business?",
    "Has the company missed a loan payment?",
    "What is the monthly processing volume?",
    "Are there customer complaints about undelivered goods?",
    "What does the business sell?",
    "Is revenue growing or declining?",
    "Are there tax liens or judgments?",
    "How long has the company been in business?",
    "What is the average ticket size?",
    "Does one customer account for most of the revenue?",
    "What is the return policy?",
    "Is the merchant subject to a regulator's inquiry?",
    "What are the payment terms with suppliers?",
    "How much debt does the company carry?",
    "Is there doubt about the company's ability to continue as a going concern?",
    "What is the fulfilment time for orders?",
    "Who is the processor the merchant used before?",
    "Why did the previous processor terminate the account?",
    "What industry is the merchant in?",
    "What are the seasonal patterns in sales?",
    "Are there disputes about subscription billing?",
    "What is the net profit margin?",
    "Has the bank account been overdrawn?",
    "Where is the company located?",
    "What reserve did the prior processor hold?",
]


def portfolio_corpus(
    merchants: int, workdir: Path, count: Callable[[list[str]], list[int]]
) -> dict[str, Any]:
    files = generate_portfolio(workdir / "portfolio", merchants=merchants, seed=23, progress=False)
    table = pd.read_csv(files.merchants, dtype={"merchant_id": str})
    cases = load_dataset(files.merchants, load_spec("merchant_portfolio"), require_label=True)
    sources = portfolio_sources(files)
    result = ingest(sources, max_tokens=240, overlap_tokens=48, count=count, progress=False)
    labelled = table[table["status"] == "historical"]
    return {
        "texts": [c.embedding_text() for c in result.chunks],
        "owners": [str(c.merchant_id) for c in result.chunks],
        "labels": dict(zip(labelled["merchant_id"], labelled["default_12m"].astype(int), strict=True)),
        "dataset": cases,
        "test_from": "2024-01-01",
        "window_days": 365,
    }


def lending_club_corpus() -> dict[str, Any]:
    frame = pd.read_csv(REPO / "data" / "lc_small_business_2007_2010.csv", dtype={"row_key": str})
    frame = frame[frame["desc"].fillna("").str.strip().str.len() > 20]
    return {
        "texts": frame["desc"].astype(str).tolist(),
        "owners": frame["row_key"].tolist(),
        "labels": dict(zip(frame["row_key"], frame["default"].astype(int), strict=True)),
        "dataset": load_dataset(
            REPO / "data" / "lc_small_business_2007_2010.csv", load_spec("lending_club"), require_label=True
        ),
        "test_from": "2010-01-01",
        "window_days": 0,
    }


def sample_queries(texts: list[str], count: int) -> list[str]:
    rng = np.random.default_rng(7)
    picked = rng.choice(len(texts), size=min(count, len(texts)), replace=False)
    return [texts[i].split(". ")[0][:300] for i in picked]


def top10(corpus: np.ndarray, queries: np.ndarray) -> np.ndarray:
    scores = queries @ corpus.T
    return np.argsort(-scores, axis=1, kind="stable")[:, :10]


def knn_outcome_auc(vectors: np.ndarray, owners: list[str], labels: dict[str, int]) -> float:
    """Leave-one-out: each labelled case scored by the default rate of its 10 nearest other cases."""
    ids = sorted(labels)
    rows: dict[str, list[int]] = {}
    for i, owner in enumerate(owners):
        if owner in labels:
            rows.setdefault(owner, []).append(i)
    ids = [i for i in ids if i in rows]
    narrative = np.stack([vectors[rows[i]].mean(axis=0) for i in ids])
    narrative /= np.maximum(np.linalg.norm(narrative, axis=1, keepdims=True), 1e-12)
    y = np.array([labels[i] for i in ids])
    sims = narrative @ narrative.T
    np.fill_diagonal(sims, -np.inf)
    neighbours = np.argsort(-sims, axis=1)[:, :10]
    return float(roc_auc_score(y, y[neighbours].mean(axis=1)))


def library_auc(vectors: np.ndarray, corpus: dict[str, Any]) -> float:
    """The product's similar-case library (tabular profile + narrative, point in time): the default
    rate of each test-period case's 10 nearest earlier cases whose outcome was known, as its score."""
    dataset = corpus["dataset"]
    ids = dataset.ids.astype(str).tolist()
    rows: dict[str, list[int]] = {}
    for i, owner in enumerate(corpus["owners"]):
        rows.setdefault(owner, []).append(i)
    narrative = np.zeros((len(ids), vectors.shape[1]), dtype=np.float32)
    for r, case in enumerate(ids):
        if case in rows:
            mean = vectors[rows[case]].mean(axis=0)
            narrative[r] = mean / max(float(np.linalg.norm(mean)), 1e-12)
    spec = dataset.spec
    library = CaseLibrary.build(
        dataset.frame,
        case_ids=ids,
        decided_at=[d.date().isoformat() for d in dataset.dates],
        outcomes=dataset.labels.astype(int).tolist(),
        numeric=spec.numeric,
        categorical=spec.categorical,
        names=spec.names,
        text_vectors=narrative,
        weights=CaseWeights(0.6, 0.4),
        outcome_window_days=corpus["window_days"],
    )
    y, rates = [], []
    for case, when, outcome in zip(ids, dataset.dates, dataset.labels.astype(int), strict=True):
        if when.date().isoformat() < corpus["test_from"]:
            continue
        known = [h.outcome for h in library.similar(library.query_for_case(case), k=10, explain=0)]
        known = [o for o in known if o is not None]
        if known:
            y.append(outcome)
            rates.append(float(np.mean(known)))
    return float(roc_auc_score(y, rates))


def forms(cache: Path, threads: int) -> dict[str, Callable[[], Embedder]]:
    source = _embedded_minilm_path()
    base = load_embedder(threads=threads, precision="float32").model_id.rsplit("/", 1)[0]
    made: dict[str, Callable[[], Embedder]] = {
        "minilm-float32": lambda: load_embedder(threads=threads, precision="float32"),
        "onnx-float32": lambda: OnnxEmbedder(source, cache, base_id=base, int8=False, threads=threads),
        "onnx-int8": lambda: OnnxEmbedder(source, cache, base_id=base, int8=True, threads=threads),
        "static": lambda: StaticEmbedder(source, cache, base_id=base),
    }
    auto = load_embedder(threads=threads, precision="auto")
    if auto.model_id.endswith("bfloat16"):
        made = {"minilm-float32": made.pop("minilm-float32"), "minilm-bfloat16": lambda: auto, **made}
    return made


def measure(make: Callable[[], Embedder], corpora: dict[str, dict[str, Any]]) -> dict[str, Any]:
    started = time.perf_counter()
    embedder = make()
    out: dict[str, Any] = {
        "model_id": embedder.model_id,
        "first_load_s": round(time.perf_counter() - started, 1),
    }
    for name, corpus in corpora.items():
        texts = corpus["texts"]
        embedder.embed(texts[:64])  # warm-up
        started = time.perf_counter()
        vectors = embedder.embed(texts)
        seconds = time.perf_counter() - started
        queries = embedder.embed(corpus["queries"])
        out[name] = {
            "texts": len(texts),
            "texts_per_s": round(len(texts) / seconds, 1),
            "top10": top10(vectors, queries),
            "auc": knn_outcome_auc(vectors, corpus["owners"], corpus["labels"]),
            "library_auc": library_auc(vectors, corpus),
        }
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--merchants", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "embedders.json")
    args = parser.parse_args()
    info = machine()
    print(describe(info), flush=True)
    tokenizer_counter = load_embedder(threads=args.threads, precision="float32").count_tokens
    with tempfile.TemporaryDirectory() as tmp:
        corpora = {
            "portfolio": portfolio_corpus(args.merchants, Path(tmp), tokenizer_counter),
            "lending_club": lending_club_corpus(),
        }
        for corpus in corpora.values():
            corpus["queries"] = (QUESTIONS if corpus is corpora["portfolio"] else []) + sample_queries(
                corpus["texts"], 200
            )
        results = {
            name: measure(make, corpora) for name, make in forms(Path(tmp) / "models", args.threads).items()
        }
    baseline = results["minilm-float32"]
    table = []
    for name, r in results.items():
        row: dict[str, Any] = {"form": name, "model_id": r["model_id"], "first_load_s": r["first_load_s"]}
        for corpus in corpora:
            hits = [
                len(set(a) & set(b)) / 10
                for a, b in zip(r[corpus]["top10"], baseline[corpus]["top10"], strict=True)
            ]
            row[corpus] = {
                "texts": r[corpus]["texts"],
                "texts_per_s": r[corpus]["texts_per_s"],
                "speedup": round(r[corpus]["texts_per_s"] / baseline[corpus]["texts_per_s"], 2),
                "recall_at_10": round(float(np.mean(hits)), 3),
                "narrative_auc": round(r[corpus]["auc"], 3),
                "library_auc": round(r[corpus]["library_auc"], 3),
            }
        table.append(row)
        p, lc = row["portfolio"], row["lending_club"]
        print(
            f"{name:15s} portfolio {p['texts_per_s']:7.1f}/s x{p['speedup']:<5} recall@10 {p['recall_at_10']:.3f} "
            f"AUC narrative {p['narrative_auc']:.3f} library {p['library_auc']:.3f} | lending club "
            f"{lc['texts_per_s']:7.1f}/s x{lc['speedup']:<5} recall@10 {lc['recall_at_10']:.3f} AUC narrative "
            f"{lc['narrative_auc']:.3f} library {lc['library_auc']:.3f} | first load {row['first_load_s']} s",
            flush=True,
        )
    args.out.write_text(
        json.dumps({"machine": info, "merchants": args.merchants, "forms": table}, indent=2) + "\n"
    )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
