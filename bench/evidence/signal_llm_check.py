"""Does the embedded LLM help as a constrained yes/no confirmer of the rules' hits? Each sentence a rule
fires on is put to the model with the signal's definition; the hit stands only on "yes". Measured on
every labelled 10-K sentence a rule fires on (both splits: the confirmer was never tuned on either).

    python bench/evidence/signal_llm_check.py [--json OUT]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from models.backends.llm import complete, load_llm
from retrieval.evidence.signals import sentence_signals
from retrieval.evidence.taxonomy import SIGNAL_TYPES

LABELS = Path(__file__).resolve().parents[2] / "data" / "evidence" / "signals_10k.jsonl"
SYSTEM = "You check one sentence from a company's annual report. Answer with one word: yes or no."


def ask(llm, sentence: str, kind: str) -> bool:
    question = (
        f"Definition: {SIGNAL_TYPES[kind].definition}\nSentence: {sentence}\n"
        "Does the sentence state that this has actually happened to the company (not that it might)? "
        "Answer yes or no."
    )
    reply = complete(llm, [("system", SYSTEM), ("user", question)], max_tokens=3).output
    return reply.strip().lower().startswith("yes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    llm = load_llm("llamacpp")
    rows = [json.loads(line) for line in LABELS.read_text().splitlines() if line.strip()]
    counts = {"rules": [0, 0, 0], "rules + LLM yes": [0, 0, 0]}  # tp, fp, fn
    for r in rows:
        gold = set(r["labels"])
        hits = set(sentence_signals(r["sentence"]))
        kept = {k for k in hits if ask(llm, r["sentence"], k)}
        for name, predicted in (("rules", hits), ("rules + LLM yes", kept)):
            counts[name][0] += len(predicted & gold)
            counts[name][1] += len(predicted - gold)
            counts[name][2] += len(gold - predicted)
    result = {}
    for name, (tp, fp, fn) in counts.items():
        result[name] = {
            "tp": tp,
            "fp": fp,
            "fn": fn,
            "precision": round(tp / (tp + fp), 3) if tp + fp else None,
            "recall": round(tp / (tp + fn), 3),
        }
        print(f"{name:>16}: {result[name]}")
    if args.json:
        args.json.write_text(json.dumps({"llm": llm.model_id, **result}, indent=2) + "\n")


if __name__ == "__main__":
    main()
