"""The credit risk signals an underwriter looks for in a merchant's documents, each with a plain definition.

A signal is a sentence that states the condition exists or has happened to the business (a suit
is pending, revenue fell, the auditor doubts it can go on). A sentence that only says it could
happen ("we may become subject to litigation"), denies it ("no litigation is pending") or says it
is over ("the claim was settled and paid") is not a signal. ``docs/evidence.md`` has the guide
the labelled sentences were labelled by.
"""

from __future__ import annotations

from dataclasses import dataclass

SEVERITIES = ("high", "medium", "low")


@dataclass(frozen=True)
class SignalType:
    id: str
    name: str
    severity: str
    definition: str


TAXONOMY: tuple[SignalType, ...] = (
    SignalType("going_concern", "Going-concern doubt", "high",
               "The auditor or management states substantial doubt that the business can continue as a going concern."),
    SignalType("bankruptcy", "Bankruptcy or insolvency", "high",
               "The business (or a parent, subsidiary or major counterparty it names) has filed for bankruptcy, "
               "entered receivership or administration, or is insolvent."),
    SignalType("litigation", "Litigation", "medium",
               "A lawsuit, claim, arbitration or class action against the business is pending or was decided "
               "against it."),
    SignalType("regulatory_action", "Regulatory or enforcement action", "high",
               "A regulator, attorney general or government agency has opened an inquiry or investigation, issued "
               "a subpoena, order, fine or penalty, or taken enforcement action against the business."),
    SignalType("concentration", "Customer or supplier concentration", "low",
               "One or a few customers or suppliers account for a large share of revenue or supply."),
    SignalType("covenant_breach", "Covenant breach or loan default", "high",
               "The business breached a loan covenant, defaulted or missed a payment, needed a waiver or "
               "forbearance, or had debt accelerated."),
    SignalType("liquidity_stress", "Liquidity stress", "high",
               "Cash is short: overdue bills or suppliers, overdrafts or returned items, a working-capital deficit, "
               "liabilities exceeding liquid resources, or cash running out."),
    SignalType("revenue_decline", "Revenue decline or losses", "medium",
               "Revenue or sales fell, or the business made a net or operating loss or carries an accumulated deficit."),
    SignalType("complaint_surge", "Fraud or complaint surge", "high",
               "Customers complain in numbers, or fraud, unauthorised charges or deceptive practices are reported."),
    SignalType("chargeback_surge", "Chargeback or refund surge", "medium",
               "Chargebacks, disputes or refunds rose, or are above a card-scheme or processor threshold."),
    SignalType("delivery_delay", "Delayed delivery or pre-orders", "medium",
               "Goods are charged long before delivery (pre-orders, advance bookings) or orders arrive late or "
               "never: future-delivery exposure."),
    SignalType("tax_lien", "Tax lien", "medium",
               "A tax authority holds a lien or levy, or taxes are unpaid or assessed in arrears."),
    SignalType("management_turnover", "Management turnover", "low",
               "A chief executive, finance chief, founder or other senior officer left, resigned or was replaced."),
    SignalType("auditor_change", "Auditor change", "medium",
               "The business dismissed, replaced or changed its independent auditor."),
    SignalType("material_weakness", "Material weakness", "medium",
               "Internal control over financial reporting has a material weakness, or controls were not effective."),
)  # fmt: skip

SIGNAL_TYPES = {t.id: t for t in TAXONOMY}
