"""Write the chat question set (``data/evidence/chat_questions.jsonl``): questions of fact with known
answers, from the demo generator's truth (10 merchants) and the hand-checked 10-K figures.

Phrasings rotate over several ways an underwriter asks; the answers come from the truth files, never
from the chat.

    python bench/evidence/chat_questions.py
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from assistant.eval.evidence_truth import signal_truth
from assistant.settings import load_settings
from assistant.workspace import Workspace

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "data" / "evidence" / "chat_questions.jsonl"
SPREADS = REPO / "data" / "evidence" / "spreads_10k.json"
FIGURES = {
    "fs_revenue": [
        "What was the revenue?",
        "How much did the business sell last year?",
        "What were total sales?",
    ],
    "fs_net_income": [
        "What was net income?",
        "Did the business make a profit, and how much?",
        "What is the bottom line on the income statement?",
    ],
    "fs_cash": ["How much cash does it have?", "What is the cash balance?", "Cash at year end?"],
    "fs_total_assets": ["What are the total assets?", "How big is the balance sheet (total assets)?"],
    "fs_current_ratio": [
        "What is the current ratio?",
        "Can it cover its current liabilities: current ratio?",
    ],
}
SIGNALS = {
    "litigation": ["Is there any pending litigation?", "Is the merchant being sued?", "Any lawsuits?"],
    "going_concern": ["Is there a going-concern doubt?", "Did the auditor raise going concern?"],
    "delivery_delay": ["Does it take pre-orders?", "Is there future-delivery exposure (pre-orders)?"],
}
FILING_FIGURES = {
    "revenue": ["What was the revenue?", "What were total sales?"],
    "net_income": ["What was net income?", "How much did the company earn (net income)?"],
    "cash": ["How much cash does it have?", "What were cash and cash equivalents?"],
    "total_assets": ["What are the total assets?"],
}


def demo_questions() -> list[dict]:
    files = Workspace(load_settings()).portfolio
    merchants = pd.read_csv(files.merchants, dtype={"merchant_id": str, "mcc": str}).set_index("merchant_id")
    truth = pd.read_csv(files.truth, dtype=str).set_index("merchant_id")
    docs = pd.read_csv(files.documents, dtype=str).groupby("merchant_id")["doc_type"].apply(list).to_dict()
    applicants = list(merchants.index[merchants["status"] == "applicant"][:5])
    historical = list(merchants.index[merchants["status"] == "historical"][:5])
    out, turn = [], 0
    for merchant in applicants + historical:
        t = truth.loc[merchant]
        for column, phrasings in FIGURES.items():
            out.append(
                {
                    "set": "demo",
                    "case": merchant,
                    "question": phrasings[turn % len(phrasings)],
                    "kind": "ratio" if "ratio" in column else "figure",
                    "answer": float(t[column]),
                }
            )
            turn += 1
        signals = signal_truth(t, merchants.loc[merchant], docs.get(merchant, []))
        for kind, phrasings in SIGNALS.items():
            out.append(
                {
                    "set": "demo",
                    "case": merchant,
                    "question": phrasings[turn % len(phrasings)],
                    "kind": "signal",
                    "answer": bool(signals[kind]),
                }
            )
            turn += 1
    return out


def filing_questions() -> list[dict]:
    out, turn = [], 0
    for filing, fields in json.loads(SPREADS.read_text())["filings"].items():
        for field, value in fields.items():
            phrasings = FILING_FIGURES[field]
            out.append(
                {
                    "set": "sec_10k",
                    "case": filing,
                    "question": phrasings[turn % len(phrasings)],
                    "kind": "figure",
                    "answer": value,
                }
            )
            turn += 1
    return out


def main() -> None:
    rows = demo_questions() + filing_questions()
    OUT.write_text("".join(json.dumps(r) + "\n" for r in rows))
    print(f"{len(rows)} questions -> {OUT}")


if __name__ == "__main__":
    main()
