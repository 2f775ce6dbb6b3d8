"""Questions of fact answered from the case file before any LLM: a figure from the financial spread, a
ratio computed in code, a risk signal (or its absence), or a value from the data, each with its citation.

``What was the closing balance?`` is answered ``Closing balance: $16,849.92 [C6].``; a question none of
these covers goes on to the document search and the LLM.
"""

from __future__ import annotations

import re

from assistant.case.schema import CaseFile
from assistant.memo.evidence_text import FIELD_NAMES, RATIO_NAMES, figure_text, ratio_text
from retrieval.evidence.taxonomy import SIGNAL_TYPES

FIGURE_WORDS: dict[str, str] = {
    "revenue": r"revenues?|sales|turnover|top line",
    "cost_of_sales": r"cost of (?:goods sold|sales|revenue)|cogs",
    "gross_profit": r"gross profit",
    "operating_expenses": r"operating expenses|opex",
    "operating_income": r"operating (?:income|profit|loss)",
    "net_income": r"net (?:income|profit|loss|earnings)|bottom line|profit",
    "cash": r"cash(?: on hand| balance| and cash equivalents)?",
    "receivables": r"receivables?",
    "inventory": r"inventor(?:y|ies)|stock on hand",
    "current_assets": r"current assets",
    "total_assets": r"total assets|assets",
    "current_liabilities": r"current liabilities",
    "total_liabilities": r"total liabilities|liabilities",
    "long_term_debt": r"long[- ]term debt",
    "short_term_debt": r"short[- ]term debt",
    "equity": r"equity|net worth",
    "opening_balance": r"opening balance|starting balance|beginning balance",
    "closing_balance": r"closing balance|ending balance|end(?:ing)? (?:bank )?balance|balance at the end",
    "deposits": r"deposits",
    "withdrawals": r"withdrawals",
    "lowest_balance": r"lowest (?:daily )?balance|minimum balance",
    "overdraft_events": r"overdrafts?|returned items?|bounced",
}
RATIO_WORDS: dict[str, str] = {
    "gross_margin": r"gross margin",
    "net_margin": r"net margin|profit margin",
    "current_ratio": r"current ratio|liquidity ratio",
    "debt_to_equity": r"debt[- ]to[- ]equity|leverage|gearing",
    "liabilities_to_assets": r"liabilities to assets",
    "months_of_cash": r"months of cash|cash runway|runway",
    "monthly_payment": r"monthly payment|repayment amount",
    "payment_to_monthly_deposits": r"repayment capacity|payment to (?:monthly )?deposits|afford",
}
SIGNAL_WORDS: dict[str, str] = {
    "going_concern": r"going[- ]concern",
    "bankruptcy": r"bankrupt\w*|insolven\w*|receivership",
    "litigation": r"litigation|lawsuits?|sued|legal (?:claims?|action|proceedings?)|court",
    "regulatory_action": r"regulators?|regulatory|investigation|enforcement|inquiry",
    "concentration": r"concentration|largest customer|main supplier|single customer",
    "covenant_breach": r"covenants?|loan default|defaulted",
    "liquidity_stress": r"liquidity|overdue|unpaid (?:bills|suppliers|invoices)|supplier problems?|cash (?:crunch|shortfall)",
    "revenue_decline": r"revenue (?:decline|fall|drop)|losing money|losses|loss-making",
    "complaint_surge": r"complaints?|fraud",
    "chargeback_surge": r"chargebacks?|disputes?|refund surge",
    "delivery_delay": r"pre-?orders?|delivery (?:delays?|lag)|undelivered|future[- ]delivery",
    "tax_lien": r"tax liens?|unpaid tax(?:es)?",
    "management_turnover": r"management (?:turnover|change)|resign\w*|ceo (?:left|change)",
    "auditor_change": r"auditor change|changed (?:its |their )?auditors?",
    "material_weakness": r"material weakness|internal controls?",
}
DATA_NOTE = "(from the data)"
TEXT_SOURCED = "No statement table gives"


def _longest(question: str, table: dict[str, str]) -> tuple[str, int] | None:
    best: tuple[str, int] | None = None
    for key, words in table.items():
        for found in re.finditer(rf"\b(?:{words})\b", question, re.IGNORECASE):
            size = found.end() - found.start()
            if best is None or size > best[1]:
                best = (key, size)
    return best


def _signal_answer(case: CaseFile, kind: str) -> tuple[str, list[str]]:
    found = [s for s in case.evidence.signals if s["type"] == kind]
    name = SIGNAL_TYPES[kind].name
    if not found:
        docs = len(case.documents)
        return f"No {name.lower()} signal was found in the case's {docs} document(s).", []
    lines = [f"Yes: {name} ({found[0]['severity']}), {len(found)} passage(s)."]
    lines += [f"“{s['sentence']}” [{s['tag']}]" for s in found[:3]]
    return "\n".join(lines), list(dict.fromkeys(s["tag"] for s in found[:3]))


def _fact_answer(case: CaseFile, question: str) -> tuple[str, list[str]] | None:
    q = question.lower()
    for fact in sorted(case.facts, key=lambda f: -len(f.name)):
        if fact.name.lower() in q or fact.key.replace("_", " ") in q:
            return f"{fact.name}: {fact.text()} {DATA_NOTE}.", []
    return None


def fact_answer(case: CaseFile, question: str) -> tuple[str, list[str]] | None:
    """``(answer, citations)`` when the case file answers ``question`` directly, else None."""
    figure = _longest(question, FIGURE_WORDS)
    ratio = _longest(question, RATIO_WORDS)
    signal = _longest(question, SIGNAL_WORDS)
    asks_yes_no = re.match(r"\s*(?:is|are|was|were|has|have|does|do|did|any)\b", question, re.IGNORECASE)
    if signal and (asks_yes_no or not (figure or ratio)):
        return _signal_answer(case, signal[0])
    if ratio and (figure is None or ratio[1] >= figure[1]):
        value = case.evidence.ratios().get(ratio[0])
        name, kind = RATIO_NAMES[ratio[0]]
        if value is None:
            return f"{name}: the documents do not give the figures it needs.", []
        tags = sorted({f["tag"] for f in case.evidence.figures().values()})
        return (
            f"{name}: {ratio_text(kind, value)} (computed from the spread {''.join(f'[{t}]' for t in tags)}).",
            tags,
        )
    if figure is not None:
        f = case.evidence.figures().get(figure[0])
        if f is None:
            return _fact_answer(case, question)
        name = FIELD_NAMES[figure[0]]
        if f.get("source") == "text":  # read from a sentence, not a statement line: show it, do not assert it
            return f"{TEXT_SOURCED} {name.lower()}; a sentence states it: “{f['quote']}” [{f['tag']}]", [
                f["tag"]
            ]
        period = f" ({f['period']})" if f["period"] else ""
        return f"{name}{period}: {figure_text(figure[0], f['value'])} [{f['tag']}].", [f["tag"]]
    return _fact_answer(case, question)
