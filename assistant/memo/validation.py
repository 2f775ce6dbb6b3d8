"""Check every sentence an LLM wrote before it reaches a memo or a chat answer.

A sentence is kept only if:

* every number in it matches a fact of the case or a number in a passage it cites,
  after normalising units (``7.3%`` = ``0.073``), thousands separators, currency signs
  and magnitudes (``$1.2 million`` = ``1,200,000``), at the precision the sentence shows
  (``7%`` matches 0.0734; ``7.9%`` does not);
* every date in it appears in the facts or a cited passage;
* every citation tag in it (``[C1]``) exists, and a section that needs citations has one;
* it asserts no decision band or grade other than the model's, and states no probability
  of default other than the model's; narrative about documents passes no verdict at all
  (``should be approved``, ``low risk``), since verdicts come from the model and policy;
* where asked (document summaries, chat answers), most of its content words occur in the
  passage it cites, since a sentence about a document should be drawn from it;
* it does not repeat an instruction aimed at a model (the echo of an injection attempt);
* it is a finished sentence (a tiny model stopped at its token limit mid-sentence often).

Failing sentences are dropped with their reasons; callers log them and fall back to
an extractive summary when too little survives.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from retrieval.documents.screening import FLAG_AT, instruction_score

if TYPE_CHECKING:
    from assistant.case.schema import CaseFile

CITATION_RE = re.compile(r"\[\s*([A-Z]{1,2}\d{1,3}(?:\s*[,;]\s*[A-Z]{1,2}\d{1,3})*)\s*\]")
ISO_DATE_RE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
NUMBER_RE = re.compile(
    r"(?<![\d.,])(?P<neg>(?<![\w])[-−])?(?P<cur>[$€£])?\s?(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
    r"(?:\s?(?P<suffix>%|percent\b|per\s?cent\b|bps?\b|basis\s+points\b|k\b|K\b|thousand\b|m\b|M\b|mn\b|"
    r"million\b|bn\b|billion\b))?(?!\d)"
)
MULTIPLIERS = {
    "k": 1e3,
    "thousand": 1e3,
    "m": 1e6,
    "mn": 1e6,
    "million": 1e6,
    "bn": 1e9,
    "billion": 1e9,
}
PERCENT_SUFFIXES = {"%", "percent", "per cent"}

BAND_WORDS: dict[str, str] = {
    "approve": "approve",
    "approved": "approve",
    "approval": "approve",
    "approving": "approve",
    "decline": "decline",
    "declined": "decline",
    "declining": "decline",
    "reject": "decline",
    "rejected": "decline",
    "rejection": "decline",
    "deny": "decline",
    "denied": "decline",
    "refer": "refer",
    "referred": "refer",
    "referral": "refer",
    "escalate": "refer",
    "escalated": "refer",
}
_WORDS = "|".join(sorted(BAND_WORDS, key=len, reverse=True))
DECISION_RE = re.compile(
    rf"\b(?:recommend(?:s|ed|ation)?(?:\s+is|\s+of|\s+to)?|should|must|will|would|could|can|to|we)\s+"
    rf"(?:not\s+)?(?:be\s+)?(?P<a>{_WORDS})\b"
    rf"|\b(?P<b>{_WORDS})\s+(?:this|the|their|its)\s+(?:merchant|applicant|application|loan|request|case|"
    rf"business|company|borrower)\b"
    rf"|\b(?:merchant|applicant|application|loan|request|case|borrower|decision|band|outcome)\s+(?:is|was|"
    rf"has\s+been|should\s+be|will\s+be|be|:|=)\s+(?P<c>{_WORDS})\b",
    re.IGNORECASE,
)
"""A decision stated about the case (``should be declined``), not ``revenue declined``."""
RISK_VERDICT_RE = re.compile(
    r"\b(?:low|minimal|no|zero|little|negligible|acceptable|high|elevated|significant)[\s-]+(?:credit\s+)?risk\b",
    re.IGNORECASE,
)
"""A risk verdict (``low risk``): narrative about documents must not pass judgement on the case."""
GRADE_RE = re.compile(r"\b(?i:grade|graded|rated|rating(?:\s+of)?)\s*[:=]?\s*[\"'“]?([A-Z])\b(?![\w'])")
PD_RE = re.compile(r"\b(?:probability\s+of\s+default|default\s+probability|PD)\b", re.IGNORECASE)
SENTENCE_END = (".", "!", "?", ".)", '."', ".”", ".]")


@dataclass(frozen=True)
class Quantity:
    """A number as written: its value and the step of its last shown digit (``7.3%`` -> 7.3, 0.1)."""

    value: float
    step: float
    percent: bool
    text: str

    def matches(self, other: float) -> bool:
        """Does ``other`` (a fact or a number from a source) round to this quantity as written?"""
        candidates = (other, other * 100, other / 100) if not math.isnan(other) else ()
        tolerance = self.step / 2 + 1e-9 * max(1.0, abs(self.value))
        return any(abs(c - self.value) <= tolerance for c in candidates)


def quantities(text: str) -> list[Quantity]:
    """Every number in ``text`` (citation tags and ISO dates excluded), normalised."""
    text = ISO_DATE_RE.sub(" ", CITATION_RE.sub(" ", text))
    found = []
    for m in NUMBER_RE.finditer(text):
        digits = m.group("num").replace(",", "")
        value = float(digits)
        decimals = len(digits.split(".")[1]) if "." in digits else 0
        step = 10.0**-decimals
        suffix = (m.group("suffix") or "").lower()
        suffix = re.sub(r"\s+", " ", suffix)
        multiplier = MULTIPLIERS.get(suffix, 1.0)
        if suffix in {"bp", "bps", "basis points"}:
            value, step = value / 100, step / 100  # basis points -> percent
        percent = suffix in PERCENT_SUFFIXES or suffix in {"bp", "bps", "basis points"}
        sign = -1.0 if m.group("neg") else 1.0
        found.append(Quantity(sign * value * multiplier, step * multiplier, percent, m.group(0).strip()))
    return found


def dates(text: str) -> list[str]:
    return [m.group(0) for m in ISO_DATE_RE.finditer(text)]


def citations(text: str) -> list[str]:
    tags: list[str] = []
    for m in CITATION_RE.finditer(text):
        tags.extend(t.strip() for t in re.split(r"[,;]", m.group(1)))
    return tags


def split_sentences(text: str) -> list[str]:
    """Sentences of LLM output; bullets and numbering stripped, lone citation tags re-attached."""
    pieces: list[str] = []
    for line in text.replace("\r", "").split("\n"):
        line = re.sub(r"^\s*(?:[-*•]+|\d{1,2}[.)])\s+", "", line).strip()
        if not line:
            continue
        for part in re.split(r"(?<=[.!?])\s+(?=[\"“(\[]?[A-Z0-9\[])", line):
            part = part.strip()
            if not part:
                continue
            if pieces and CITATION_RE.fullmatch(part.rstrip(".")):
                pieces[-1] = f"{pieces[-1]} {part}"
            else:
                pieces.append(part)
    return pieces


@dataclass(frozen=True)
class CaseTruth:
    """What a sentence may state: the model's decision and the case's facts."""

    band: str
    grade: str
    pd: float
    facts: Mapping[str, object] = field(default_factory=dict)

    def fact_numbers(self) -> list[float]:
        values = [self.pd]
        for value in self.facts.values():
            values.extend(_numbers_of(value))
        return values

    def fact_text(self) -> str:
        return " ".join(str(v) for v in self.facts.values())


def _numbers_of(value: object) -> list[float]:
    if isinstance(value, bool):
        return [float(value)]
    if isinstance(value, int | float):
        return [] if isinstance(value, float) and math.isnan(value) else [float(value)]
    if isinstance(value, str):
        return [q.value for q in quantities(value)] + (
            [q.value / 100 for q in quantities(value) if q.percent]
        )
    if isinstance(value, Mapping):
        return [n for v in value.values() for n in _numbers_of(v)]
    if isinstance(value, list | tuple):
        return [n for v in value for n in _numbers_of(v)]
    return []


SUPPORT_STOPWORDS = frozenset(
    [
        "that",
        "this",
        "with",
        "from",
        "have",
        "were",
        "been",
        "their",
        "there",
        "which",
        "about",
        "would",
        "could",
        "should",
        "into",
        "than",
        "then",
        "they",
        "them",
        "also",
        "such",
        "some",
        "more",
        "most",
        "other",
        "only",
        "over",
        "very",
        "what",
        "when",
        "where",
        "while",
        "will",
        "your",
        "these",
        "those",
        "merchant",
        "business",
        "company",
        "document",
        "passage",
        "text",
    ]
)


def support(sentence: str, source: str) -> float:
    """Share of the sentence's content words (4+ letters, 5-letter stems) that occur in ``source``."""
    words = [
        w
        for w in re.findall(r"[a-z]{4,}", CITATION_RE.sub("", sentence).lower())
        if w not in SUPPORT_STOPWORDS
    ]
    if not words:
        return 1.0
    known = {w[:5] for w in re.findall(r"[a-z]{4,}", source.lower())}
    return sum(w[:5] in known for w in words) / len(words)


@dataclass(frozen=True)
class Verdict:
    sentence: str
    reasons: tuple[str, ...]

    @property
    def kept(self) -> bool:
        return not self.reasons


@dataclass
class Checked:
    kept: list[str]
    dropped: list[Verdict]

    @property
    def text(self) -> str:
        return " ".join(self.kept)


def check_sentence(
    sentence: str,
    truth: CaseTruth,
    sources: Mapping[str, str],
    *,
    require_citation: bool = False,
    allowed_numbers: Iterable[float] = (),
    min_support: float = 0.0,
    allow_verdicts: bool = True,
) -> Verdict:
    """``sources``: citation tag -> the text it stands for (a passage, a similar-case row)."""
    reasons: list[str] = []
    stripped = sentence.strip()
    if len(CITATION_RE.sub("", stripped).split()) < 3:
        reasons.append("fragment")
    if not CITATION_RE.sub("", stripped).rstrip().endswith(SENTENCE_END):
        reasons.append("unfinished sentence")
    tags = citations(stripped)
    unknown = [t for t in tags if t not in sources]
    if unknown:
        reasons.append(f"cites {', '.join(unknown)}, which does not exist")
    if require_citation and not tags:
        reasons.append("no citation")
    cited = " ".join(sources[t] for t in tags if t in sources)
    if min_support and cited:
        share = support(stripped, cited)
        if share < min_support:
            reasons.append(f"not supported by the cited text ({share:.0%} of its words occur there)")
    allowed = [*truth.fact_numbers(), *allowed_numbers, *_numbers_of(cited)]
    for q in quantities(stripped):
        if not any(q.matches(a) for a in allowed):
            reasons.append(f"number {q.text!r} is not in the facts or the cited text")
    known_text = f"{truth.fact_text()} {cited}"
    for d in dates(stripped):
        if d not in known_text:
            reasons.append(f"date {d} is not in the facts or the cited text")
    for m in DECISION_RE.finditer(stripped):
        word = m.group("a") or m.group("b") or m.group("c")
        if BAND_WORDS[word.lower()] != truth.band:
            reasons.append(f"asserts '{word}' but the decision band is {truth.band}")
            break
    if not allow_verdicts:
        found = DECISION_RE.search(stripped) or RISK_VERDICT_RE.search(stripped)
        if found:
            reasons.append(f"passes a verdict ('{found.group(0)}'); verdicts come from the model and policy")
    for m in GRADE_RE.finditer(stripped):
        if m.group(1) != truth.grade:
            reasons.append(f"asserts grade {m.group(1)} but the model's grade is {truth.grade}")
    if PD_RE.search(stripped):
        for q in quantities(stripped):
            if q.percent and not q.matches(truth.pd):
                reasons.append(f"states a probability of default {q.text!r} that is not the model's")
    if instruction_score(stripped) >= FLAG_AT:
        reasons.append("repeats an instruction aimed at a model")
    return Verdict(stripped, tuple(dict.fromkeys(reasons)))


def check_text(
    text: str,
    truth: CaseTruth,
    sources: Mapping[str, str],
    *,
    require_citation: bool = False,
    allowed_numbers: Iterable[float] = (),
    max_sentences: int | None = None,
    min_support: float = 0.0,
    allow_verdicts: bool = True,
) -> Checked:
    """Split ``text`` into sentences and keep those that pass :func:`check_sentence` (deduplicated)."""
    allowed = list(allowed_numbers)
    kept: list[str] = []
    dropped: list[Verdict] = []
    seen: set[str] = set()
    for sentence in split_sentences(text):
        key = re.sub(r"\W+", " ", CITATION_RE.sub("", sentence)).strip().lower()
        if key in seen:
            continue
        seen.add(key)
        verdict = check_sentence(
            sentence,
            truth,
            sources,
            require_citation=require_citation,
            allowed_numbers=allowed,
            min_support=min_support,
            allow_verdicts=allow_verdicts,
        )
        if verdict.kept and (max_sentences is None or len(kept) < max_sentences):
            kept.append(verdict.sentence)
        elif not verdict.kept:
            dropped.append(verdict)
    return Checked(kept, dropped)


def truth_of(case: CaseFile) -> CaseTruth:
    return CaseTruth(band=case.score.band, grade=case.score.grade, pd=case.score.pd, facts=case.fact_values())
