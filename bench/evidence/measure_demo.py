"""Signals and spreads on the whole demo portfolio, against the generator's truth (``truth.csv``).

Signal figures are per merchant and type: precision = merchants flagged that truly carry the fact;
recall = merchants carrying the fact that were flagged. Spread accuracy = truth fields stated exactly.

    python bench/evidence/measure_demo.py [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections import Counter
from pathlib import Path

from tqdm import tqdm

from assistant.case.documents import indexed_documents
from assistant.case.evidence import case_evidence
from assistant.eval.evidence_truth import DemoTruth, found_types, spread_matches, statement_truth
from assistant.settings import load_settings
from assistant.workspace import Workspace
from retrieval.vector_store.store import VectorStore


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    workspace = Workspace(load_settings())
    store = VectorStore.load(workspace.documents_index_dir)
    demo = DemoTruth.read(workspace.portfolio)
    merchants, truth = demo.merchants, demo.truth
    counts: Counter[tuple[str, str]] = Counter()
    fields: Counter[tuple[str, bool]] = Counter()
    started = time.perf_counter()
    for merchant in tqdm(merchants.index, desc="merchants", disable=None, mininterval=5):
        documents = indexed_documents(store, merchant)
        evidence = case_evidence(
            documents, {"requested_amount": float(merchants.at[merchant, "requested_amount"])}
        )
        expected = demo.signals(merchant)
        found = found_types(evidence.signals, demo.doc_types)
        for kind, is_true in expected.items():
            counts[
                (kind, ("tp" if found[kind] else "fn") if is_true else ("fp" if found[kind] else "tn"))
            ] += 1
        for field, ok in spread_matches(evidence.spread, statement_truth(truth.loc[merchant])).items():
            fields[(field, ok)] += 1
    seconds = time.perf_counter() - started
    signals = {}
    for kind in sorted({k for k, _ in counts}):
        tp, fp, fn = counts[(kind, "tp")], counts[(kind, "fp")], counts[(kind, "fn")]
        signals[kind] = {
            "tp": tp,
            "fp": fp,
            "fn": fn,
            "precision": round(tp / (tp + fp), 3) if tp + fp else None,
            "recall": round(tp / (tp + fn), 3) if tp + fn else None,
        }
    spread = {
        f: round(fields[(f, True)] / (fields[(f, True)] + fields[(f, False)]), 4) for f, _ in sorted(fields)
    }
    result = {
        "cpu": platform.processor() or platform.machine(),
        "merchants": len(merchants),
        "seconds": round(seconds, 1),
        "signals": signals,
        "spread_accuracy": spread,
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
