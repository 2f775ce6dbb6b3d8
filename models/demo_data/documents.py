"""Merchant documents: what an underwriter reads besides the numbers.

Each merchant gets 2-6 documents built from its tabular record and its hidden
facts: a business description, financial statements whose figures add up, a
bank-statement summary, website / terms text, and for some an adverse news
article, a litigation note or a supplier notice. Personal data (owner name,
email, phone, bank account, tax id) is planted where real documents carry it,
and a small share of documents carry instructions aimed at an LLM.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from models.demo_data.industries import INDUSTRIES
from models.demo_data.injections import INJECTION_RATE, PlannedDoc, plant_injection
from models.demo_data.render import Doc, Section
from models.demo_data.words import CITIES, FIRST_NAMES, LAST_NAMES, NEWS_OUTLETS


def money(x: float) -> str:
    return f"${x:,.0f}" if x >= 0 else f"-${-x:,.0f}"


def pct(x: float, digits: int = 1) -> str:
    return f"{100 * x:.{digits}f}%"


@dataclass
class Identity:
    """Who the merchant is, including the personal data planted in its documents."""

    legal_name: str
    owner: str
    email: str
    phone: str
    bank_account: str
    tax_id: str
    city: str
    founded: int


def make_identity(
    rng: random.Random, legal_name: str, country: str, decision_year: int, tenure: int
) -> Identity:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    domain = legal_name.split()[0].lower() + legal_name.split()[1].lower() + ".example"
    return Identity(
        legal_name=legal_name,
        owner=f"{first} {last}",
        email=f"{first.lower()}.{last.lower()}@{domain}",
        phone=f"+1-555-{rng.randint(100, 999):03d}-{rng.randint(1000, 9999):04d}",
        bank_account=f"{rng.randint(10_000_000, 99_999_999)}{rng.randint(1000, 9999)}",
        tax_id=f"{rng.randint(10, 99)}-{rng.randint(1_000_000, 9_999_999)}",
        city=rng.choice(CITIES[country]),
        founded=decision_year - max(1, round(tenure / 12)),
    )


def business_description(m: dict, h: dict, who: Identity, rng: random.Random) -> Doc:
    industry = INDUSTRIES[h["industry_index"]]
    products = ", ".join(industry.products)
    claimed = m["monthly_volume"] * (rng.choice([3.0, 0.3]) if h["contradiction"] else 1.0)
    purpose = (
        "working capital and inventory" if m["product"] == "cash_advance" else "a higher processing limit"
    )
    paras = [
        f"{who.legal_name} is a business in the {industry.name.lower().replace('saas', 'SaaS')} sector, based in {who.city}, founded in "
        f"{who.founded} by {who.owner}, who remains the managing director. The business sells "
        f"{products} to consumers.",
        f"We process approximately {money(claimed)} in card payments per month, with an average "
        f"transaction of {money(m['avg_ticket'])}. We have used card processing for "
        f"{m['tenure_months']} months.",
        f"We are requesting {money(m['requested_amount'])} to fund {purpose}.",
        f"Contact: {who.owner}, {who.email}.",
    ]
    if h["supplier_problems"] and rng.random() < 0.5:
        paras.insert(
            2,
            "Our main supplier recently changed its payment terms, which has put pressure on stock levels.",
        )
    return Doc(
        "business_description",
        f"Business description: {who.legal_name}",
        [Section("About the business", paras)],
    )


def financial_statements(m: dict, h: dict, who: Identity, rng: random.Random) -> tuple[Doc, dict]:
    f = _financials(m, h, rng)
    fy = int(m["decision_date"][:4]) - 1
    income = Section(
        f"Income statement, fiscal year {fy}",
        [],
        [(label, money(f[key])) for label, key in INCOME_LINES],
    )
    balance = Section(
        f"Balance sheet at year end {fy}",
        [],
        [(label, money(f[key])) for label, key in BALANCE_LINES],
    )
    notes = [f"Prepared for {who.legal_name} (tax id {who.tax_id}). All amounts in USD."]
    if h["going_concern"]:
        notes.append(
            "Auditor's note: the Company has incurred recurring losses and its current liabilities exceed "
            "its liquid resources. These conditions raise substantial doubt about the Company's ability to "
            "continue as a going concern within one year."
        )
    else:
        notes.append(
            "Auditor's note: the statements present fairly, in all material respects, the financial position of the Company."
        )
    current_liabilities = f["current_liabilities"]
    facts = {
        "revenue": f["revenue"],
        "net_income": f["net"],
        "cash": f["cash"],
        "total_assets": f["total_assets"],
        "current_ratio": round(f["current_assets"] / current_liabilities, 3) if current_liabilities else None,
    }
    return Doc(
        "financial_statements",
        f"Financial statements {fy}: {who.legal_name}",
        [income, balance, Section("Notes", notes)],
    ), facts


INCOME_LINES = (
    ("Revenue", "revenue"),
    ("Cost of goods sold", "cogs"),
    ("Gross profit", "gross"),
    ("Operating expenses", "opex"),
    ("Operating income", "operating"),
    ("Interest expense", "interest"),
    ("Income tax", "tax"),
    ("Net income", "net"),
)
BALANCE_LINES = (
    ("Cash", "cash"),
    ("Receivables", "receivables"),
    ("Inventory", "inventory"),
    ("Total current assets", "current_assets"),
    ("Fixed assets", "fixed_assets"),
    ("Total assets", "total_assets"),
    ("Accounts payable", "payables"),
    ("Short-term debt", "short_debt"),
    ("Total current liabilities", "current_liabilities"),
    ("Long-term debt", "long_debt"),
    ("Owners' equity", "equity"),
)


def _financials(m: dict, h: dict, rng: random.Random) -> dict[str, float]:
    """A year's income statement and balance sheet consistent with the merchant's volume, margin and loan."""
    industry = INDUSTRIES[h["industry_index"]]
    card_share = rng.uniform(0.65, 1.0)
    revenue = round(m["monthly_volume"] * 12 / card_share, -2)
    cogs = round(revenue * industry.cogs, -2)
    gross = revenue - cogs
    interest = round(m["loan_balance"] * 0.12, -2)
    net_target = revenue * h["net_margin"]
    pretax_target = net_target / 0.79 if net_target > 0 else net_target
    operating = round(pretax_target + interest, -2)
    pretax = operating - interest
    tax = round(max(0.0, pretax) * 0.21, -2)
    cash = round(max(500.0, revenue * rng.uniform(0.01, 0.12) * (0.3 if h["going_concern"] else 1.0)), -2)
    receivables = round(revenue * rng.uniform(0.01, 0.05), -2)
    inventory = round(cogs * rng.uniform(0.05, 0.2), -2)
    current_assets = cash + receivables + inventory
    fixed_assets = round(revenue * rng.uniform(0.05, 0.3), -2)
    total_assets = current_assets + fixed_assets
    payables = round(cogs * rng.uniform(0.05, 0.15) * (2.0 if h["supplier_problems"] else 1.0), -2)
    short_debt = round(m["loan_balance"] * 0.4, -2)
    current_liabilities = payables + short_debt
    long_debt = m["loan_balance"] - short_debt
    return {
        "revenue": revenue,
        "cogs": cogs,
        "gross": gross,
        "opex": gross - operating,
        "operating": operating,
        "interest": interest,
        "tax": tax,
        "net": pretax - tax,
        "cash": cash,
        "receivables": receivables,
        "inventory": inventory,
        "current_assets": current_assets,
        "fixed_assets": fixed_assets,
        "total_assets": total_assets,
        "payables": payables,
        "short_debt": short_debt,
        "current_liabilities": current_liabilities,
        "long_debt": long_debt,
        "equity": total_assets - current_liabilities - long_debt,
    }


def bank_statement(m: dict, h: dict, who: Identity, rng: random.Random) -> Doc:
    deposits = round(m["monthly_volume"] * 3 * rng.uniform(0.9, 1.1), 2)
    opening = round(m["monthly_volume"] * rng.uniform(0.05, 0.6), 2)
    withdrawals = round(deposits * rng.uniform(0.9, 1.08), 2)
    closing = round(opening + deposits - withdrawals, 2)
    overdrafts = int(min(m["negative_balance_days"], 30) // 2) + (2 if h["supplier_problems"] else 0)
    lowest = round(-rng.uniform(500, 5000), 2) if m["negative_balance_days"] > 0 else round(opening * 0.2, 2)
    table = [
        ("Opening balance", f"${opening:,.2f}"),
        ("Total deposits", f"${deposits:,.2f}"),
        ("Total withdrawals", f"${withdrawals:,.2f}"),
        ("Closing balance", f"${closing:,.2f}"),
        ("Lowest daily balance", f"${lowest:,.2f}" if lowest >= 0 else f"-${-lowest:,.2f}"),
        ("Overdraft or returned-item events", str(overdrafts)),
    ]
    return Doc(
        "bank_statement",
        f"Bank statement summary: {who.legal_name}",
        [
            Section(
                "Account",
                [
                    f"Business current account {who.bank_account}, held by {who.legal_name}. "
                    "Summary of the last three months."
                ],
            ),
            Section("Summary", [], table),
        ],
    )


def website_terms(m: dict, h: dict, who: Identity, rng: random.Random) -> Doc:
    refund_days = rng.choice([14, 30, 30, 60])
    paras = [f"Refunds: you may return unused items within {refund_days} days of delivery for a full refund."]
    if h["preorder_months"]:
        months = int(h["preorder_months"])
        paras.append(
            f"Pre-orders: items marked pre-order are charged at checkout and ship {months}-{months + 2} months "
            "after the order is placed. Delivery dates are estimates and may move."
        )
    elif m["delivery_lag_days"] > 20:
        paras.append(
            f"Bookings and orders are charged in advance; fulfilment typically occurs within {m['delivery_lag_days']} days."
        )
    else:
        paras.append(f"Orders ship within {max(1, m['delivery_lag_days'])} business days.")
    paras.append(f"Questions? Call {who.phone} or write to {who.email}.")
    return Doc("website_terms", f"Website terms of service: {who.legal_name}", [Section("Terms", paras)])


def news_article(m: dict, h: dict, who: Identity, rng: random.Random) -> Doc:
    outlet = rng.choice(NEWS_OUTLETS)
    if h["adverse_news"]:
        count = rng.randint(12, 180)
        story = rng.choice(
            [
                f"Customers say orders from {who.legal_name} never arrived. {count} complaints were filed with the "
                "consumer protection office in the last quarter, most about undelivered goods and refused refunds.",
                f"The state regulator opened an inquiry into {who.legal_name} after {count} customer complaints "
                "about unauthorised recurring charges.",
                f"Former staff of {who.legal_name} describe unpaid wages and a warehouse that has stopped shipping; "
                f"{count} customers are still waiting for refunds.",
            ]
        )
        title = f"{outlet}: complaints mount against {who.legal_name}"
    else:
        story = (
            f"{who.legal_name} was named one of {who.city}'s favourite local businesses this year, "
            "citing friendly service and reliable delivery."
        )
        title = f"{outlet}: local award for {who.legal_name}"
    return Doc("news_article", title, [Section("Article", [story])])


def litigation_note(m: dict, h: dict, who: Identity, rng: random.Random) -> Doc:
    claim = round(m["monthly_volume"] * rng.uniform(0.5, 4.0), -3)
    plaintiff = rng.choice(
        [
            "Northwind Logistics",
            "Consumer Rights Group",
            "Harbor Lease Partners",
            "A former supplier",
        ]
    )
    if h["litigation"]:
        text = (
            f"{plaintiff} v. {who.legal_name}: a claim of {money(claim)} for breach of contract is pending. "
            "Counsel expects a hearing within six months; no provision has been made in the accounts."
        )
    else:
        text = (
            f"{plaintiff} v. {who.legal_name}: a claim of {money(claim)} was settled and closed; "
            "the settlement has been paid in full."
        )
    return Doc(
        "litigation_note",
        f"Litigation disclosure: {who.legal_name}",
        [Section("Proceedings", [text])],
    )


def supplier_notice(m: dict, h: dict, who: Identity, rng: random.Random) -> Doc:
    overdue = round(m["monthly_volume"] * rng.uniform(0.2, 1.0), -2)
    days = rng.choice([45, 60, 90])
    text = (
        f"Dear {who.owner}, invoices totalling {money(overdue)} are now more than {days} days overdue. "
        "Further shipments to your account are on hold until the balance is settled."
    )
    return Doc(
        "supplier_notice",
        f"Supplier notice to {who.legal_name}",
        [Section("Account on hold", [text])],
    )


def plan_documents(m: dict, h: dict, who: Identity, rng: random.Random) -> tuple[list[PlannedDoc], dict]:
    """Choose and build the documents of one merchant; return them and the financial facts."""
    fin_doc, facts = financial_statements(m, h, who, rng)
    planned = [
        PlannedDoc(business_description(m, h, who, rng), rng.choice(["txt", "md"]), pii=["owner", "email"]),
        PlannedDoc(fin_doc, rng.choice(["pdf", "html"]), pii=["tax_id"]),
    ]
    optional: list[PlannedDoc] = []
    if h["adverse_news"] or h["positive_press"]:
        optional.append(PlannedDoc(news_article(m, h, who, rng), rng.choice(["md", "html", "txt"])))
    if h["litigation"] or h["litigation_settled"]:
        optional.append(PlannedDoc(litigation_note(m, h, who, rng), rng.choice(["txt", "pdf"])))
    if h["supplier_problems"]:
        optional.append(
            PlannedDoc(supplier_notice(m, h, who, rng), rng.choice(["txt", "pdf"]), pii=["owner"])
        )
    if h["preorder_months"] or rng.random() < 0.75:
        planned.append(PlannedDoc(website_terms(m, h, who, rng), "html", pii=["phone", "email"]))
    if len(planned) + len(optional) < 6 and rng.random() < 0.8:
        planned.append(
            PlannedDoc(bank_statement(m, h, who, rng), rng.choice(["txt", "pdf"]), pii=["bank_account"])
        )
    planned += optional
    if rng.random() < INJECTION_RATE:
        plant_injection(rng.choice(planned), rng)
    return planned, facts
