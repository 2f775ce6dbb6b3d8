"""Figures and dates as a sentence writes them, and whether a fact or a source supports them.

A figure matches at the precision it is written (``7%`` matches 7.34%, ``7.9%`` does not).
Units are read, never guessed: a percentage matches a figure written as a percentage, or a
fact that is a rate stored as a fraction (12.3% ~ 0.123) — never any other number scaled by a
hundred. Scale words (k, thousand, million, bn) are read both ways (``$1.2 million`` =
``1,200,000``); nothing else scales. Spelled-out numbers (``twelve``, ``twenty-one``, ``a dozen``)
are read as figures by ``text2num``. Dates are found in every common form (ISO, ``03/15/2022``,
``15 March 2022``, ``March 15, 2022``, ``March 2021``), parsed by ``python-dateutil``, and match
a known date on every part they state; a bare year (``in 2021``, ``fiscal 2002``) is a date too.

Every figure carries its unit: a currency (``$``, ``€``, ``£`` or the words dollars, euros,
pounds), a duration (days, weeks, months, years, quarters; months and years convert) or none (a
count). A figure is supported only by one of the same unit: ``$50`` is not 50 complaints, ``€84,000``
is not $84,000, ``50 months`` is not 50 complaints. A fact whose unit is not known (a value with no
display text) matches any unit.
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from dateutil import parser as date_parser
from text_to_num import alpha2digit

CITATION_RE = re.compile(r"\[\s*([A-Z]{1,2}\d{1,3}(?:\s*[,;]\s*[A-Z]{1,2}\d{1,3})*)\s*\]")
CASE_ID = re.compile(r"\b[A-Z]{1,3}\d{3,}\b")
"""A case's id (``M000031``): a name, not a figure."""
NUMBER_RE = re.compile(
    r"(?<![\d.,])(?P<neg>(?<![\w])[-−])?(?P<cur>[$€£])?\s?(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
    r"(?:\s?(?P<suffix>%|percentage\s+points?\b|pp\b|ppts?\b|percent\b|per\s?cent\b|bps?\b|basis\s+points\b|k\b|K\b|thousand\b|m\b|M\b|mn\b|"
    r"million\b|bn\b|billion\b))?(?:[\s-](?P<unit>dollars?|usd|euros?|eur|pounds?|gbp|sterling|days?|weeks?|"
    r"months?|years?|quarters?)\b)?(?!\d)(?!(?:st|nd|rd|th)\b)"
)
CURRENCIES = {"$": "usd", "€": "eur", "£": "gbp", "dollar": "usd", "usd": "usd", "euro": "eur", "eur": "eur"}
CURRENCIES |= {"pound": "gbp", "gbp": "gbp", "sterling": "gbp"}
DURATIONS = {"day": ("days", 1), "week": ("days", 7), "month": ("months", 1), "quarter": ("months", 3)}
DURATIONS |= {"year": ("months", 12)}
"""A duration's unit and its size in that unit: months and years (and weeks and days) compare."""
MONEY = frozenset({"usd", "eur", "gbp"})
MULTIPLIERS = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6, "bn": 1e9, "billion": 1e9}
PERCENT_SUFFIXES = {"%", "percent", "per cent"}
BASIS_POINTS = {"bp", "bps", "basis points"}
POINTS = {"percentage point", "percentage points", "pp", "ppt", "ppts"}
SPELLED_EXTRA = {r"\ba\s+dozen\b": "12", r"\bdozens?\s+of\b": "24"}
"""Quantity words ``text2num`` leaves alone."""
RATE_NAME = re.compile(r"rate|ratio|pct|percent|share|probab|\bpd\b|margin|utili[sz]ation|yield|apr", re.I)
"""A fact whose name says it is a rate: only such a fact may match a percentage as a fraction."""

_MONTHS = "|".join(
    sorted({*calendar.month_name[1:], *(m for m in calendar.month_abbr[1:])}, key=len, reverse=True)
)
DATE_RE = re.compile(
    r"\b\d{4}-\d{1,2}-\d{1,2}\b"
    r"|\b\d{1,2}[/.]\d{1,2}[/.](?:\d{4}|\d{2})\b"
    rf"|\b(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}\b"
    rf"|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTHS})\.?,?\s+\d{{4}}\b"
    rf"|\b(?:{_MONTHS})\.?,?\s+(?:of\s+)?\d{{4}}\b"
    r"|(?<![\d$€£,.])\b(?:19[5-9]\d|20[0-4]\d)\b(?![,.]\d|\s?%|[\s-](?:dollars?|euros?|pounds?|days?|weeks?|months?|years?))",
    re.IGNORECASE,
)
"""A date in any common form; a bare year from 1950 to 2049 (``in 2021``, ``fiscal 2002``) is one too."""


@dataclass(frozen=True)
class Figure:
    """A number a sentence may state: its value and how it is written (``plain``, ``percent``, ``rate``)."""

    value: float
    kind: str = "plain"
    unit: str | None = ""
    """``usd``/``eur``/``gbp``, ``months``/``days``, ``""`` for a count, ``None`` when not known."""


@dataclass(frozen=True)
class Quantity:
    """A number as written: its value and the step of its last shown digit (``7.3%`` -> 7.3, 0.1)."""

    value: float
    step: float
    percent: bool
    text: str
    unit: str = ""

    def matches(self, other: Figure | float) -> bool:
        """Does ``other`` round to this quantity as written, in the same unit?"""
        figure = other if isinstance(other, Figure) else Figure(float(other))
        if math.isnan(figure.value):
            return False
        if (
            figure.unit is not None
            and not self.percent
            and figure.kind == "plain"
            and figure.unit != self.unit
        ):
            return False
        if figure.kind == "percent" and not self.percent and self.unit:
            return False  # $3.4 is not 3.4%
        if self.percent:
            if figure.kind == "percent":
                target = figure.value
            elif figure.kind == "rate":
                target = figure.value * 100
            else:
                return False
        else:
            target = figure.value
        tolerance = self.step / 2 + 1e-9 * max(1.0, abs(self.value))
        return abs(target - self.value) <= tolerance


def spelled_out(text: str) -> str:
    """``text`` with spelled-out numbers above one written as digits (``twelve`` -> ``12``); figures
    already in digits (with their scale words: ``$1.2 million``) are left exactly as written."""
    for pattern, digits in SPELLED_EXTRA.items():
        text = re.sub(pattern, digits, text, flags=re.IGNORECASE)
    out, last = [], 0
    for m in NUMBER_RE.finditer(text):
        out += [_words_to_digits(text[last : m.start()]), m.group(0)]
        last = m.end()
    return "".join([*out, _words_to_digits(text[last:])])


def _words_to_digits(text: str) -> str:
    if not re.search(r"[a-z]", text, re.IGNORECASE):
        return text
    try:
        return str(alpha2digit(text, "en", threshold=1.0))
    except (ValueError, RuntimeError):  # text2num refuses odd input; the digits already there still count
        return text


def quantities(text: str) -> list[Quantity]:
    """Every number in ``text`` (spelled out or in digits; citation tags, dates, ordinals excluded)."""
    text = DATE_RE.sub(" ", CASE_ID.sub(" ", CITATION_RE.sub(" ", text)))
    return [quantity_of(m) for m in NUMBER_RE.finditer(spelled_out(units_joined(text)))]


_UNIT_WORDS = r"(days?|weeks?|months?|years?|quarters?)"
ABBREVIATED_UNITS = ((r"yrs?", "years"), (r"(?:mos?|mths?)", "months"), (r"wks?", "weeks"))
"""``20 yrs`` and ``3yrs`` are years, ``6 mos`` months (how borrowers write them)."""


def units_joined(text: str) -> str:
    """``ten-year`` -> ``ten year``, ``3yrs`` -> ``3 years`` and ``two or more years`` -> ``two years or
    more``, so a number and its unit are read together."""
    text = re.sub(rf"\b([A-Za-z]+)-{_UNIT_WORDS}\b", r"\1 \2", text)
    for short, unit in ABBREVIATED_UNITS:
        text = re.sub(rf"(?<=\d)\s?{short}\b", f" {unit}", text, flags=re.IGNORECASE)
    return re.sub(rf"\b(\w+)\s+or\s+(more|fewer|less|so)\s+{_UNIT_WORDS}\b", r"\1 \3 or \2", text)


def quantity_of(m: re.Match[str]) -> Quantity:
    """The quantity a :data:`NUMBER_RE` match writes."""
    digits = m.group("num").replace(",", "")
    value = float(digits)
    decimals = len(digits.split(".")[1]) if "." in digits else 0
    step = 10.0**-decimals
    suffix = re.sub(r"\s+", " ", (m.group("suffix") or "").lower())
    multiplier = MULTIPLIERS.get(suffix, 1.0)
    if suffix in BASIS_POINTS:
        value, step = value / 100, step / 100  # basis points -> percent
    percent = suffix in PERCENT_SUFFIXES or suffix in BASIS_POINTS
    sign = -1.0 if m.group("neg") else 1.0
    unit, size = unit_of(m.group("cur"), m.group("unit"))
    if suffix in POINTS:
        unit = "pp"  # a difference of two rates, which no rate supports
    value, step = value * multiplier * size, step * multiplier * size
    return Quantity(sign * value, step, percent, m.group(0).strip(), "" if percent else unit)


def unit_of(symbol: str | None, word: str | None) -> tuple[str, float]:
    """A figure's unit from its currency symbol or the word after it, and the factor to that unit."""
    if symbol:
        return CURRENCIES[symbol], 1.0
    stem = (word or "").lower()
    stem = stem[:-1] if stem.endswith("s") else stem
    if stem in CURRENCIES:
        return CURRENCIES[stem], 1.0
    if stem in DURATIONS:
        unit, size = DURATIONS[stem]
        return unit, float(size)
    return "", 1.0


def figures_in(text: str) -> list[Figure]:
    """The figures a source text states, each in the unit it is written in."""
    return [Figure(q.value, "percent" if q.percent else "plain", q.unit) for q in quantities(text)]


def durations_in(text: str) -> list[Figure]:
    """Only the durations a text states (``Complaints last 90 days`` -> 90 days): a fact's name may
    support the period it names, never a count or an amount."""
    return [f for f in figures_in(text) if f.unit in {"days", "months"}]


def figures_of(value: object, name: str = "", shown: str = "") -> list[Figure]:
    """The figures a fact's value states; a number under a rate's name is a rate. ``shown`` (the
    value as the case file displays it: ``$84,000``, ``14 months``) gives a number its unit; without
    it the unit is not known and any unit matches."""
    if isinstance(value, bool):
        return [Figure(float(value))]
    if isinstance(value, int | float):
        if isinstance(value, float) and math.isnan(value):
            return []
        is_rate = bool(RATE_NAME.search(name)) and abs(float(value)) <= 1.5
        displayed = quantities(shown) if shown else []
        if displayed and displayed[0].percent:
            return [Figure(float(value), "rate" if is_rate else "plain", None), *figures_in(shown)]
        unit = displayed[0].unit if displayed else None
        figure = Figure(float(value), "rate" if is_rate else "plain", unit)
        if displayed and abs(displayed[0].value - float(value)) > 1e-9 * max(1.0, abs(float(value))):
            return [figure, *figures_in(shown)]  # shown in another unit (years for months): both stand
        return [figure]
    if isinstance(value, str):
        return figures_in(value)
    if isinstance(value, Mapping):
        return [f for k, v in value.items() for f in figures_of(v, f"{name} {k}")]
    if isinstance(value, list | tuple):
        return [f for v in value for f in figures_of(v, name)]
    return []


def supported(q: Quantity, allowed: list[Figure]) -> bool:
    return any(q.matches(f) for f in allowed)


@dataclass(frozen=True)
class DateMention:
    year: int
    month: int | None
    day: int | None
    text: str

    def within(self, known: DateMention) -> bool:
        """Every part this mention states agrees with ``known`` (``March 2021`` is within 2021-03-15)."""
        return (
            self.year == known.year
            and (self.month is None or self.month == known.month)
            and (self.day is None or self.day == known.day)
        )


_NO_DAY = datetime(1, 1, 1)
_OTHER_DAY = datetime(1, 2, 2)


def _parse(text: str, *, dayfirst: bool) -> DateMention | None:
    clean = re.sub(r"(\d)(?:st|nd|rd|th)\b", r"\1", text).replace(" of ", " ")
    try:
        a = date_parser.parse(clean, default=_NO_DAY, dayfirst=dayfirst)
        b = date_parser.parse(clean, default=_OTHER_DAY, dayfirst=dayfirst)
    except (ValueError, OverflowError):
        return None
    day = a.day if a.day == b.day else None  # a part the text states is the same under both defaults
    month = a.month if a.month == b.month else None
    return DateMention(a.year, month, day, text)


def dates(text: str) -> list[list[DateMention]]:
    """Every date in ``text``; each with its readings (``03/04/2022`` has two: 4 March and 3 April)."""
    found: list[list[DateMention]] = []
    for m in DATE_RE.finditer(CITATION_RE.sub(" ", text)):
        readings = {r for first in (False, True) if (r := _parse(m.group(0), dayfirst=first))}
        if readings:
            found.append(sorted(readings, key=lambda d: (d.month or 0, d.day or 0)))
    return found


def date_known(readings: list[DateMention], known: list[list[DateMention]]) -> bool:
    return any(r.within(k) for r in readings for ks in known for k in ks)
