"""Find and redact personal data in document text before it reaches a prompt, a log or a memo.

Kinds: e-mail addresses (also written out: ``name at domain dot com``), phone numbers in national
and international forms (found by ``phonenumbers``, Google's libphonenumber), payment card
numbers (Luhn-checked), bank account and IBAN numbers, US tax ids (EIN and SSN, also spaced), and
the names of the case's own people (owner, contacts, guarantors) passed in by the caller. Each
match is replaced by a typed placeholder (``[EMAIL]``); :func:`redact` also returns the SHA-256 of
every original so the audit trail can still prove what the document said.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

import phonenumbers

_AT = r"\s*(?:@|[\[(<{]\s*at\s*[\])>}]|\s(?i:at)\s)\s*"
_DOT = r"(?:\.|\s*[\[(<{]\s*dot\s*[\])>}]\s*|\s+(?i:dot)\s+)"
PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("EMAIL", re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")),
    (
        "EMAIL",
        re.compile(
            rf"\b[\w.+-]+(?:{_DOT}[\w+-]+)*{_AT}[\w-]+(?:{_DOT}[\w-]+)*{_DOT}(?:com|org|net|io|co|example|[a-z]{{2}})\b"
        ),
    ),
    ("IBAN", re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){3,7}(?:\s?[A-Z0-9]{1,3})?\b")),
    ("CARD", re.compile(r"\b(?:\d[ -]?){12,18}\d\b")),
    ("TAX_ID", re.compile(r"\b\d{2}[- ]\d{7}\b|\b\d{3}[- ]\d{2}[- ]\d{4}\b")),
    ("PHONE", re.compile(r"(?<![\w$])\+?\d{1,3}[ .-]\(?\d{2,4}\)?[ .-]\d{3,4}[ .-]?\d{3,4}\b")),
    ("ACCOUNT", re.compile(r"(?<![\w$.,])\d{8,17}(?![\w.,]\d)")),
)


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


PHONE_REGION = "US"
"""Numbers without a country code are read as this region's; ``+CC`` numbers as their own."""
NAME_WORD = r"[^\W\d_](?:[^\W\d_]|['’-](?=[^\W\d_]))*"
"""One word of a name in any alphabet, with the hyphens and apostrophes inside it (``Okonkwo-Lindqvist``,
``O'Brien``, ``Ångström``); whether it is capitalised is checked after the match, since ``re`` has no
class for upper-case letters beyond ASCII."""
PARTICLES = frozenset(
    {
        "van",
        "von",
        "de",
        "der",
        "den",
        "da",
        "das",
        "do",
        "dos",
        "del",
        "della",
        "di",
        "du",
        "la",
        "le",
        "ter",
        "ten",
        "bin",
        "ibn",
        "al",
        "el",
        "y",
    }
)
"""Lower-case words that sit inside a name (``Ludwig van Beethoven``, ``Gabriel García y Márquez``)."""
NAME_END = r"(?=['’]s\b|[-'’](?!\w)|[^\w'’-]|$)"
"""Where a name ends: before a possessive ``'s``, a space or punctuation; never inside a longer word
(``Lindqvist`` is not redacted out of ``Lindqvistgatan``, nor ``Okonkwo`` out of ``Okonkwo-Lindqvist``
unless the whole is gone)."""
NAME_CUES = re.compile(
    r"\b(?:owner|owned\s+by|founder|founded\s+(?:in\s+\d{4}\s+)?by|director|ceo|contact|dear|guarantor|"
    r"guaranteed\s+by|signed(?:\s+by)?|principal|proprietor|managing\s+director|attn\.?|attention)[\s:,]+"
    rf"(?P<name>{NAME_WORD}(?:\s+[^\W\d_]\.)?(?:\s+{NAME_WORD}){{1,4}})",
    re.IGNORECASE,
)
"""A person's name where a document introduces one (``Contact: Elena Brennan``, ``founded by ...``)."""
NOT_NAME_WORDS = frozenset(
    {
        "the",
        "and",
        "of",
        "for",
        "with",
        "fees",
        "services",
        "accountant",
        "accountants",
        "officer",
        "officers",
        "executive",
        "financial",
        "fiscal",
        "compensation",
        "information",
        "independence",
        "committee",
        "board",
        "company",
        "report",
        "annual",
        "statement",
        "statements",
        "business",
        "management",
        "director",
        "directors",
        "principal",
        "matters",
        "market",
        "markets",
        "security",
        "securities",
        "on",
        "in",
        "at",
        "by",
        "general",
        "manager",
        "resignation",
        "nomination",
        "process",
        "appointment",
        "election",
        "chief",
        "vice",
        "president",
        "senior",
        "plan",
        "agreement",
        "amendment",
        "january",
        "february",
        "march",
        "april",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    }
)
"""Words a heading after a cue carries (``Principal Accountant Fees and Services``, ``Resignation On June``)
that no name does."""
COMPANY_WORDS = re.compile(r"\b(?:GmbH|Ltd|LLC|Inc|Corp|Company|Co|SA|SAS|BV|plc|AG|Limited|Group)\b")


@dataclass(frozen=True)
class Redaction:
    kind: str
    sha256: str


@dataclass(frozen=True)
class Found:
    kind: str
    text: str
    start: int
    end: int


def _name_words(candidate: str) -> list[str]:
    """The leading words of ``candidate`` that read as a name: capitalised, or particles between two that
    are (``von der``); at least two capitalised ones (else none)."""
    words = candidate.split()
    kept: list[str] = []
    for i, word in enumerate(words):
        rest = words[i:]
        run = next((j for j, w in enumerate(rest) if w not in PARTICLES), len(rest))
        inside = word in PARTICLES and kept and run < len(rest) and rest[run][0].isupper()
        if not (word[0].isupper() or inside):
            break
        kept.append(word)
    return kept if sum(w[0].isupper() for w in kept) >= 2 else []


def people_named(texts: Iterable[str]) -> list[str]:
    """The names the case's documents introduce as its people (owner, contacts, guarantors)."""
    names: set[str] = set()
    for text in texts:
        for m in NAME_CUES.finditer(text):
            name = " ".join(_name_words(m.group("name")))
            words = name.lower().replace(".", "").split()
            if name and not COMPANY_WORDS.search(name) and not NOT_NAME_WORDS.intersection(words):
                names.add(name)
    return sorted(names, key=len, reverse=True)


def name_parts(name: str) -> list[str]:
    """What of a name is redacted wherever it stands: the whole name, each of its words but the particles
    and initials (the given name too: ``Aoife`` alone still names her), and each part of a hyphenated
    word (``Ms Lindqvist`` after ``Ada Okonkwo-Lindqvist``)."""
    words = [w for w in name.split() if len(w) > 2 and w not in PARTICLES]
    pieces = [p for w in name.split() if "-" in w for p in w.split("-") if len(p) > 2]
    return list(dict.fromkeys([name, *words, *pieces]))


PHONE_SHAPE = re.compile(r"^(?:\+\d[\d\s().-]{6,}|\(?\d{2,4}\)?[\s.-]\d[\d\s.-]{5,})$")
"""What a written phone number looks like: ``+`` and a country code, or an area code then a
separator; a bare run of digits (an amount, an account number) or a decimal is not a phone."""


def _phones(text: str, region: str) -> list[tuple[int, int]]:
    matcher = phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.POSSIBLE)
    found = []
    for m in matcher:
        raw = m.raw_string.strip()
        digits = sum(ch.isdigit() for ch in raw)
        if PHONE_SHAPE.match(raw) and (digits >= 10 or (raw.startswith("+") and digits >= 8)):
            found.append((m.start, m.end))
    return found


def find_personal_data(
    text: str, people: Iterable[str] = (), region: str = PHONE_REGION, *, patterns: bool = True
) -> list[Found]:
    """Every piece of personal data in ``text`` (overlaps resolved: the first kind found wins);
    ``patterns=False`` looks for the named people only (text already redacted of the rest)."""
    spans: list[Found] = []
    for name in people:
        parts = sorted((re.escape(p) for p in name_parts(name)), key=len, reverse=True)
        for m in re.finditer(rf"(?<![\w'’-])(?:{'|'.join(parts)}){NAME_END}", text):
            spans.append(Found("PERSON", m.group(0), m.start(), m.end()))
    for kind, pattern in PATTERNS if patterns else ():
        if kind == "PHONE":
            spans += [Found(kind, text[a:b], a, b) for a, b in _phones(text, region)]
        for m in pattern.finditer(text):
            if kind == "CARD" and not _luhn(re.sub(r"\D", "", m.group(0))):
                continue
            spans.append(Found(kind, m.group(0), m.start(), m.end()))
    taken: list[Found] = []
    for f in spans:
        if not any(f.start < t.end and t.start < f.end for t in taken):
            taken.append(f)
    return sorted(taken, key=lambda f: f.start)


def redact(
    text: str, people: Iterable[str] = (), region: str = PHONE_REGION, *, patterns: bool = True
) -> tuple[str, list[Redaction]]:
    """``text`` with personal data replaced by ``[KIND]``, and what was replaced (hashed)."""
    found = find_personal_data(text, people, region, patterns=patterns)
    out, last = [], 0
    for f in found:
        out += [text[last : f.start], f"[{f.kind}]"]
        last = f.end
    out.append(text[last:])
    return "".join(out), [Redaction(f.kind, hashlib.sha256(f.text.encode()).hexdigest()) for f in found]
