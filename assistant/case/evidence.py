"""The case file's evidence: risk signals and the financial spread found in its documents by code
(:mod:`retrieval.evidence`), before any LLM runs."""

from __future__ import annotations

from typing import Any

from assistant.case.schema import CaseDocument, CaseEvidence
from retrieval.evidence.found import evidence_in
from retrieval.evidence.signals import Passage

REQUEST_AMOUNT_FIELDS = ("requested_amount", "loan_amnt")


def case_evidence(documents: list[CaseDocument], request: dict[str, Any]) -> CaseEvidence:
    passages = [Passage(c.tag, d.doc_id, c.citation, c.text) for d in documents for c in d.chunks]
    sections = {c.tag: f"{d.title} {c.section}" for d in documents for c in d.chunks}
    amount = next(
        (request[k] for k in REQUEST_AMOUNT_FIELDS if isinstance(request.get(k), int | float)), None
    )
    signals, spread = evidence_in(passages, sections, requested=float(amount) if amount else None)
    return CaseEvidence(signals=[s.to_dict() for s in signals], spread=spread.to_dict())
