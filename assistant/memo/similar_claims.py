"""Claims about the similar-case table: counts, shares, rates and single cases' outcomes.

``Nine of the ten similar cases performed``, ``3 out of 10 defaulted``, ``70% of the peers repaid``,
``the similar cases had a default rate of 30%``, ``fewer than half defaulted``, ``the neighbours
mostly defaulted``, ``case M000031 performed``: each must agree with the table the memo shows.
Spelled-out numbers are read as digits first (``figures.spelled_out``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from assistant.memo.figures import spelled_out


@dataclass(frozen=True)
class SimilarCounts:
    total: int
    known: int
    defaults: int

    @property
    def performed(self) -> int:
        return self.known - self.defaults


_NOUNS = r"(?:case|merchant|applicant|loan|borrower|neighbou?r|peer|precedent|comparable|account|firm|business)e?s?"
_QUANT = (
    r"(?P<q>none|no|zero|all|every|each|both|most|nearly\s+all|almost\s+all|the\s+majority|a\s+majority|majority|"
    r"(?:fewer|less|more)\s+than\s+half|over\s+half|under\s+half|half|a\s+few|few|only\s+a\s+few|"
    r"(?:fewer|less|more)\s+than\s+\d+|at\s+least\s+\d+|\d+)"
    r"(?!\s+(?:most|closest|nearest)\b)"
)
SIMILAR_RE = re.compile(
    rf"(?<!\bof\sthe\s)(?<!\d\s)\b{_QUANT}\s+(?:of\s+(?:the|these|those|its|their)\s+)?(?:(?P<of>\d+)\s+)?(?:[\w-]+\s+){{0,3}}?"
    rf"{_NOUNS}\b(?P<rest>[^.;]*)",
    re.IGNORECASE,
)
OF_THE_RE = re.compile(
    rf"\bof\s+the\s+(?P<of>\d+)\s+(?:[\w-]+\s+){{0,4}}?{_NOUNS}\s*,\s*{_QUANT}\s+(?P<rest>[^.;]*)",
    re.IGNORECASE,
)
"""``Of the 12 similar cases, 3 defaulted``: the total first, then the count."""
ADVERB_RE = re.compile(
    rf"\b{_NOUNS}\s+(?:have\s+|had\s+|were\s+)?(?P<q>mostly|largely|predominantly|overwhelmingly|generally|"
    r"usually|typically|all|rarely|seldom|mainly)\s+(?P<rest>[^.;]*)",
    re.IGNORECASE,
)
_OUTCOME_VERBS = (
    r"(?:defaulted|performed|repaid|paid|failed|were\s+(?:charged|written)|went\s+bad|did\s+not)\b"
)
SHARE_RE = re.compile(
    rf"\b(?P<pct>\d+(?:\.\d+)?)\s?(?:%|percent|per\s+cent)\s+(?:of\s+(?:the|these|those|them)\b(?:\s+[\w-]+){{0,3}}?"
    rf"(?:\s+{_NOUNS})?\s+|(?={_OUTCOME_VERBS}))(?P<rest>[^.;]*)",
    re.IGNORECASE,
)
"""``70% of the similar cases performed``, ``only 30% performed``."""
RATE_RE = re.compile(
    r"\b(?P<what>default\w*|perform\w*|repa\w*|loss|charge[\s-]?off|failure)(?:[\s-]+rate)?\s+(?:\w+\s+){0,3}?"
    r"(?:of|is|was|at|stood\s+at|came\s+to|=|:|in)\s+(?:a\s+rate\s+of\s+|about\s+|roughly\s+)?"
    r"(?P<v>\d+(?:\.\d+)?\s?(?:%|percent)?|\.\d+)(?:\s+of\s+(?:instances|cases|them))?",
    re.IGNORECASE,
)
"""``a default rate of 30%``, ``defaulted at a rate of 3%``, ``performed in 30% of instances``, ``rate is 0.7``."""
SIMILAR_CONTEXT = re.compile(r"similar|comparable|past|peer|neighbou?r|precedent|closest", re.IGNORECASE)
DEFAULT_WORDS = re.compile(
    r"default|charged[\s-]off|went\s+bad|failed|written\s+off|loss|did\s+not\s+(?:perform|repay)|didn't\s+(?:perform|repay)",
    re.IGNORECASE,
)
PERFORM_WORDS = re.compile(r"perform|repaid|paid|good\s+standing|\bwell\b|current|no\s+default", re.I)
NEGATED_WORDS = re.compile(r"\b(?:not|never|no|didn't|without)\b", re.IGNORECASE)
RESTRICTED = re.compile(
    r"\s*(?:decided|dated|from|in|with|that|which|who|among|since|before|after|above|below|under|over|"
    r"whose|where|of\s+which)\b",
    re.IGNORECASE,
)
"""Words after the noun that narrow the cases counted to a subset (``cases decided in 2022``)."""
SUBSET = re.compile(r"\b\d+\s+(?:[\w-]+\s+){0,3}$")
"""``The 3 most similar cases all defaulted``: a count before the noun makes ``all`` a subset's."""
CASE_ID = re.compile(r"\b(?P<id>[A-Z]{1,3}\d{3,})\b")


def _claimed(q: str, of: int) -> tuple[float, float] | None:
    """The range ``(low, high)`` of cases a quantifier claims, out of ``of``."""
    q = " ".join(q.lower().split())
    if q.isdigit():
        return int(q), int(q)
    bound = re.fullmatch(r"(fewer|less|more)\s+than\s+(\d+)|at\s+least\s+(\d+)", q)
    if bound:
        if bound.group(3):
            return int(bound.group(3)), of
        n = int(bound.group(2))
        return (0, n - 1) if bound.group(1) in {"fewer", "less"} else (n + 1, of)
    ranges = {
        "none": (0, 0),
        "no": (0, 0),
        "zero": (0, 0),
        "all": (of, of),
        "every": (of, of),
        "each": (of, of),
        "both": (2, 2) if of == 2 else (of + 1, of + 1),
        "nearly all": (of - 2, of - 1),
        "almost all": (of - 2, of - 1),
        "fewer than half": (0, (of - 1) // 2),
        "less than half": (0, (of - 1) // 2),
        "under half": (0, (of - 1) // 2),
        "more than half": (of // 2 + 1, of),
        "over half": (of // 2 + 1, of),
        "half": (of // 2, (of + 1) // 2),
        "a few": (1, max(1, of // 3)),
        "only a few": (1, max(1, of // 3)),
        "few": (0, max(0, of // 3)),
        "rarely": (0, max(0, of // 3)),
        "seldom": (0, max(0, of // 3)),
    }
    majority = (of // 2 + 1, of)
    for word in ("most", "the majority", "a majority", "majority", "mostly", "largely", "predominantly"):
        ranges[word] = majority
    for word in ("overwhelmingly", "generally", "usually", "typically", "mainly"):
        ranges[word] = (max(of // 2 + 1, int(of * 0.7)), of)
    return ranges.get(q)


def _outcome(rest: str) -> str | None:
    """``defaulted`` / ``performed`` as the words after a count say it, a negation flipping it."""
    if RESTRICTED.match(rest):
        return None  # "none of the similar cases decided in 2022 defaulted": a subset the counts do not give
    clause = re.split(r",|\bwhile\b|\bwhereas\b|\bbut\b", rest, maxsplit=1)[0]
    if DEFAULT_WORDS.search(clause):
        negated = bool(NEGATED_WORDS.search(clause)) and not re.search(
            r"did\s*n[o']t\s+(?:perform|repay)", clause
        )
        return "performed" if negated else "defaulted"
    if PERFORM_WORDS.search(clause):
        return "defaulted" if NEGATED_WORDS.search(clause) else "performed"
    return None


def _check(
    claimed: tuple[float, float] | None, outcome: str | None, counts: SimilarCounts, text: str
) -> list[str]:
    if claimed is None or outcome is None:
        return []
    actual = counts.defaults if outcome == "defaulted" else counts.performed
    if claimed[0] <= actual <= claimed[1]:
        return []
    return [f"'{' '.join(text.split())[:60]}' but {actual} of {counts.known} similar cases {outcome}"]


BOUND = re.compile(
    r"\b(?:fewer|less|more)\s+than\s+(\d+)|\bat\s+(?:least|most)\s+(\d+)|\bunder\s+(\d+)", re.I
)


def bound_numbers(sentence: str) -> list[float]:
    """The numbers a sentence about the similar cases uses as bounds (``fewer than 4 defaulted``): the
    count checks below judge them, so they need no fact of their own."""
    if not SIMILAR_CONTEXT.search(sentence):
        return []
    return [float(next(g for g in m.groups() if g)) for m in BOUND.finditer(spelled_out(sentence))]


def similar_count_reasons(sentence: str, counts: SimilarCounts | None) -> list[str]:
    """The counts, shares and rates a sentence gives for the similar cases must be the table's."""
    if counts is None or not SIMILAR_CONTEXT.search(sentence):
        return []
    text = re.sub(r"\b(\d+)\s+(?:out\s+of|in)\s+(\d+)\b", r"\1 of \2", spelled_out(sentence))
    text = re.sub(r"\[[^\]]*\]", " ", text)
    reasons: list[str] = []
    adverbs = [m for m in ADVERB_RE.finditer(text) if not SUBSET.search(text[: m.start()])]
    for m in [*SIMILAR_RE.finditer(text), *OF_THE_RE.finditer(text), *adverbs]:
        of = int(m.group("of")) if "of" in m.groupdict() and m.group("of") else counts.known
        if of not in {counts.total, counts.known}:
            reasons.append(f"speaks of {of} similar cases but the table has {counts.total}")
            continue
        reasons += _check(_claimed(m.group("q"), of), _outcome(m.group("rest")), counts, m.group(0))
    for m in SHARE_RE.finditer(text):
        n = float(m.group("pct")) / 100 * counts.known
        reasons += _check((n - 0.5, n + 0.5), _outcome(m.group("rest")), counts, m.group(0))
    for m in RATE_RE.finditer(text):
        raw = m.group("v")
        value = float(re.sub(r"[^\d.]", "", raw)) / (100 if re.search(r"%|percent", raw) else 1)
        if value > 1:
            continue
        outcome = "performed" if re.match(r"perform|repa", m.group("what"), re.I) else "defaulted"
        n = value * counts.known
        reasons += _check((n - 0.5, n + 0.5), outcome, counts, m.group(0))
    return list(dict.fromkeys(reasons))


def case_outcome_reasons(sentence: str, outcomes: Mapping[str, int | None]) -> list[str]:
    """``Similar case M000031 performed``: a named case's outcome must be the table's."""
    reasons = []
    for m in CASE_ID.finditer(sentence):
        actual = outcomes.get(m.group("id"))
        if actual is None:
            continue
        said = _outcome(sentence[m.end() :].lstrip(" ,;:)"))
        if said and said != {1: "defaulted", 0: "performed"}[actual]:
            reasons.append(f"says case {m.group('id')} {said}, but the table says otherwise")
    return reasons
