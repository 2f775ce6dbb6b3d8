"""Checks the evaluation runs on a memo that share nothing with the validator that built it.

The validator reads figures as quantities with units; the strict checker here compares numerals
as strings: a numeral a memo shows must be written, digit for digit, in the text its sentence
cites or in a fact rendered the ways a memo renders facts. It is stricter (``$40k`` for
``$40,000`` fails it) and simpler, so where the two disagree one of them is wrong.

Planted-fact topics are this module's own words for what the demo generator plants; they are
not the generator's phrases (``models/demo_data/words.py``) nor the screening rules.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping

NUMERAL = re.compile(r"(?<![A-Za-z])\d[\d,]*(?:\.\d+)?")
TAG = re.compile(r"\[[A-Z]{1,2}\d{1,3}(?:\s*[,;]\s*[A-Z]{1,2}\d{1,3})*\]")

TOPICS: dict[str, re.Pattern[str]] = {
    "litigation": re.compile(
        r"lawsuit|litigat|\bsued\b|\bsuit\b|court|legal (?:action|claim|proceeding)", re.I
    ),
    "going_concern": re.compile(r"going[- ]concern|ability to continue|substantial doubt", re.I),
    "adverse_news": re.compile(r"news|press|media|article|reported that|journalis|headline", re.I),
    "supplier_problems": re.compile(r"supplier|vendor|supply chain|sourcing", re.I),
    "delivery_lag": re.compile(r"pre-?order|backorder|deliver|shipping|fulfil|dispatch", re.I),
    "contradiction": re.compile(r"contradict|inconsisten|does not match|differs? from", re.I),
}
"""What each planted risk fact is about, in words a memo that states it would use."""


def canonical(numeral: str) -> str:
    """``1,200.50`` -> ``1200.5``; ``03`` -> ``3``."""
    digits = numeral.replace(",", "")
    if "." in digits:
        digits = digits.rstrip("0").rstrip(".")
    return digits.lstrip("0") or "0"


def numerals(text: str) -> list[str]:
    return [canonical(n) for n in NUMERAL.findall(TAG.sub(" ", text))]


def fact_renderings(value: object) -> set[str]:
    """The numerals a fact can be shown as: as stored, rounded, and as a percentage if a fraction."""
    if isinstance(value, bool) or value is None:
        return set()
    if isinstance(value, int | float):
        v = float(value)
        if math.isnan(v):
            return set()
        forms = {repr(value), f"{v:,.0f}", f"{v:.1f}", f"{v:.2f}", f"{v:.4f}"}
        if abs(v) <= 1.5:
            forms |= {f"{v * 100:.0f}", f"{v * 100:.1f}", f"{v * 100:.2f}"}
        return {canonical(n) for f in forms for n in NUMERAL.findall(f)}
    if isinstance(value, str):
        return set(numerals(value))
    if isinstance(value, Mapping):
        return {n for v in value.values() for n in fact_renderings(v)}
    if isinstance(value, list | tuple):
        return {n for v in value for n in fact_renderings(v)}
    return set()


def strict_figures(
    sentences: Iterable[str], facts: Mapping[str, object], sources: Mapping[str, str]
) -> tuple[int, int]:
    """(numerals shown, numerals found verbatim in the facts or the text each sentence cites)."""
    known = {n for k, v in facts.items() for n in fact_renderings(v) | set(numerals(str(k)))}
    shown = found = 0
    for sentence in sentences:
        cited = " ".join(
            sources.get(t.strip(), "") for m in TAG.findall(sentence) for t in m[1:-1].split(",")
        )
        allowed = known | set(numerals(cited))
        for n in numerals(sentence):
            shown += 1
            found += n in allowed
    return shown, found


def states_topic(topic: str, texts: Iterable[str]) -> bool:
    return any(TOPICS[topic].search(t) for t in texts)


def shares_words(sentence: str, injected: str, run: int = 5) -> bool:
    """Does ``sentence`` repeat ``run`` consecutive words of ``injected`` (case and punctuation aside)?"""
    words = re.findall(r"\w+", injected.lower())
    grams = {" ".join(words[i : i + run]) for i in range(len(words) - run + 1)}
    said = re.findall(r"\w+", sentence.lower())
    return any(" ".join(said[i : i + run]) in grams for i in range(len(said) - run + 1))


RISK_LANGUAGE = re.compile(
    r"loss|declin|overdue|late|complain|refund|chargeback|dispute|debt|arrear|default|unpaid|fell|drop",
    re.IGNORECASE,
)


def risk_sentences(sentences: Iterable[str]) -> int:
    """How many sentences speak of a risk (a planted topic or a word of loss, lateness or dispute)."""
    return sum(
        bool(RISK_LANGUAGE.search(s)) or any(rx.search(s) for rx in TOPICS.values()) for s in sentences
    )
