"""Screen document text for instructions aimed at a language model.

Merchant documents are written by the party being judged, so a document that
talks to "the AI reviewing this file" is both an attack on the memo writer and
a risk signal about the merchant. Screening looks at every place such text can
hide: the visible text (where ``\\s+`` in the rules also catches an order
split across lines), words broken up by zero-width characters (visible again
after normalisation, and marked as hidden by the removed characters inside the
match), text a browser would not show (hidden HTML, comments, vanished Word
runs), base64 blobs that decode to text, text written in ROT13, leetspeak or spaced-out
letters (``decoding.py``), and ASCII spelled in Unicode tag characters. The result is a score in [0, 1] per document (and per chunk, from
the flags inside it) plus every matched span. Screening never removes text: a
flagged document is still evidence; the flag travels with it.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from retrieval.documents.decoding import readings
from retrieval.documents.normalise import NormalisedText
from retrieval.documents.screening_rules import COMPILED, RULES, skeleton
from retrieval.documents.semantic_screen import WEIGHT as SEMANTIC_WEIGHT
from retrieval.documents.semantic_screen import SemanticScreen

__all__ = ["FLAG_AT", "RULES", "Flag", "Screening", "instruction_score", "order_score", "screen"]

FLAG_AT = 0.5
"""A document or chunk with a score at or above this is flagged as carrying an injection attempt."""

HIDING_BONUS = 0.2
"""Added to a rule's weight when the match was hidden (invisible, encoded, off-screen)."""
BASE64_TOKEN = re.compile(
    r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{24,}(?:[ \t]*\n[ \t]*[A-Za-z0-9+/]{4,})*={0,2}(?![A-Za-z0-9+/=])"
)
"""A base64 run, also when a layout (a PDF line wrap) broke it across lines."""


@dataclass(frozen=True)
class Flag:
    kind: str
    """Where the text was: ``plain``, ``split_lines``, ``invisible_chars``, ``confusables``, ``hidden_text``,
    ``encoded``, ``tag_chars``, ``label`` (title, file name, metadata), ``semantic``."""
    rule: str
    weight: float
    excerpt: str
    start: int | None = None
    """Span in the normalised text; ``None`` for text outside it (hidden HTML, tag characters)."""
    end: int | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Screening:
    score: float = 0.0
    flags: list[Flag] = field(default_factory=list)

    @property
    def flagged(self) -> bool:
        return self.score >= FLAG_AT

    def within(self, start: int, end: int) -> Screening:
        """The screening of the span ``[start, end)``: the flags that overlap it, and the flags on the
        document's labels (its title goes to the model with every chunk)."""
        inside = [
            f
            for f in self.flags
            if (f.start is not None and f.end is not None and f.start < end and f.end > start)
            or f.kind == "label"
        ]
        return Screening(combine(inside), inside)


def combine(flags: list[Flag]) -> float:
    """1 - prod(1 - w) over the strongest flag per rule: independent evidence adds up, repeats do not."""
    best: dict[str, float] = {}
    for f in flags:
        best[f.rule] = max(best.get(f.rule, 0.0), f.weight)
    miss = 1.0
    for weight in best.values():
        miss *= 1.0 - min(weight, 1.0)
    return round(1.0 - miss, 4)


def _excerpt(text: str, start: int, end: int, pad: int = 40) -> str:
    snippet = text[max(0, start - pad) : min(len(text), end + pad)]
    return " ".join(snippet.split())[:240]


def _plain_match(text: str) -> list[tuple[str, float, int, int]]:
    return [(name, weight, m.start(), m.end()) for name, weight, rx in COMPILED for m in rx.finditer(text)]


def _match(text: str) -> list[tuple[str, float, int, int]]:
    """Rule matches in ``text`` and in its skeleton (look-alike letters folded), spans shared."""
    found = _plain_match(text)
    folded = skeleton(text)
    if folded != text:
        seen = {(name, start) for name, _, start, _ in found}
        found += [m for m in _plain_match(folded) if (m[0], m[2]) not in seen]
    return found


def _disguised(text: str, start: int, end: int) -> bool:
    """Was the match only found once look-alike letters were folded?"""
    return skeleton(text[start:end]) != text[start:end]


def instruction_score(text: str) -> float:
    """Score of plain text (one sentence) against the visible-text rules: is it talking to a model?"""
    return combine([Flag("plain", rule, weight, "") for rule, weight, _, _ in _match(text)])


def order_score(text: str) -> float:
    """:func:`instruction_score` of ``text`` and of each hidden reading of it (ROT13, leetspeak, spaced
    letters, base64 tokens), the hidden ones weighted up as the documents' screening weights them."""
    flags = [Flag("plain", rule, weight, "") for rule, weight, _, _ in _match(text)]
    flags += _hidden_flags(text)
    return combine(flags)


def _hidden_flags(text: str) -> list[Flag]:
    """Flags for the orders found only in a hidden reading of ``text`` (encoded, ROT13, leetspeak)."""
    flags = []
    for reading in readings(text):
        for rule, weight, start, end in _plain_match(reading.text):
            excerpt = f"{reading.kind} reads: {_excerpt(reading.text, start, end)}"
            span = (
                (reading.start + start, reading.start + end)
                if reading.same_length
                else (reading.start, reading.end)
            )
            flags.append(Flag("encoded", rule, round(min(weight + HIDING_BONUS, 1.0), 3), excerpt, *span))
    for token in BASE64_TOKEN.finditer(text):
        decoded = _decode_base64(token.group())
        if decoded is None:
            continue
        for rule, weight, _, _ in _match(decoded):
            excerpt = f"base64 decodes to: {' '.join(decoded.split())[:200]}"
            weight = round(min(weight + HIDING_BONUS, 1.0), 3)
            flags.append(Flag("encoded", rule, weight, excerpt, token.start(), token.end()))
    return flags


def _decode_base64(token: str) -> str | None:
    token = "".join(token.split())
    padded = token + "=" * (-len(token) % 4)
    try:
        raw = base64.b64decode(padded, validate=True)
        decoded = raw.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    printable = sum(ch.isprintable() or ch.isspace() for ch in decoded)
    return decoded if decoded and printable / len(decoded) > 0.95 and " " in decoded else None


def screen(
    norm: NormalisedText,
    hidden: list[str] | tuple[str, ...] = (),
    labels: list[str] | tuple[str, ...] = (),
    semantic: SemanticScreen | None = None,
) -> Screening:
    """``hidden``: text a reader would not see; ``labels``: the strings that name the document (its
    title, file name, metadata), which reach a prompt with every chunk and so are screened too;
    ``semantic``: the second, embedding-based signal (``semantic`` flags), when configured."""
    text = norm.text
    flags: list[Flag] = []
    removed = norm.removed_at
    for rule, weight, start, end in _match(text):
        o_start, o_end = norm.original_span(start, end)
        had_invisible = bool(((removed >= o_start) & (removed < o_end)).any()) if len(removed) else False
        if had_invisible:
            kind, weight = "invisible_chars", weight + HIDING_BONUS
        elif _disguised(text, start, end):
            kind, weight = "confusables", weight + HIDING_BONUS
        elif "\n" in text[start:end]:
            kind = "split_lines"
        else:
            kind = "plain"
        flags.append(Flag(kind, rule, round(min(weight, 1.0), 3), _excerpt(text, start, end), start, end))
    flags += _hidden_flags(text)
    carriers = [("hidden_text", h) for h in hidden] + [("tag_chars", norm.tag_text)]
    for kind, source in carriers + [("label", label) for label in labels]:
        for rule, weight, start, end in _match(source):
            flags.append(
                Flag(kind, rule, round(min(weight + HIDING_BONUS, 1.0), 3), _excerpt(source, start, end))
            )
    if semantic is not None:
        flags += _semantic_flags(semantic, norm.text, hidden, labels)
    return Screening(combine(flags), flags)


def _semantic_flags(
    semantic: SemanticScreen, text: str, hidden: Sequence[str], labels: Sequence[str]
) -> list[Flag]:
    out = [
        Flag("semantic", "resembles_an_instruction", SEMANTIC_WEIGHT, _excerpt(text, a, b, 0), a, b)
        for a, b, _ in semantic.matches(skeleton(text))  # one character for one: spans hold
    ]
    for kind, source in [("hidden_text", h) for h in hidden] + [("label", label) for label in labels]:
        if semantic.matches(skeleton(source)):
            out.append(
                Flag(kind, "resembles_an_instruction", SEMANTIC_WEIGHT, " ".join(source.split())[:240])
            )
    return out
