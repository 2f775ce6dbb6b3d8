"""The case file: everything a memo or a chat answer may draw on, gathered before any LLM runs.

A :class:`CaseFile` holds the model's score, grade, band, policy flags and reason codes,
the key facts, the merchant's documents (chunks redacted of personal data, each with a
citation tag ``C1``, ``C2`` ...), similar past cases (tags ``S1`` ...), and the
contradictions found between what documents state and what the data says. It is plain
data (JSON in and out), stored with every memo so that ``audit replay`` can rebuild the
memo without the indexes.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from models.errors import UnderwriterError
from models.scoring.explanation import Explanation
from retrieval.documents.screening import FLAG_AT
from retrieval.similar_cases.search import SimilarReport


class Fact(BaseModel):
    key: str
    name: str
    value: Any
    shown: str = ""
    """The value as the spec's format reads it (12.23%, $1,430, 79 months, none); empty in files
    written before formats existed."""

    def text(self) -> str:
        return self.shown or ("none" if self.value is None else str(self.value))


class CaseChunk(BaseModel):
    tag: str
    chunk_id: str
    section: str
    citation: str
    text: str
    injection_score: float


class CaseDocument(BaseModel):
    doc_id: str
    doc_type: str
    title: str
    sha256: str
    injection_score: float
    injection_flags: list[dict[str, Any]]
    redactions: list[dict[str, str]]
    chunks: list[CaseChunk]

    @property
    def flagged(self) -> bool:
        return self.injection_score >= FLAG_AT


class SimilarRow(BaseModel):
    tag: str
    case_id: str
    decided_at: str
    outcome: int | None
    pd: float | None
    grade: str | None
    similarity: float
    closest: list[str]


class Contradiction(BaseModel):
    doc_id: str
    tag: str
    feature: str
    name: str
    stated: float
    recorded: float


class CaseHeader(BaseModel):
    """Which case, scored by which model, as of when: the head of a case file and of its memo."""

    case_id: str
    name: str | None
    dataset: str
    as_of: str | None
    generated_at: str
    model: dict[str, str]


class CaseEvidence(BaseModel):
    """What code found in the case's documents: risk signals (each quoting its sentence) and the financial
    spread (each figure with its passage, period and unit), with ratios and tie warnings."""

    signals: list[dict[str, str]] = Field(default_factory=list)
    spread: dict[str, Any] = Field(default_factory=dict)

    def figures(self) -> dict[str, dict[str, Any]]:
        return dict(self.spread.get("figures", {}))

    def ratios(self) -> dict[str, float]:
        return dict(self.spread.get("ratios", {}))


class CaseFile(CaseHeader):
    request: dict[str, Any]
    score: Explanation
    facts: list[Fact]
    documents: list[CaseDocument]
    similar: list[SimilarRow]
    similar_library: str | None
    contradictions: list[Contradiction]
    evidence: CaseEvidence = Field(default_factory=CaseEvidence)

    def scored_pd(self) -> float:
        """The model's PD; a clear error for a case no model scores (the screens that plot it need one)."""
        if self.score.pd is None:
            raise UnderwriterError(f"case {self.case_id} is not scored: no risk model covers {self.dataset}")
        return self.score.pd

    def chunk_sources(self) -> dict[str, str]:
        return {c.tag: c.text for d in self.documents for c in d.chunks}

    def similar_sources(self) -> dict[str, str]:
        return {s.tag: similar_line(s) for s in self.similar}

    def fact_values(self) -> dict[str, Any]:
        values: dict[str, Any] = {f.name: f.value for f in self.facts}
        values.update({f"request {k}": v for k, v in self.request.items()})
        values["as of"] = self.as_of
        values["similar cases"] = len(self.similar)
        known = [s.outcome for s in self.similar if s.outcome is not None]
        values["similar known outcomes"] = len(known)
        values["similar defaults"] = sum(known)
        if known:
            values["similar default rate"] = round(sum(known) / len(known), 4)
        values.update(
            {f"statement {k.replace('_', ' ')}": f["value"] for k, f in self.evidence.figures().items()}
        )
        values.update({f"ratio {k.replace('_', ' ')}": v for k, v in self.evidence.ratios().items()})
        return values


def similar_line(s: SimilarRow) -> str:
    outcome = {None: "outcome not yet known", 1: "defaulted", 0: "performed"}[s.outcome]
    pd_text = f", model PD {s.pd:.1%}" if s.pd is not None else ""
    return f"case {s.case_id}, decided {s.decided_at}, {outcome}{pd_text}, similarity {s.similarity:.2f}"


def similar_rows(report: SimilarReport | None) -> list[SimilarRow]:
    """The similar-case table of a case file (tags ``S1`` ...), from a search's hits."""
    if report is None:
        return []
    return [
        SimilarRow(
            tag=f"S{i}",
            case_id=h.case_id,
            decided_at=h.decided_at,
            outcome=h.outcome,
            pd=h.pd,
            grade=h.grade,
            similarity=round(h.similarity, 4),
            closest=[m.name for m in h.closest],
        )
        for i, h in enumerate(report.hits, start=1)
    ]
