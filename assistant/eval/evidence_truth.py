"""What the demo generator planted in a merchant's documents, as evidence truth: which signal types its
documents state (from the truth table, never from a detector) and the statement figures it wrote.

Shared by the evaluation harness (the ``evidence`` scorer) and ``bench/evidence/measure_demo.py``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from models.demo_data.generate import PortfolioFiles

STATEMENT_TRUTH = {
    "fs_revenue": "revenue",
    "fs_net_income": "net_income",
    "fs_cash": "cash",
    "fs_total_assets": "total_assets",
}
RATIO_TRUTH = {"fs_current_ratio": "current_ratio"}
CHECKED_TYPES = ("going_concern", "litigation", "liquidity_stress", "revenue_decline", "delivery_delay")
OVERDRAFT_DAYS = 2
"""The generator writes one overdraft or returned-item event per two days with a negative balance."""
NEWS_TYPES = frozenset(
    {"complaint_surge", "regulatory_action", "delivery_delay", "chargeback_surge", "liquidity_stress"}
)


def _true(value: Any) -> bool:
    return str(value) == "True"


@dataclass(frozen=True)
class DemoTruth:
    """The generator's tables a demo measurement reads: merchants, truth, and each document's type."""

    merchants: pd.DataFrame
    truth: pd.DataFrame
    doc_types: dict[str, str]
    """doc id -> document type"""
    merchant_doc_types: dict[str, list[str]]
    """merchant id -> the types of its documents"""

    @classmethod
    def read(cls, files: PortfolioFiles) -> DemoTruth:
        merchants = pd.read_csv(files.merchants, dtype={"merchant_id": str, "mcc": str}).set_index(
            "merchant_id"
        )
        truth = pd.read_csv(files.truth, dtype=str).set_index("merchant_id")
        docs = pd.read_csv(files.documents, dtype=str)
        by_merchant: dict[str, list[str]] = {}
        for merchant, doc_type in zip(docs["merchant_id"], docs["doc_type"], strict=True):
            by_merchant.setdefault(str(merchant), []).append(str(doc_type))
        return cls(merchants, truth, dict(zip(docs["doc_id"], docs["doc_type"], strict=True)), by_merchant)

    def signals(self, merchant: str) -> dict[str, bool]:
        truth, record = pd.Series(self.truth.loc[merchant]), pd.Series(self.merchants.loc[merchant])
        return signal_truth(truth, record, self.merchant_doc_types.get(merchant, []))


def signal_truth(truth: pd.Series, merchant: pd.Series, doc_types: Iterable[str]) -> dict[str, bool]:
    """Per checked signal type (and ``adverse_news``), whether the merchant's documents state it.

    - going concern: the auditor's note was written so; litigation: a pending claim (a settled one is not);
    - liquidity stress (stated in a sentence): a supplier's overdue notice, or the going-concern note
      (liabilities exceed liquid resources);
    - overdrafts (shown by the bank statement's figures): a bank statement of a merchant with two or more
      days with a negative balance, or with supplier problems (two returned items are added);
    - revenue decline or losses: a negative net margin (the income statement shows a loss);
    - delayed delivery: pre-orders, or terms that charge in advance with fulfilment over 20 days;
    - adverse news: an adverse article (which of its stories is not recorded, so any news signal counts).
    """
    types = set(doc_types)
    return {
        "going_concern": _true(truth["going_concern"]),
        "litigation": _true(truth["litigation"]),
        "liquidity_stress": _true(truth["supplier_problems"]) or _true(truth["going_concern"]),
        "overdrafts": "bank_statement" in types
        and (float(merchant["negative_balance_days"]) >= OVERDRAFT_DAYS or _true(truth["supplier_problems"])),
        "revenue_decline": float(truth["net_margin"]) < 0,
        "delivery_delay": float(truth["preorder_months"] or 0) > 0
        or ("website_terms" in types and float(merchant["delivery_lag_days"]) > 20),
        "adverse_news": _true(truth["adverse_news"]),
    }


def statement_truth(truth: pd.Series) -> dict[str, float]:
    return {field: float(truth[column]) for column, field in {**STATEMENT_TRUTH, **RATIO_TRUTH}.items()}


def found_types(signals: Iterable[dict[str, str]], doc_types: dict[str, str]) -> dict[str, bool]:
    """Per checked type, whether a signal of that type was found outside news articles (liquidity stress: in
    a sentence; ``overdrafts``: from the bank statement's overdraft count); ``adverse_news``: whether a
    news article carries any adverse signal."""
    signals = list(signals)
    found = {
        t: any(
            s["type"] == t
            and doc_types.get(s["doc_id"]) != "news_article"
            and (t != "liquidity_stress" or s.get("source") == "rule")
            for s in signals
        )
        for t in CHECKED_TYPES
    }
    found["overdrafts"] = any(
        s["type"] == "liquidity_stress"
        and s.get("source") == "spread"
        and "overdraft" in s["sentence"].lower()
        for s in signals
    )
    found["adverse_news"] = any(
        doc_types.get(s["doc_id"]) == "news_article" and s["type"] in NEWS_TYPES for s in signals
    )
    return found


def spread_matches(spread: dict[str, Any], truth: dict[str, float]) -> dict[str, bool]:
    """Per truth field, whether the spread states it (figures to the unit, ratios to 0.001)."""
    figures, ratios = spread.get("figures", {}), spread.get("ratios", {})
    out = {}
    for field, expected in truth.items():
        if field in RATIO_TRUTH.values():
            got = ratios.get(field)
            out[field] = got is not None and abs(got - expected) <= 0.001
        else:
            got = figures.get(field, {}).get("value")
            out[field] = got is not None and abs(got - expected) <= 0.5
    return out
