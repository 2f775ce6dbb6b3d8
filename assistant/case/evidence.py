"""The case file's evidence: risk signals and the financial spread found in its documents by code
(:mod:`retrieval.evidence`), before any LLM runs."""

from __future__ import annotations

from typing import Any

from assistant.case.schema import CaseDocument, CaseEvidence
from retrieval.evidence.signals import Passage, find_signals
from retrieval.evidence.spreads import build_spread, spread_signals

REQUEST_AMOUNT_FIELDS = ("requested_amount", "loan_amnt")
POLICY_TERM_MONTHS = 12
POLICY_ANNUAL_RATE = 0.18
"""The term and rate repayment capacity assumes for a request: a 12-month advance at 18% a year, the
demo policy's working assumption for merchant cash advances."""


def case_evidence(documents: list[CaseDocument], request: dict[str, Any]) -> CaseEvidence:
    passages = [Passage(c.tag, d.doc_id, c.citation, c.text) for d in documents for c in d.chunks]
    sections = {c.tag: f"{d.title} {c.section}" for d in documents for c in d.chunks}
    amount = next(
        (request[k] for k in REQUEST_AMOUNT_FIELDS if isinstance(request.get(k), int | float)), None
    )
    spread = build_spread(
        passages, sections, requested=float(amount) if amount else None,
        term_months=POLICY_TERM_MONTHS, annual_rate=POLICY_ANNUAL_RATE,
    )  # fmt: skip
    signals = find_signals(passages) + spread_signals(spread)
    return CaseEvidence(signals=[s.to_dict() for s in signals], spread=spread.to_dict())
