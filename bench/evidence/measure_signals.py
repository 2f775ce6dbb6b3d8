"""Precision and recall of the risk-signal detector on the hand-labelled 10-K sentences, per type and
split (``dev``: companies whose errors may be read to revise the rules; ``test``: never read).

    python bench/evidence/measure_signals.py [--errors dev] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import zipfile
from collections import Counter
from pathlib import Path

import pandas as pd

from retrieval.evidence.sentences import prose_sentences
from retrieval.evidence.signals import Passage, find_signals, sentence_signals

REPO = Path(__file__).resolve().parents[2]
LABELS = REPO / "data" / "evidence" / "signals_10k.jsonl"
SEC = REPO.parent / "shared" / "data" / "sec_10k"


def detected(sentence: str) -> set[str]:
    """The signal types the product finds in a passage holding just this sentence (the same path as a memo:
    sentence rules, and sentences that are orders to a model or exhibit references left out)."""
    return {s.type for s in find_signals([Passage("C1", "D1", "D1", sentence)])}


def prf(tp: int, fp: int, fn: int) -> dict[str, float | int | None]:
    return {
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "precision": round(tp / (tp + fp), 3) if tp + fp else None,
        "recall": round(tp / (tp + fn), 3) if tp + fn else None,
    }


def measure(rows: list[dict], show_errors: str | None = None) -> dict[str, dict]:
    out = {}
    for split in ("dev", "test", "all"):
        tp: Counter[str] = Counter()
        fp: Counter[str] = Counter()
        fn: Counter[str] = Counter()
        for r in rows:
            if split != "all" and r["split"] != split:
                continue
            predicted, gold = detected(r["sentence"]), set(r["labels"])
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


def going_concern_filings() -> list[dict]:
    """Every shared filing whose index says it mentions going concern: each sentence that does, and whether
    the detector calls it a going-concern signal."""
    index = pd.read_csv(SEC / "index.csv")
    out = []
    with zipfile.ZipFile(SEC / "filings_dev.zip") as archive:
        for member in index.loc[index["mentions_going_concern"] == 1, "zip_member"]:
            filing = json.loads(archive.read(member))
            mentions = [
                {"item": item, "sentence": sentence, "signal": "going_concern" in sentence_signals(sentence)}
                for item, text in filing.items()
                if item.startswith("item_") and isinstance(text, str)
                for sentence in prose_sentences(text)
                if "going concern" in sentence.lower()
            ]
            out.append({"filing": Path(member).stem, "mentions": mentions})
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
        print(
            f"{split:>5}: {r['sentences']} sentences, precision {o['precision']}, recall {o['recall']} "
            f"(tp {o['tp']}, fp {o['fp']}, fn {o['fn']})"
        )
    going = going_concern_filings()
    for g in going:
        flagged = sum(m["signal"] for m in g["mentions"])
        print(
            f"going concern: {g['filing']}: {len(g['mentions'])} sentence(s) mention it, {flagged} called a signal"
        )
    result["going_concern_filings"] = going
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
