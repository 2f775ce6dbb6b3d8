"""Risk signals in a case's passages, found per sentence by rules, with negated, hypothetical and
resolved mentions left out; each signal quotes its sentence and cites its passage."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from retrieval.documents.screening import FLAG_AT, instruction_score
from retrieval.evidence.sentences import prose_sentences
from retrieval.evidence.signal_rules import (
    HYPOTHETICAL,
    HYPOTHETICAL_OPENING,
    HYPOTHETICAL_WINDOW,
    NEGATION,
    NEGATION_WINDOW,
    RULES,
    SignalRule,
)
from retrieval.evidence.taxonomy import SIGNAL_TYPES

REFERENCE = re.compile(r"\bincorporated (?:herein )?by reference\b", re.IGNORECASE)
"""A list entry pointing at another filing (an exhibit index) states nothing about the business."""


@dataclass(frozen=True)
class Passage:
    """A passage to read: its citation tag in the case file, its document, its citation line, its text."""

    tag: str
    doc_id: str
    citation: str
    text: str


@dataclass(frozen=True)
class Signal:
    type: str
    name: str
    severity: str
    sentence: str
    tag: str
    doc_id: str
    source: str = "rule"
    """``rule`` (a sentence said it) or ``spread`` (the figures show it: a loss, overdrafts)."""

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def _before(sentence: str, at: int, window: int) -> str:
    start = max(0, at - window)
    clause = re.split(r"[;:]|, (?:but|although|while|and)\b", sentence[start:at])
    return clause[-1]


def rule_verdict(rule: SignalRule, sentence: str) -> str | None:
    """``signal``, ``negated``, ``hypothetical`` or ``resolved`` when ``rule`` matches; None when it does not."""
    found = rule.trigger.search(sentence)
    if found is None:
        return None
    anchors = [found.start()]
    if rule.requires is not None:
        also = rule.requires.search(sentence)
        if also is None:
            return None
        anchors.append(also.start())
    if rule.resolved is not None and rule.resolved.search(sentence):
        return "resolved"
    if any(NEGATION.search(_before(sentence, at, NEGATION_WINDOW)) for at in anchors):
        return "negated"
    if HYPOTHETICAL_OPENING.match(sentence) or any(
        HYPOTHETICAL.search(_before(sentence, at, HYPOTHETICAL_WINDOW)) for at in anchors
    ):
        return "hypothetical"
    return "signal"


def sentence_signals(sentence: str) -> list[str]:
    """The signal types ``sentence`` states as fact."""
    return [rule.type for rule in RULES if rule_verdict(rule, sentence) == "signal"]


def find_signals(passages: Iterable[Passage]) -> list[Signal]:
    """Every signal stated in ``passages``, in passage order; a sentence repeated (chunk overlap) counts once.
    A sentence that reads as an order to a model (an injection attempt) is not evidence of anything it names."""
    seen: set[tuple[str, str]] = set()
    out = []
    for passage in passages:
        for sentence in prose_sentences(passage.text):
            if instruction_score(sentence) >= FLAG_AT or REFERENCE.search(sentence):
                continue
            for kind in sentence_signals(sentence):
                if (kind, sentence) in seen:
                    continue
                seen.add((kind, sentence))
                t = SIGNAL_TYPES[kind]
                out.append(Signal(kind, t.name, t.severity, sentence, passage.tag, passage.doc_id))
    return out
