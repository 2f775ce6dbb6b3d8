"""Figures in statement text: a line's label and amount (Markdown rows, aligned columns, dot leaders,
``Label: $x``), the unit a statement states, and which standard spread field a label is."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from price_parser import Price

AMOUNT = r"\(?-?\$?\s?-?\(?\d[\d,]*(?:\.\d+)?\)?"
LINE_PATTERNS = (
    re.compile(rf"^\s*\|\s*(?P<label>[^|]*?[A-Za-z][^|]*?)\s*\|\s*(?P<value>{AMOUNT})\s*\|"),
    re.compile(
        rf"^\s*(?P<label>[A-Za-z][A-Za-z '’&/,()-]*?)\s*(?:\.{{3,}}|\s{{2,}}|:\s*)\s*(?P<value>{AMOUNT})(?:\s|$)"
    ),
)
UNIT = re.compile(r"\(?\b(?:dollars |amounts |USD )?in (thousands|millions|billions)\b", re.IGNORECASE)
UNIT_SCALE = {"thousands": 1_000, "millions": 1_000_000, "billions": 1_000_000_000}
YEAR = re.compile(r"\b(?:19|20)\d{2}\b")


def _field(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"^(?:{pattern})$", re.IGNORECASE)


FIELDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("revenue", _field(r"(?:total )?(?:net )?(?:revenues?|sales|turnover)(?:, net)?")),
    ("cost_of_sales", _field(r"(?:total )?cost of (?:goods sold|sales|revenues?|merchandise sold)")),
    ("gross_profit", _field(r"gross (?:profit|margin)")),
    ("operating_expenses", _field(r"(?:total )?operating expenses")),
    ("operating_income", _field(r"operating (?:income|profit)(?: \(loss\))?|income from operations")),
    ("net_income", _field(r"net (?:income|earnings|profit)(?: \(loss\))?|net loss")),
    ("cash", _field(r"cash(?: and (?:cash )?equivalents)?(?: at bank)?")),
    ("receivables", _field(r"(?:accounts |trade )?receivables?(?:, net)?|accounts receivable(?:, net)?")),
    ("inventory", _field(r"inventor(?:y|ies)(?:, net)?")),
    ("current_assets", _field(r"total current assets")),
    ("total_assets", _field(r"total assets")),
    ("current_liabilities", _field(r"total current liabilities")),
    ("total_liabilities", _field(r"total liabilities")),
    (
        "short_term_debt",
        _field(r"short[- ]term (?:debt|borrowings|loans?)|current portion of long[- ]term debt"),
    ),
    ("long_term_debt", _field(r"long[- ]term (?:debt|borrowings|loans?)(?:, net)?")),
    ("equity", _field(r"(?:total )?(?:owners[’']?|stockholders[’']?|shareholders[’']?) equity|total equity")),
    (
        "opening_balance",
        _field(r"opening (?:balance|ledger balance)|beginning balance|balance brought forward"),
    ),
    ("closing_balance", _field(r"closing (?:balance|ledger balance)|ending balance")),
    ("deposits", _field(r"(?:total )?(?:deposits|credits)(?: and other credits)?")),
    ("withdrawals", _field(r"(?:total )?(?:withdrawals|debits)(?: and other debits)?")),
    ("lowest_balance", _field(r"lowest (?:daily )?balance|minimum balance")),
    (
        "overdraft_events",
        _field(r"(?:overdraft|returned[- ]item|nsf)(?: or returned[- ]item)?(?: events| items| count)?"),
    ),
    ("days_negative", _field(r"days (?:negative|overdrawn|below zero)|negative balance days")),
)
COUNT_FIELDS = frozenset({"overdraft_events", "days_negative"})


@dataclass(frozen=True)
class Line:
    label: str
    value: float
    text: str


def parse_amount(raw: str) -> float | None:
    """An amount as statements write it: ``$1,234.50``, ``-$445.53``, ``$-445.53``, ``(1,234)`` (negative)."""
    price = Price.fromstring(raw)
    if price.amount is None:
        return None
    negative = "-" in raw or (raw.strip().startswith("(") and raw.strip().endswith(")"))
    amount = price.amount if isinstance(price.amount, Decimal) else Decimal(str(price.amount))
    return float(-amount if negative else amount)


def statement_lines(text: str) -> list[Line]:
    """Every (label, amount) line of ``text``; the first amount of a line is its current period."""
    out = []
    for raw in text.split("\n"):
        for pattern in LINE_PATTERNS:
            found = pattern.match(raw)
            if found is None:
                continue
            value = parse_amount(found.group("value"))
            label = " ".join(found.group("label").split()).strip(" .:")
            if value is not None and label and not YEAR.fullmatch(found.group("value").strip("$() ")):
                out.append(Line(label, value, raw.strip().strip("|").strip()))
            break
    return out


def field_of(label: str) -> str | None:
    label = label.replace("’", "'")
    for name, pattern in FIELDS:
        if pattern.match(label):
            return name
    return None


def unit_of(text: str) -> tuple[int, str]:
    """The scale a statement states (``(in thousands)``) and its word; 1 and ``units`` when it states none."""
    found = UNIT.search(text)
    if found is None:
        return 1, "as written"
    word = found.group(1).lower()
    return UNIT_SCALE[word], word


def period_of(*texts: str) -> str:
    """The period a statement is for, as its heading names it (the first year), else empty."""
    for text in texts:
        found = YEAR.search(text or "")
        if found:
            return found.group(0)
    return ""
