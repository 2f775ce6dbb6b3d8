"""A standard financial spread from a case's statements (tables and text), every figure with its passage,
period and unit; ratios computed in code; ties checked; the signals the figures themselves show."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

from text_to_num import alpha2digit

from retrieval.evidence.sentences import prose_sentences
from retrieval.evidence.signals import Passage, Signal
from retrieval.evidence.spread_lines import COUNT_FIELDS, field_of, period_of, statement_lines, unit_of
from retrieval.evidence.taxonomy import SIGNAL_TYPES

TEXT_FIGURE = re.compile(
    r"\b(?P<label>total (?:net )?revenues?|net revenues?|revenues?|total net sales|net sales|net income|net loss|"
    r"cash and cash equivalents|total assets)"
    r"(?:\s+(?:for|in|during|at|as of)\s+(?:the\s+)?(?:fiscal\s+)?(?:year|quarter|period)?[\w ,]{0,30}?)?"
    r"\s*,?\s+(?:was|were|of|totaled|totalled|amounted to|(?:increased|decreased|grew|declined|rose|fell)[^$;]{0,40}?"
    r"\bto)\s+\$\s?(?P<num>\d[\d,]*(?:\.\d+)?)\s*(?P<scale>million|billion|thousand)?",
    re.IGNORECASE,
)
"""A consolidated figure stated in a sentence: ``Total revenues for fiscal 2014 were $1,923.5 million``,
``net income of $415 million``; not ``revenue from Toshiba of $74.2 million`` (a part, not the total)."""
TEXT_FIELDS = {"net loss": "net_income", "cash and cash equivalents": "cash", "total assets": "total_assets"}
SCALES = {"thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
STATEMENT_MONTHS = re.compile(r"\b(?:last|past|previous)\s+(\d+)\s+months\b", re.IGNORECASE)
TIE_TOLERANCE = 0.01
"""A subtotal more than 1% (and more than 1 unit) away from its parts does not tie."""


@dataclass(frozen=True)
class Figure:
    field: str
    value: float
    """In currency units (the statement's thousands or millions already applied)."""
    unit: str
    period: str
    tag: str
    doc_id: str
    quote: str
    source: str = "table"
    """``table`` (a statement line) or ``text`` (a sentence)."""


@dataclass
class Spread:
    figures: dict[str, Figure] = field(default_factory=dict)
    ratios: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    statement_months: int | None = None

    def value(self, name: str) -> float | None:
        return self.figures[name].value if name in self.figures else None

    def to_dict(self) -> dict[str, object]:
        return {
            "figures": {k: asdict(v) for k, v in self.figures.items()},
            "ratios": self.ratios,
            "warnings": self.warnings,
            "statement_months": self.statement_months,
        }


def _add(spread: Spread, figure: Figure) -> None:
    spread.figures.setdefault(figure.field, figure)  # the first statement that states a field is its source


def _table_figures(passage: Passage, section: str) -> Iterable[Figure]:
    scale, unit = unit_of(passage.text)
    period = period_of(section, passage.text)
    for line in statement_lines(passage.text):
        name = field_of(line.label)
        if name is None:
            continue
        value = line.value if name in COUNT_FIELDS else line.value * scale
        yield Figure(
            name,
            value,
            "count" if name in COUNT_FIELDS else unit,
            period,
            passage.tag,
            passage.doc_id,
            line.text,
        )


def _text_figures(passage: Passage) -> Iterable[Figure]:
    for sentence in prose_sentences(passage.text):
        for found in TEXT_FIGURE.finditer(sentence):
            label = found.group("label").lower()
            name = TEXT_FIELDS.get(label, "net_income" if "income" in label else "revenue")
            scale = SCALES.get((found.group("scale") or "").lower(), 1)
            value = float(found.group("num").replace(",", "")) * scale
            if label == "net loss":
                value = -value
            yield Figure(
                name,
                value,
                found.group("scale") or "as written",
                period_of(sentence),
                passage.tag,
                passage.doc_id,
                sentence,
                source="text",
            )


def build_spread(
    passages: Iterable[Passage],
    sections: dict[str, str] | None = None,
    requested: float | None = None,
    term_months: int = 12,
    annual_rate: float = 0.18,
) -> Spread:
    """The spread of ``passages`` (tables first, then sentences for fields no table gave)."""
    passages = list(passages)
    sections = sections or {}
    spread = Spread()
    for passage in passages:
        for figure in _table_figures(passage, sections.get(passage.tag, "")):
            _add(spread, figure)
    spread.statement_months = _statement_months(spread, passages)
    stated: dict[str, list[Figure]] = {}
    for passage in passages:
        for figure in _text_figures(passage):
            stated.setdefault(figure.field, []).append(figure)
    for figures in stated.values():  # a sentence's figure of the latest period (a filing's own year) first
        _add(spread, max(figures, key=lambda f: f.period))
    spread.ratios = ratios(spread, requested, term_months, annual_rate)
    spread.warnings = tie_warnings(spread)
    return spread


def _statement_months(spread: Spread, passages: list[Passage]) -> int | None:
    """How many months a bank statement's deposits cover, as its own text says ("the last three months")."""
    if "deposits" not in spread.figures:
        return None
    for passage in passages:
        if passage.doc_id == spread.figures["deposits"].doc_id:
            months = STATEMENT_MONTHS.search(str(alpha2digit(passage.text, "en")))
            if months and int(months.group(1)) > 0:
                return int(months.group(1))
    return None


def _div(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def same_period(spread: Spread, *fields: str) -> bool:
    """Whether the stated figures among ``fields`` are all of one period (undated figures go with any)."""
    periods = {spread.figures[f].period for f in fields if f in spread.figures and spread.figures[f].period}
    return len(periods) <= 1


def monthly_payment(amount: float, annual_rate: float, term_months: int) -> float:
    """A level payment that repays ``amount`` over ``term_months`` at ``annual_rate``."""
    rate = annual_rate / 12
    return amount / term_months if rate == 0 else amount * rate / (1 - (1 + rate) ** -term_months)


def _liabilities(spread: Spread) -> float | None:
    """Total liabilities as stated, else current liabilities plus long-term debt."""
    stated, current = spread.value("total_liabilities"), spread.value("current_liabilities")
    if stated is not None or current is None:
        return stated
    return current + (spread.value("long_term_debt") or 0.0)


def _debt(spread: Spread) -> float | None:
    short, long = spread.value("short_term_debt"), spread.value("long_term_debt")
    return None if short is None and long is None else (short or 0.0) + (long or 0.0)


def ratios(spread: Spread, requested: float | None, term_months: int, annual_rate: float) -> dict[str, float]:
    def v(name: str) -> float | None:
        return spread.value(name)

    pairs = {
        "gross_margin": ("gross_profit", "revenue"),
        "net_margin": ("net_income", "revenue"),
        "current_ratio": ("current_assets", "current_liabilities"),
    }
    out = {k: _div(v(a), v(b)) if same_period(spread, a, b) else None for k, (a, b) in pairs.items()}
    if same_period(spread, "short_term_debt", "long_term_debt", "equity"):
        out["debt_to_equity"] = _div(_debt(spread), v("equity"))
    if same_period(spread, "total_liabilities", "current_liabilities", "long_term_debt", "total_assets"):
        out["liabilities_to_assets"] = _div(_liabilities(spread), v("total_assets"))
    net, cash, deposits = v("net_income"), v("cash"), v("deposits")
    if net is not None and net < 0 and cash is not None and same_period(spread, "net_income", "cash"):
        out["months_of_cash"] = cash / (-net / 12)
    if requested:
        payment = monthly_payment(requested, annual_rate, term_months)
        out["monthly_payment"] = payment
        if deposits is not None and spread.statement_months:
            out["payment_to_monthly_deposits"] = _div(payment, deposits / spread.statement_months)
        if net is not None and net > 0 and "net_income" in spread.figures:
            out["payment_to_monthly_income"] = payment / (net / 12)
    return {k: round(x, 4) for k, x in out.items() if x is not None}


TIES = (
    ("gross profit", "gross_profit", ("revenue",), ("cost_of_sales",)),
    ("operating income", "operating_income", ("gross_profit",), ("operating_expenses",)),
    ("total current assets", "current_assets", ("cash", "receivables", "inventory"), ()),
    ("closing balance", "closing_balance", ("opening_balance", "deposits"), ("withdrawals",)),
)


def tie_warnings(spread: Spread) -> list[str]:
    """Subtotals that do not add up, and a balance sheet whose assets are not liabilities plus equity."""
    v = spread.value
    out = []
    for name, total, plus, minus in TIES:
        parts = [v(p) for p in (*plus, *minus)]
        stated = v(total)
        if stated is None or any(p is None for p in parts):
            continue
        computed = sum(v(p) for p in plus) - sum(v(m) for m in minus)  # type: ignore[misc]
        if abs(computed - stated) > max(1.0, TIE_TOLERANCE * abs(stated)):
            out.append(f"{name} does not tie: stated {stated:,.2f}, parts give {computed:,.2f}")
    assets, equity, liabilities = v("total_assets"), v("equity"), _liabilities(spread)
    if (
        assets is not None
        and equity is not None
        and liabilities is not None
        and abs(assets - liabilities - equity) > max(1.0, TIE_TOLERANCE * abs(assets))
    ):
        out.append(
            f"balance sheet does not tie: assets {assets:,.2f}, liabilities plus equity {liabilities + equity:,.2f}"
        )
    return out


def _signal(kind: str, figure: Figure) -> Signal:
    t = SIGNAL_TYPES[kind]
    return Signal(kind, t.name, t.severity, figure.quote, figure.tag, figure.doc_id, source="spread")


def spread_signals(spread: Spread) -> list[Signal]:
    """What the figures show on their own: a loss, overdrafts, a negative balance, current liabilities above
    current assets."""
    f = spread.figures
    out = []
    if "net_income" in f and f["net_income"].value < 0:
        out.append(_signal("revenue_decline", f["net_income"]))
    if "overdraft_events" in f and f["overdraft_events"].value > 0:
        out.append(_signal("liquidity_stress", f["overdraft_events"]))
    if "closing_balance" in f and f["closing_balance"].value < 0:
        out.append(_signal("liquidity_stress", f["closing_balance"]))
    if spread.ratios.get("current_ratio", 2.0) < 1.0:
        out.append(_signal("liquidity_stress", f["current_liabilities"]))
    return out
