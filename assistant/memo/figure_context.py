"""Is a figure said of what its cited passage says it of?

``The music school has 17 instructors in 250 states`` uses two numbers of the passage ("250
instructors in 17 states") the wrong way round; ``$298.1 million of cash on hand`` borrows the
amount "available for borrowing"; ``$34.9 million in fiscal 2002`` moves a 2001 figure a year. Each
number is read with what it is of: its *head* (the first content word in the three words after it,
``17 instructors``, ``$112 million at domestic operations``, ``$298.1 million of cash``) and its
*year* (``in fiscal 2002``). A sentence's figure is supported by a passage's occurrence of the same
value and unit only if their years do not differ and the sentence's head is the occurrence's head,
or is a word of the occurrence's sentence that is not the head of another of the passage's numbers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.memo.claims import stem
from assistant.memo.figures import (
    CASE_ID,
    CITATION_RE,
    DATE_RE,
    NUMBER_RE,
    Figure,
    Quantity,
    quantity_of,
    spelled_out,
    units_joined,
)
from assistant.memo.words import words

FUNCTION = words(
    """about almost also amount approximately around down due each every figure fiscal into just less
    loan month months more my nearly only over per quarter roughly some sum total under up which who
    year years your"""
)
BOUNDARY = frozenset(",;:.!?") | {"and", "or", "but", "while", "whereas"}
TOKEN = re.compile(r"YEAR\d{4}|[A-Za-z][A-Za-z']*|[,;:.!?]|\S")


@dataclass(frozen=True)
class Occurrence:
    quantity: Quantity
    sentence: int
    """Which sentence of its text the number stands in."""
    head: str | None
    year: str | None
    words: frozenset[str]
    """Stems of the sentence the number stands in."""
    near: frozenset[str]
    """Stems of the (up to five) content words just before the number, and its head."""
    lead: str | None = None
    """The content word just before the number (``guaranteed $387,750``), articles and prepositions skipped."""
    verb: str | None = None
    """The verb just after it (``$387,750 was disbursed``)."""


def _prepared(text: str) -> str:
    """Citation tags out, dates as ``YEAR2002`` tokens (so ``in fiscal 2002`` keeps its year), numbers
    spelled out as digits."""
    text = CASE_ID.sub(" ", CITATION_RE.sub(" ", text))
    text = DATE_RE.sub(lambda m: f" YEAR{_year(m.group(0))} ", text)
    return spelled_out(units_joined(text))


def _year(date_text: str) -> str:
    found = re.findall(r"\d{4}", date_text)
    return found[-1] if found else "0000"


def occurrences(text: str) -> list[Occurrence]:
    prepared = _prepared(text)
    out = []
    for index, sentence in enumerate(re.split(r"(?<=[.!?;])\s+", prepared)):
        words = frozenset(stem(w) for w in re.findall(r"[A-Za-z]{3,}", sentence) if w.lower() not in FUNCTION)
        for m in NUMBER_RE.finditer(sentence):
            if sentence[max(0, m.start() - 4) : m.start()] == "YEAR":
                continue
            tokens = TOKEN.findall(sentence[m.end() :])[:4]
            head = _head(tokens[:3])
            clause = re.split(r",|;|\band\b|\bor\b|\bbut\b", sentence[: m.start()])[-1]
            before = [stem(w) for w in re.findall(r"[A-Za-z]{3,}", clause) if w.lower() not in FUNCTION]
            near = frozenset([*before[-5:], *([head] if head else [])])
            lead = _head(list(reversed(TOKEN.findall(sentence[: m.start()])))[:3], verbs=True)
            verb = _verb(tokens[:3])
            out.append(Occurrence(quantity_of(m), index, head, _first_year(tokens), words, near, lead, verb))
    return out


LEADS = frozenset(
    ["a", "an", "the", "of", "at", "in", "on", "our", "its", "their", "his", "her", "this", "that"]
)
"""Words that may stand between a number and what it is of (``$112 million at our domestic ...``)."""


VERBS = frozenset(
    [
        "arose",
        "rose",
        "fell",
        "grew",
        "came",
        "went",
        "made",
        "took",
        "remained",
        "stood",
        "reached",
        "covered",
        "rises",
        "falls",
        "grows",
        "was",
        "were",
        "is",
        "are",
        "been",
        "being",
    ]
)
"""Words after a number that say what happened to it, not what it is of (with any word ending -ed)."""
AUXILIARY = frozenset(["was", "were", "is", "are", "been", "being", "has", "had", "have"])


def _is_verb(low: str) -> bool:
    return low in VERBS or (low.endswith("ed") and len(low) > 4)


def _verb(tokens: list[str]) -> str | None:
    """``$387,750 was disbursed`` -> ``disbu``: the first verb after a number, auxiliaries skipped."""
    for token in tokens:
        low = token.lower()
        if low in AUXILIARY:
            continue
        return stem(low) if token[0].isalpha() and _is_verb(low) and low not in AUXILIARY else None
    return None


def _head(tokens: list[str], *, verbs: bool = False) -> str | None:
    """The first content word of ``tokens`` past articles and prepositions; a verb ends the search
    unless ``verbs`` (the word before a number is often its verb: ``guaranteed $387,750``)."""
    for token in tokens:
        low = token.lower()
        if low in BOUNDARY or token.startswith("YEAR") or not token[0].isalpha():
            return None
        if _is_verb(low) and not verbs:
            return None
        if verbs and low in VERBS - AUXILIARY:
            return stem(low)
        if low not in FUNCTION and len(low) >= 3:
            return stem(low)
        if low not in LEADS:
            return None
    return None


def _first_year(tokens: list[str]) -> str | None:
    for token in tokens:
        if token in BOUNDARY:
            return None
        if token.startswith("YEAR"):
            return token[4:]
    return None


def _figure(o: Occurrence) -> Figure:
    return Figure(o.quantity.value, "percent" if o.quantity.percent else "plain", o.quantity.unit)


@dataclass(frozen=True)
class Reading:
    """What the rest of the claim's sentence and the passage say around the numbers."""

    claim_words: frozenset[str]
    """The claim sentence's words less the heads of its other numbers."""
    other_heads: frozenset[str]
    """Heads of the passage's numbers that do not match the claim."""
    neighbour_heads: frozenset[str]
    """Words near the other numbers of the matched occurrence's own sentence (their heads and the words
    just before them, within their clause)."""
    other_leads: frozenset[str] = frozenset()
    """Leads of the passage's numbers that do not match the claim."""


def _agrees(claim: Occurrence, source: Occurrence, seen: Reading) -> bool:
    if claim.year and source.year and claim.year != source.year:
        return False
    if claim.head and claim.head == source.head:
        return True
    if (
        source.head
        and source.head not in seen.claim_words
        and (seen.claim_words & seen.neighbour_heads) - source.near
    ):
        return False  # the sentence names what a neighbouring number is of, not what this one is of
    own = {source.lead, source.verb} - {None}
    for word in (claim.lead, claim.verb):
        if word and own and word not in own and word in seen.other_leads - source.near:
            return False  # "the SBA guaranteed $517,000": the passage guaranteed another amount
    if claim.head is None or claim.head == source.head:
        return True
    if claim.head in seen.other_heads and (source.head is None or source.head not in seen.claim_words):
        return False  # the head belongs to another of the passage's numbers
    return claim.head in source.words


def _reading(
    o: Occurrence, others: list[Occurrence], claim_words: frozenset[str], other_heads: frozenset[str]
) -> Reading:
    neighbours = frozenset(w for n in others if n.sentence == o.sentence for w in n.near)
    leads = frozenset(w for n in others for w in (n.lead, n.verb) if w)
    return Reading(claim_words, other_heads, neighbours, leads)


def _name_stems(name: str) -> set[str]:
    return {stem(w) for w in re.findall(r"[A-Za-z]{3,}", name)}


def context_reasons(
    sentence: str, cited: str, general: list[Figure], named: Sequence[tuple[str, Figure]] = ()
) -> list[str]:
    """Figures of ``sentence`` that its cited passage, or the case's facts, give for something else.
    ``general``: figures that support a number whatever it is said of (the model's PD, the similar-case
    counts); ``named``: the case's facts by name, which support a number said of what the name says
    (``50 complaints`` by "Complaints last 90 days", not ``50 stores``)."""
    passage = occurrences(cited) if cited else []
    claims = occurrences(sentence)
    reasons = []
    for claim in claims:
        if any(claim.quantity.matches(f) for f in general):
            continue
        names = [name for name, f in named if claim.quantity.matches(f)]
        if names and (claim.head is None or any(claim.head in _name_stems(n) for n in names)):
            continue
        same = [o for o in passage if claim.quantity.matches(_figure(o))]
        if not same:
            if names:
                reasons.append(
                    f"figure {claim.quantity.text!r} is the case's {names[0]}, not a count of {claim.head}"
                )
            continue  # unsupported figures are reported by the figure check
        own_heads = {c.head for c in claims if c is not claim and c.head}
        # the clauses of the claim's later figures say what those are of, not this one ("net profit is
        # 65-72k, and the business debt will be paid off in 3 years")
        later = claims[claims.index(claim) + 1 :]
        own_near = {w for c in later for w in c.near} - claim.near
        others = [o for o in passage if not claim.quantity.matches(_figure(o))]
        claim_words = frozenset(claim.words - own_heads - own_near)
        other_heads = frozenset(o.head for o in others if o.head)

        if not any(_agrees(claim, o, _reading(o, others, claim_words, other_heads)) for o in same):
            what = f" ({claim.head}...)" if claim.head else ""
            year = f" in {claim.year}" if claim.year else ""
            reasons.append(
                f"figure {claim.quantity.text!r}{what}{year} is given in the cited text for something else"
            )
    return reasons
