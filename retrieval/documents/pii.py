"""Find and redact personal data in document text before it reaches a prompt, a log or a memo.

Kinds: e-mail addresses, phone numbers, payment card numbers (Luhn-checked), bank account
and IBAN numbers, US tax ids (EIN/SSN shapes). Each match is replaced by a typed
placeholder (``[EMAIL]``); :func:`redact` also returns the SHA-256 of every original so
the audit trail can still prove what the document said.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("EMAIL", re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")),
    ("IBAN", re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){3,7}(?:\s?[A-Z0-9]{1,3})?\b")),
    ("CARD", re.compile(r"\b(?:\d[ -]?){12,18}\d\b")),
    ("TAX_ID", re.compile(r"\b\d{2}-\d{7}\b|\b\d{3}-\d{2}-\d{4}\b")),
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


@dataclass(frozen=True)
class Redaction:
    kind: str
    sha256: str


def redact(text: str) -> tuple[str, list[Redaction]]:
    """``text`` with personal data replaced by ``[KIND]``, and what was replaced (hashed)."""
    found: list[Redaction] = []
    for kind, pattern in PATTERNS:

        def replace(m: re.Match[str], kind: str = kind) -> str:
            raw = m.group(0)
            if kind == "CARD" and not _luhn(re.sub(r"\D", "", raw)):
                return raw
            found.append(Redaction(kind, hashlib.sha256(raw.encode()).hexdigest()))
            return f"[{kind}]"

        text = pattern.sub(replace, text)
    return text, found
