"""Does a small classifier on MiniLM embeddings help the rules? Trained on the dev companies' labelled
sentences, measured on the test companies, two ways:

- confirmer: a rule's hit stands only when the classifier also says "signal" (cuts false alarms?);
- extender: a sentence no rule fires on becomes a signal of its nearest labelled example's type when the
  classifier is confident (finds what the rules miss?).

    python bench/evidence/signal_classifier_check.py [--json OUT]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from models.backends.embedders import load_embedder
from retrieval.evidence.signals import sentence_signals

LABELS = Path(__file__).resolve().parents[2] / "data" / "evidence" / "signals_10k.jsonl"


def prf(pairs: list[tuple[set[str], set[str]]]) -> dict[str, float]:
    tp = sum(len(p & g) for p, g in pairs)
    fp = sum(len(p - g) for p, g in pairs)
    fn = sum(len(g - p) for p, g in pairs)
    return {
        "precision": round(tp / (tp + fp), 3) if tp + fp else 0.0,
        "recall": round(tp / (tp + fn), 3),
        "tp": tp,
        "fp": fp,
        "fn": fn,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows = [json.loads(line) for line in LABELS.read_text().splitlines() if line.strip()]
    vectors = load_embedder(threads=2).embed([r["sentence"] for r in rows])
    dev = np.array([r["split"] == "dev" for r in rows])
    y = np.array([bool(r["labels"]) for r in rows])
    model = LogisticRegression(class_weight="balanced", max_iter=2000).fit(vectors[dev], y[dev])
    p = model.predict_proba(vectors)[:, 1]
    dev_pos = [i for i in np.flatnonzero(dev) if rows[i]["labels"]]
    result: dict[str, dict] = {}
    test = [i for i in range(len(rows)) if not dev[i]]
    rules = [(set(sentence_signals(rows[i]["sentence"])), set(rows[i]["labels"])) for i in test]
    result["rules"] = prf(rules)
    for threshold in (0.3, 0.5, 0.7):
        confirmed = [(pr if p[i] >= threshold else set(), g) for (pr, g), i in zip(rules, test, strict=True)]
        result[f"rules confirmed by classifier >= {threshold}"] = prf(confirmed)
    for threshold in (0.7, 0.8, 0.9):
        extended = []
        for (pr, g), i in zip(rules, test, strict=True):
            if not pr and p[i] >= threshold:
                nearest = max(dev_pos, key=lambda j: float(vectors[i] @ vectors[j]))
                pr = set(rows[nearest]["labels"])
            extended.append((pr, g))
        result[f"rules extended by classifier >= {threshold}"] = prf(extended)
    for name, r in result.items():
        print(
            f"{name:>42}: precision {r['precision']}, recall {r['recall']} (tp {r['tp']}, fp {r['fp']}, fn {r['fn']})"
        )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
