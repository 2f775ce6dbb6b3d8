"""Precision and recall of the risk-signal detector on the hand-labelled 10-K sentences, per type and
split (``dev``: companies whose errors may be read to revise the rules; ``test``: never read).

    python bench/evidence/measure_signals.py [--errors dev] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from retrieval.evidence.signals import sentence_signals

LABELS = Path(__file__).resolve().parents[2] / "data" / "evidence" / "signals_10k.jsonl"


def prf(tp: int, fp: int, fn: int) -> dict[str, float | int | None]:
    return {
        "tp": tp, "fp": fp, "fn": fn,
        "precision": round(tp / (tp + fp), 3) if tp + fp else None,
        "recall": round(tp / (tp + fn), 3) if tp + fn else None,
    }  # fmt: skip


def measure(rows: list[dict], show_errors: str | None = None) -> dict[str, dict]:
    out = {}
    for split in ("dev", "test", "all"):
        tp: Counter[str] = Counter()
        fp: Counter[str] = Counter()
        fn: Counter[str] = Counter()
        for r in rows:
            if split != "all" and r["split"] != split:
                continue
            predicted, gold = set(sentence_signals(r["sentence"])), set(r["labels"])
            for t in predicted & gold:
                tp[t] += 1
            for t in predicted - gold:
                fp[t] += 1
            for t in gold - predicted:
                fn[t] += 1
            if split == show_errors and predicted != gold:
                print(
                    f"{r['id']:>4} gold={sorted(gold)} predicted={sorted(predicted)}: {r['sentence'][:220]}"
                )
        types = sorted(set(tp) | set(fp) | set(fn))
        out[split] = {
            "overall": prf(sum(tp.values()), sum(fp.values()), sum(fn.values())),
            "by_type": {t: prf(tp[t], fp[t], fn[t]) for t in types},
            "sentences": sum(1 for r in rows if split == "all" or r["split"] == split),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", choices=("dev",), help="print the dev split's errors (never test's)")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    rows = [json.loads(line) for line in LABELS.read_text().splitlines() if line.strip()]
    result = measure(rows, args.errors)
    for split, r in result.items():
        o = r["overall"]
        print(f"{split:>5}: {r['sentences']} sentences, precision {o['precision']}, recall {o['recall']} "
              f"(tp {o['tp']}, fp {o['fp']}, fn {o['fn']})")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
