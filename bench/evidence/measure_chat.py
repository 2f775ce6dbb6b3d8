"""The chat on questions of fact with known answers (``data/evidence/chat_questions.jsonl``): share answered
correctly, wrongly, and declined, per set, with the embedded LLM behind the document search.

An answer is correct when a figure in it is within 1% of the truth (ratios within 0.01) or, for a yes/no
signal question, when it says Yes/No as the truth does; wrong when it states another figure or the opposite;
declined otherwise. 10-K questions need the filings indexed first (data/sec_10k/README.md).

    python bench/evidence/measure_chat.py [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import time
from collections import Counter
from pathlib import Path

from assistant.backends import open_embedder, open_llm
from assistant.case.source import CaseSource
from assistant.chat import ChatSession
from assistant.chat_facts import TEXT_SOURCED
from assistant.settings import load_settings
from retrieval.passages import DocumentIndex

REPO = Path(__file__).resolve().parents[2]
QUESTIONS = REPO / "data" / "evidence" / "chat_questions.jsonl"
NUMBER = re.compile(r"(-)?\$?(-)?(\d[\d,]*(?:\.\d+)?)\s*(million|billion|thousand)?(×|%)?", re.IGNORECASE)
SCALE = {"thousand": 1e3, "million": 1e6, "billion": 1e9}
QUOTED = ("From the documents:", TEXT_SOURCED)
"""Replies that quote a passage rather than state an answer (the chat's extractive fallback, a figure read
from a sentence rather than a statement line)."""
SOURCES = {"demo": {}, "sec_10k": {"spec": "sec_10k", "data": str(REPO / "data" / "sec_10k" / "filings.csv")}}


def numbers(text: str) -> list[tuple[float, str]]:
    out = []
    for sign1, sign2, digits, scale, suffix in NUMBER.findall(re.sub(r"\[[A-Z]\d+\]", "", text)):
        value = float(digits.replace(",", "")) * SCALE.get(scale.lower(), 1.0)
        out.append((-value if sign1 or sign2 else value, suffix))
    return out


def verdict(question: dict, answer: str) -> str:
    if answer.startswith("Passages:"):  # the list of passages searched is not a claim; the answer follows it
        answer = answer.partition("\n")[2].strip()
    if question["kind"] == "signal":
        said = "yes" if answer.startswith("Yes") else "no" if answer.startswith("No ") else None
        if said is None:
            return "declined"
        return "correct" if (said == "yes") == question["answer"] else "wrong"
    expected = question["answer"]
    found = [v for v, suffix in numbers(answer) if suffix != "%" or question["kind"] == "ratio"]
    close = 0.01 if question["kind"] == "ratio" else 0.01 * abs(expected)
    if any(abs(v - expected) <= close for v in found):
        return "correct"
    if answer.startswith(
        QUOTED
    ):  # a sentence quoted as evidence asserts no answer: without the figure, a decline
        return "declined"
    return (
        "wrong"
        if found and not answer.startswith(("The documents found do not", "No document"))
        else "declined"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    settings = load_settings()
    llm, embedder = open_llm(settings), open_embedder(settings)
    questions = [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line.strip()]
    sources = {name: CaseSource(settings, **kwargs) for name, kwargs in SOURCES.items()}
    indexes = {
        n: DocumentIndex.load(s.documents_dir, embedder) if s.store else None for n, s in sources.items()
    }
    counts: Counter[tuple[str, str]] = Counter()
    rows, started = [], time.perf_counter()
    for q in questions:
        chat = ChatSession(sources[q["set"]], q["case"], llm, document_index=indexes[q["set"]])
        answer = "".join(chat.ask(q["question"]))
        v = verdict(q, answer)
        counts[(q["set"], v)] += 1
        rows.append({**q, "tool": chat.history[-1].tool, "verdict": v, "reply": answer[:600]})
    summary = {}
    for name in SOURCES:
        total = sum(n for (s, _), n in counts.items() if s == name)
        summary[name] = {v: round(counts[(name, v)] / total, 3) for v in ("correct", "wrong", "declined")} | {
            "questions": total
        }
    result = {
        "cpu": platform.processor() or platform.machine(),
        "seconds": round(time.perf_counter() - started, 1),
        "summary": summary,
        "rows": rows,
    }
    for r in rows:
        if r["verdict"] != "correct":
            reply = r["reply"].partition("\n")[2] if r["reply"].startswith("Passages:") else r["reply"]
            print(
                f"{r['verdict']:>8} {r['set']} {r['case']} {r['question']!r} (truth {r['answer']}) -> {reply[:200]!r}"
            )
    print(json.dumps(summary, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
