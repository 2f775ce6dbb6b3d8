"""The memo's evidence as Markdown: the risk signals found (severity, quoted sentence, citation), the
financial spread with its ratios and any tie warnings, and the repayment figures on the request."""

from __future__ import annotations

from typing import Any

SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}
FIELD_NAMES = {
    "revenue": "Revenue",
    "cost_of_sales": "Cost of sales",
    "gross_profit": "Gross profit",
    "operating_expenses": "Operating expenses",
    "operating_income": "Operating income",
    "net_income": "Net income",
    "cash": "Cash",
    "receivables": "Receivables",
    "inventory": "Inventory",
    "current_assets": "Current assets",
    "total_assets": "Total assets",
    "current_liabilities": "Current liabilities",
    "total_liabilities": "Total liabilities",
    "short_term_debt": "Short-term debt",
    "long_term_debt": "Long-term debt",
    "equity": "Equity",
    "opening_balance": "Opening balance",
    "closing_balance": "Closing balance",
    "deposits": "Deposits",
    "withdrawals": "Withdrawals",
    "lowest_balance": "Lowest balance",
    "overdraft_events": "Overdraft / returned items",
    "days_negative": "Days negative",
}
RATIO_NAMES = {
    "gross_margin": ("Gross margin", "pct"),
    "net_margin": ("Net margin", "pct"),
    "current_ratio": ("Current ratio", "x"),
    "debt_to_equity": ("Debt to equity", "x"),
    "liabilities_to_assets": ("Liabilities to assets", "pct"),
    "months_of_cash": ("Months of cash at current burn", "n"),
    "monthly_payment": ("Monthly payment on the request", "money"),
    "payment_to_monthly_deposits": ("Payment to monthly deposits", "pct"),
    "payment_to_monthly_income": ("Payment to monthly net income", "pct"),
}
MAX_SIGNALS_PER_TYPE = 3
REPAYMENT_RATIOS = ("monthly_payment", "payment_to_monthly_deposits", "payment_to_monthly_income")


def figure_text(field: str, value: float) -> str:
    if field in ("overdraft_events", "days_negative"):
        return f"{value:,.0f}"
    return f"-${-value:,.2f}" if value < 0 else f"${value:,.2f}"


def ratio_text(kind: str, value: float) -> str:
    return {"pct": f"{value:.1%}", "x": f"{value:.2f}×", "n": f"{value:.1f}", "money": f"${value:,.2f}"}[kind]


def _cell(text: str) -> str:
    return " ".join(text.replace("|", "\\|").split())


def signal_lines(signals: list[dict[str, str]]) -> list[str]:
    if not signals:
        return ["No risk signals were found in the documents.", ""]
    lines = ["| severity | signal | evidence (quoted) | source |", "|---|---|---|---|"]
    shown: dict[str, int] = {}
    for s in sorted(signals, key=lambda s: SEVERITY_ORDER.get(s["severity"], 3)):
        shown[s["type"]] = shown.get(s["type"], 0) + 1
        if shown[s["type"]] <= MAX_SIGNALS_PER_TYPE:
            lines.append(f"| {s['severity']} | {s['name']} | “{_cell(s['sentence'])}” | [{s['tag']}] |")
    more = {t: n - MAX_SIGNALS_PER_TYPE for t, n in shown.items() if n > MAX_SIGNALS_PER_TYPE}
    tail = ["More passages: " + ", ".join(f"{t} +{n}" for t, n in more.items()), ""] if more else []
    return [*lines, "", *tail]


def spread_lines(spread: dict[str, Any]) -> list[str]:
    figures = spread.get("figures", {})
    if not figures:
        return ["No financial statement figures were found in the documents.", ""]
    lines = ["| item | value | period | stated in | source |", "|---|---|---|---|---|"]
    order = list(FIELD_NAMES)  # the spread's standard order: a stored memo's keys may come back sorted
    for field in sorted(figures, key=lambda k: order.index(k) if k in order else len(order)):
        f = figures[field]
        lines.append(
            f"| {FIELD_NAMES.get(field, field)} | {figure_text(field, f['value'])} | {f['period'] or '—'} | "
            f"{f['unit'] if f.get('source') != 'text' else 'a sentence, ' + f['unit']} | [{f['tag']}] |"
        )
    ratios = {k: v for k, v in spread.get("ratios", {}).items() if k not in REPAYMENT_RATIOS}
    lines += ["", *ratio_table(ratios)] if ratios else []
    warnings = [f"- ⚠ The spread does not tie: {w}." for w in spread.get("warnings", [])]
    return [*lines, "", *warnings, *([""] if warnings else [])]


def ratio_table(ratios: dict[str, float]) -> list[str]:
    rows = [
        f"| {name} | {ratio_text(kind, ratios[k])} |"
        for k, (name, kind) in RATIO_NAMES.items()
        if k in ratios
    ]
    return ["| ratio | value |", "|---|---|", *rows] if rows else []


def repayment_lines(spread: dict[str, Any]) -> list[str]:
    """The payment on the request against the deposits or income the documents show (when they do)."""
    ratios = {k: v for k, v in spread.get("ratios", {}).items() if k in REPAYMENT_RATIOS}
    if not ratios:
        return ["No bank statement or income statement in the documents gives a repayment figure.", ""]
    terms = spread.get("repayment_terms") or "12 months at 18%"
    return [f"The request repaid over {terms}:", "", *ratio_table(ratios), ""]


def financial_lines(spread: dict[str, Any]) -> list[str]:
    """The financial analysis section: only when the documents gave a spread."""
    if not spread.get("figures"):
        return []
    return ["## Financial analysis", "", *spread_lines(spread)]
