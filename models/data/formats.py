"""How a column's value reads to a credit officer: 12.23%, $1,430, 16, 79 months, "none" when missing.

A dataset spec declares a format per column (``formats:``); memo tables, the workbench, chat,
reasons, mitigants, recourse and notices all go through :func:`format_value`, so a value reads
the same everywhere. Undeclared numeric columns read as plain numbers, categorical ones as written.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any, Literal

FormatName = Literal[
    "percent", "percent_points", "currency", "count", "ratio", "days", "months", "years", "category", "date",
    "number",
]  # fmt: skip
"""``percent``: a fraction shown in percent (0.1223 -> 12.23%); ``percent_points``: a value already in
percent (6.5 -> 6.5%); ``ratio``: a multiple (1.52x); ``number``: a plain number (the default)."""
MISSING = "none"
UNITS = {"days": ("day", "days"), "months": ("month", "months"), "years": ("year", "years")}


def is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value == ""


def _trimmed(number: float, decimals: int) -> str:
    text = f"{number:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _count(number: float) -> str:
    return f"{number:,.0f}" if float(number).is_integer() else _trimmed(number, 1)


def format_value(value: Any, fmt: str = "number", *, currency: str = "$") -> str:
    """``value`` as the format declares it; ``none`` for a missing value, text as written."""
    if is_missing(value):
        return MISSING
    if isinstance(value, date | datetime):
        return value.isoformat()[:10]
    if fmt in ("category", "date") or isinstance(value, str | bool):
        return str(value)[:10] if fmt == "date" else str(value)
    number = float(value)
    if fmt == "percent":
        return f"{_trimmed(number * 100, 2)}%"
    if fmt == "percent_points":
        return f"{_trimmed(number, 2)}%"
    if fmt == "currency":
        sign = "-" if number < 0 else ""
        amount = abs(number)
        shown = f"{amount:,.0f}" if amount >= 1000 or amount.is_integer() else f"{amount:,.2f}"
        return f"{sign}{currency}{shown}"
    if fmt == "count":
        return _count(number)
    if fmt == "ratio":
        return f"{number:.2f}×"
    if fmt in UNITS:
        one, many = UNITS[fmt]
        return f"{_count(number)} {one if number == 1 else many}"
    if number != 0 and abs(number) < 0.1:
        return f"{number:.3g}"
    return _trimmed(number, 2)


def display_step(value: float, fmt: str) -> float:
    """The smallest difference the format shows at ``value``: a recourse figure is rounded to it, so the
    figure stated is the figure checked."""
    if fmt == "percent":
        return 1e-4
    if fmt in ("percent_points", "ratio"):
        return 0.01
    if fmt in ("count", "days", "months", "years"):
        return 1.0
    magnitude = abs(value)
    if fmt == "currency":
        return 1.0 if magnitude < 1000 else 10.0 ** max(math.floor(math.log10(magnitude)) - 2, 0)
    if magnitude == 0:
        return 0.01
    return 10.0 ** (math.floor(math.log10(magnitude)) - 2)
