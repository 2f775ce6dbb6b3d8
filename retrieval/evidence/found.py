"""Everything code finds in a set of passages: the risk signals they state and the financial spread their
statements give, with the signals the figures themselves show. One entry for the case file and the monitor."""

from __future__ import annotations

from retrieval.evidence.signals import Passage, Signal, find_signals
from retrieval.evidence.spreads import Spread, build_spread, spread_signals

POLICY_TERM_MONTHS = 12
POLICY_ANNUAL_RATE = 0.18
"""The term and rate repayment capacity assumes for a request: a 12-month advance at 18% a year, the
demo policy's working assumption for merchant cash advances."""


def evidence_in(
    passages: list[Passage], sections: dict[str, str], requested: float | None = None
) -> tuple[list[Signal], Spread]:
    """The signals stated in ``passages`` and shown by their figures, and the spread the figures give.
    ``sections`` names each passage's section (by tag) for the statement readers."""
    spread = build_spread(
        passages,
        sections,
        requested=requested,
        term_months=POLICY_TERM_MONTHS,
        annual_rate=POLICY_ANNUAL_RATE,
    )
    return find_signals(passages) + spread_signals(spread), spread
