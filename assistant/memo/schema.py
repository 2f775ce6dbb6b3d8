"""The memo as data: its sections, each LLM-written section with where its text came from."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from assistant.case.schema import CaseHeader, Fact, SimilarRow

MEMO_FORMAT = 1


class SectionText(BaseModel):
    sentences: list[str]
    source: Literal["llm", "extractive", "quoted", "none"]
    """``llm``: validated LLM sentences; ``extractive``: the LLM's failed, quoted instead;
    ``quoted``: table rows quoted without asking the LLM; ``none``: nothing to state."""
    dropped: list[dict[str, Any]]


class DocumentFinding(BaseModel):
    doc_id: str
    title: str
    doc_type: str
    tags: list[str]
    flagged: bool
    summary: SectionText


class Memo(CaseHeader):
    memo_format: int = MEMO_FORMAT
    llm: dict[str, Any]
    prompts: list[dict[str, Any]]
    request: dict[str, Any]
    decision: dict[str, Any]
    metrics: list[Fact]
    reasons: list[dict[str, str]]
    business_summary: SectionText
    findings: list[DocumentFinding]
    similar: list[SimilarRow]
    comparison: SectionText
    risks: list[str]
    mitigants: list[str]
    integrity: list[str]
    recommendation: dict[str, Any]
    sources: list[dict[str, str]]
    validation: dict[str, dict[str, int]]
    signals: list[dict[str, str]] = Field(default_factory=list)
    """Risk signals found in the documents by code, each quoting its sentence (``case.evidence``)."""
    spread: dict[str, Any] = Field(default_factory=dict)
    """The financial spread: figures with their passages, ratios, tie warnings."""
    recourse: dict[str, Any] = Field(default_factory=dict)
    """For a refer or decline: the smallest actionable changes reaching the next better band."""
