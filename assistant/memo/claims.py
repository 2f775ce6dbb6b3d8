"""What a sentence claims beyond its figures: a decision, a grade, a verdict, a polarity, a count.

Each function returns the reasons a sentence fails (empty when it passes), so the validator can
list every reason for a dropped sentence. The phrasings are those an LLM uses: ``the grade is A``,
``grade of A``, ``A-rated``, ``risk is low``, ``looks safe``, ``deserves approval``, ``nine of the
ten similar cases performed``, ``is not subject to litigation``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.memo.figures import spelled_out
from retrieval.documents.screening_rules import skeleton

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
    "denial": "decline",
    "refer": "refer",
    "referred": "refer",
    "referral": "refer",
    "escalate": "refer",
    "escalated": "refer",
}
_WORDS = "|".join(sorted(BAND_WORDS, key=len, reverse=True))
_SUBJECT = r"merchant|applicant|application|loan|request|case|business|company|borrower|firm|client"
DECISION_RE = re.compile(
    rf"\b(?:recommend(?:s|ed|ation)?(?:\s+is|\s+of|\s+to)?|should|must|will|would|could|can|to|we)\s+"
    rf"(?:not\s+)?(?:be\s+)?(?P<a>{_WORDS})\b"
    rf"|\b(?P<b>{_WORDS})\s+(?:this|the|their|its)\s+(?:{_SUBJECT})\b"
    rf"|\b(?:{_SUBJECT}|decision|band|outcome|verdict)\s+(?:is|was|has\s+been|should\s+be|will\s+be|be|:|=)\s+"
    rf"(?P<c>{_WORDS})\b"
    rf"|\b(?:deserv\w*|merit\w*|warrant\w*|justif\w*|qualif\w*\s+for|eligible\s+for|worthy\s+of|"
    rf"candidate\s+for|fit\s+for|ready\s+for|supports?|favou?rs?)\s+(?:an?\s+|the\s+)?(?P<d>{_WORDS})\b",
    re.IGNORECASE,
)
"""A decision stated about the case (``should be declined``, ``deserves approval``), not ``revenue declined``."""
_LEVEL = (
    r"low|lower|minimal|no|zero|little|negligible|acceptable|limited|modest|manageable|moderate|high|higher|"
)
_LEVEL += r"elevated|significant|substantial|severe|considerable"
RISK_VERDICT_RE = re.compile(
    rf"\b(?:{_LEVEL})[\s-]+(?:credit\s+|default\s+)?risk\b"
    rf"|\brisk\s+(?:level\s+)?(?:is|was|appears|seems|looks|remains|stays|appears\s+to\s+be|seems\s+to\s+be)\s+"
    rf"(?:\w+\s+)?(?:{_LEVEL}|small|large)\b"
    r"|\b(?:looks|appears|seems|is|remains|are)\s+(?:to\s+be\s+)?(?:very\s+|quite\s+|fairly\s+|relatively\s+)?"
    r"(?:safe|sound|creditworthy|credit-worthy|solid|healthy|risky|dangerous|trustworthy|reliable)\b"
    r"|\b(?:safe|good|strong|solid|poor|bad|weak|risky)\s+(?:credit\s+)?(?:candidate|borrower|bet|prospect|risk)\b"
    r"|\b(?:creditworthy|credit-worthy|low-risk|high-risk|risk-free)\b",
    re.IGNORECASE,
)
"""A judgement on the case (``low risk``, ``risk is low``, ``looks safe``): verdicts come from the model."""
GRADE_RES = (
    re.compile(
        r"\b(?i:grade[sd]?|rated|rating|graded)\s*(?i:is|was|of|at|as|=|:|would\s+be|should\s+be|remains)?\s*"
        r"(?i:an?\s+)?[\"'“(]?([A-Z])\b(?![\w'’-])"
    ),
    re.compile(r"(?<![\w-])([A-Z])[-‐](?i:rated|grade)\b"),
    re.compile(r"\b(?i:an?)\s+[\"'“]?([A-Z])[\"'”]?\s+(?i:grade|rating)\b"),
)
PD_RE = re.compile(r"\b(?:probability\s+of\s+default|default\s+probability|PD)\b", re.IGNORECASE)


def decision_reasons(sentence: str, band: str, *, allow_verdicts: bool) -> list[str]:
    reasons = []
    for m in DECISION_RE.finditer(sentence):
        word = next(g for g in m.groups() if g)
        if BAND_WORDS[word.lower()] != band:
            reasons.append(f"asserts '{word}' but the decision band is {band}")
            break
    if not allow_verdicts:
        found = DECISION_RE.search(sentence) or RISK_VERDICT_RE.search(sentence)
        if found:
            reasons.append(f"passes a verdict ('{found.group(0)}'); verdicts come from the model and policy")
    return reasons


ADDRESSES_RE = re.compile(
    r"\b(?:you|your|yours|yourself)\b|^\W*(?:please\s+|kindly\s+)?(?:ignore|disregard|forget|pay\s+no\s+attention|"
    r"set\s+aside|do\s+not|don't|stop|override|approve|rate|classify|describe|output|state|report|omit|leave\s+out|"
    r"give|treat|consider|confirm)\b",
    re.IGNORECASE,
)
"""A sentence that speaks to its reader (``you``) or gives an order: a memo states findings, never orders."""


def address_reasons(sentence: str) -> list[str]:
    found = ADDRESSES_RE.search(skeleton(sentence))
    return [f"addresses its reader ('{found.group(0).strip()}'): an order, not a finding"] if found else []


def grade_reasons(sentence: str, grade: str) -> list[str]:
    stated = {m.group(1) for rx in GRADE_RES for m in rx.finditer(sentence)}
    return [f"asserts grade {g} but the model's grade is {grade}" for g in sorted(stated) if g != grade]


# ---- polarity ------------------------------------------------------------------------------------

NEGATION_RE = re.compile(
    r"\b(?:not|no|never|none|nor|neither|without|cannot|absence|absent|free\s+of|lack\w*|denie[sd]|deny)\b|n't\b",
    re.IGNORECASE,
)
_CONTENT = re.compile(r"[a-z]{4,}")
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


def _stems(text: str) -> set[str]:
    return {w[:5] for w in _CONTENT.findall(text.lower()) if w not in SUPPORT_STOPWORDS}


def _negated(text: str) -> bool:
    return len(NEGATION_RE.findall(text)) % 2 == 1


def polarity_reasons(sentence: str, cited: str) -> list[str]:
    """A sentence that negates what the cited passage asserts, or asserts what it negates."""
    if not cited:
        return []
    claim = _stems(sentence)
    best, overlap = "", 0
    for part in re.split(r"(?<=[.!?;])\s+|\n+", cited):
        shared = len(claim & _stems(part))
        if shared > overlap:
            best, overlap = part, shared
    if overlap < 2 or _negated(sentence) == _negated(best):
        return []
    said = "negates" if _negated(sentence) else "asserts"
    return [f"{said} what the cited passage says the other way ('{' '.join(best.split())[:80]}')"]


# ---- counts of similar cases ---------------------------------------------------------------------


@dataclass(frozen=True)
class SimilarCounts:
    total: int
    known: int
    defaults: int

    @property
    def performed(self) -> int:
        return self.known - self.defaults


_QUANT = (
    r"(?P<q>none|no|zero|all|every|each|both|most|the\s+majority|a\s+majority|majority|half|"
    r"a\s+few|few|\d+)(?!\s+(?:similar|comparable|recent|relevant|closely|alike)\b)"
)
SIMILAR_RE = re.compile(
    rf"(?<!\bof\sthe\s)\b{_QUANT}\s+(?:of\s+(?:the|these|those|its|their)\s+)?(?:(?P<of>\d+)\s+)?(?:[\w-]+\s+){{0,3}}?"
    r"(?:cases|merchants|applicants|loans|borrowers|neighbou?rs|peers|precedents|comparables)\b(?P<rest>[^.;]*)",
    re.IGNORECASE,
)
SIMILAR_CONTEXT = re.compile(r"similar|comparable|past|peer|neighbou?r|precedent|closest", re.IGNORECASE)
DEFAULT_WORDS = re.compile(r"default|charged[\s-]off|went\s+bad|failed|written\s+off|loss", re.IGNORECASE)
PERFORM_WORDS = re.compile(r"perform|repaid|paid|good\s+standing|\bwell\b|current|no\s+default", re.I)


def _claimed(q: str, counts: SimilarCounts, of: int) -> tuple[int, int] | None:
    """The range ``(low, high)`` of cases a quantifier claims, out of ``of``."""
    q = " ".join(q.lower().split())
    if q.isdigit():
        return int(q), int(q)
    return {
        "none": (0, 0),
        "no": (0, 0),
        "zero": (0, 0),
        "all": (of, of),
        "every": (of, of),
        "each": (of, of),
        "both": (2, 2) if of == 2 else (of + 1, of + 1),
        "most": (of // 2 + 1, of),
        "the majority": (of // 2 + 1, of),
        "a majority": (of // 2 + 1, of),
        "majority": (of // 2 + 1, of),
        "half": (of // 2, (of + 1) // 2),
        "a few": (1, max(1, of // 2)),
        "few": (0, max(0, of // 2)),
    }.get(q)


def similar_count_reasons(sentence: str, counts: SimilarCounts | None) -> list[str]:
    """``Nine of the ten similar cases performed``: the counts must be the similar-case table's."""
    if counts is None or not SIMILAR_CONTEXT.search(sentence):
        return []
    reasons = []
    for m in SIMILAR_RE.finditer(spelled_out(sentence)):
        of = int(m.group("of")) if m.group("of") else counts.known
        if m.group("of") and of not in {counts.total, counts.known}:
            reasons.append(f"speaks of {of} similar cases but the table has {counts.total}")
            continue
        rest = m.group("rest")
        defaulted = bool(DEFAULT_WORDS.search(rest))
        if defaulted and _negated(rest):
            defaulted, performed = False, True
        else:
            performed = not defaulted and bool(PERFORM_WORDS.search(rest))
        actual = counts.defaults if defaulted else counts.performed if performed else None
        claimed = _claimed(m.group("q"), counts, of)
        if actual is None or claimed is None:
            continue
        if not claimed[0] <= actual <= claimed[1]:
            what = "defaulted" if defaulted else "performed"
            reasons.append(f"'{m.group(0).strip()[:60]}' but {actual} of {counts.known} similar cases {what}")
    return reasons


RATIO_WORDS = re.compile(
    r"\b(?:twice|doubled?|doubling|tripled?|halved|by\s+half|two-fold|twofold|threefold)\b", re.I
)


def ratio_reasons(sentence: str, cited: str) -> list[str]:
    """``doubled`` / ``twice`` / ``halved`` must be in the text the sentence cites."""
    out = []
    for m in RATIO_WORDS.finditer(sentence):
        stem = m.group(0).lower().replace("by ", "")[:4]
        if stem not in cited.lower():
            out.append(f"'{m.group(0)}' is not in the cited text")
    return out
