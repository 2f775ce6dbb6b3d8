"""Sentence rules for each risk signal: a trigger, words that must come with it, and what undoes it.

Written from the taxonomy's definitions (:mod:`retrieval.evidence.taxonomy`) in the language of
credit files and annual reports; the sentences that measure them (``data/evidence/``) were
labelled by hand from filings and never fed back into these patterns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


@dataclass(frozen=True)
class SignalRule:
    type: str
    trigger: re.Pattern[str]
    """What the sentence must say; where it matches is where negation and modality are looked for."""
    requires: re.Pattern[str] | None = None
    """Another thing the sentence must also say (a legal noun needs a verb that makes it real)."""
    resolved: re.Pattern[str] | None = None
    """Words that say the matter is over (settled, remediated): then it is not a signal."""


LEGAL_NOUN = (
    r"\b(?:lawsuits?|suits?|litigation|class actions?|legal (?:action|proceedings?)|arbitration|"
    r"(?:consolidated |amended |individual |opt[- ]out |class action )*complaints?|plaintiffs?|claims? (?:of|for) \$|"
    r"\w+ v\. |(?:the )?court (?:ruled|granted|denied|consolidated|approved|preliminarily|entered|struck)|"
    r"motions? (?:to dismiss|for (?:class certification|summary judgment)))"
)
LEGAL_REAL = (
    r"\b(?:filed|pending|brought|alleg\w+|named as (?:a )?defendants?|seek(?:s|ing)|sued|commenced|"
    r"served|verdict|judgments? (?:was|were|against)|awarded|ordered to pay|is ongoing|remains? open|moved to "
    r"dismiss|proceeding on|ruled|granted|denied|consolidated|approved|stages of litigation|involved in|agreed to "
    r"pay|reached (?:an )?agreement to settle)\b|\bv\. "
)
AGENCY = (
    r"\b(?:regulators?|regulatory authorit\w+|attorneys? general|FTC|Federal Trade Commission|CFPB|Consumer "
    r"Financial Protection|SEC|Securities and Exchange Commission|Department of Justice|DOJ|FDA|EPA|Environmental Protection Agency|OCC|FDIC|"
    r"consumer protection (?:office|agency|authority)|state (?:regulator|agency|banking department)|"
    r"government(?:al)? agenc\w+|Comptroller|Federal Reserve|licensing authority)\b"
)
AGENCY_ACTION = (
    r"\b(?:opened (?:an|a formal)? ?(?:inquiry|investigation)|(?:an|a formal) (?:inquiry|investigation) "
    r"(?:into|of)|subpoena\w*|enforcement action|consent (?:order|decree)|cease[- ]and[- ]desist|civil "
    r"investigative demand|Wells notice|(?:fined|assessed a (?:civil )?penalty|civil money penalt\w+)|"
    r"warning letter|memorandum of understanding|supervisory agreement|notice of violation|(?:is|are|was|were) "
    r"investigating|informal inquiry|(?:its|their|the|an|a) (?:ongoing |formal )?investigation|cooperating with)\b"
)

RULES: tuple[SignalRule, ...] = (
    SignalRule("going_concern",
               _re(r"\bgoing[- ]concern\b"),
               requires=_re(r"\b(?:substantial|significant) doubt\b|\bability to continue\b|going[- ]concern "
                            r"(?:qualification|opinion|explanatory|paragraph|uncertainty|warning)"),
               resolved=_re(r"\b(?:alleviated|no longer (?:exists|applies))\b")),
    SignalRule("bankruptcy",
               _re(r"\b(?:filed (?:a )?(?:voluntary |involuntary )?(?:petitions? )?(?:for|under) (?:relief under )?"
                   r"(?:bankruptcy|chapter (?:7|11|13))|chapter (?:7|11) (?:bankruptcy|proceedings?|case|petition)|"
                   r"(?:is|are|was|were|became|remains?) insolvent|insolvency proceedings?|placed (?:in|into) "
                   r"(?:receivership|administration|liquidation)|appointed (?:a |as )?(?:receiver|administrator|"
                   r"liquidator)|emerged from (?:chapter 11|bankruptcy)|debtor[- ]in[- ]possession|"
                   r"bankruptcy (?:court|filing|proceedings?|petition))")),
    SignalRule("litigation", _re(LEGAL_NOUN), requires=_re(LEGAL_REAL),
               resolved=_re(r"\b(?:settled and closed|was settled|were settled|paid in full|dismissed with "
                            r"prejudice|was dismissed|were dismissed|resolved in (?:our|its|the company's) favou?r|"
                            r"withdrawn)\b")),
    SignalRule("regulatory_action", _re(AGENCY_ACTION), requires=_re(AGENCY)),
    SignalRule("regulatory_action",
               _re(r"\b(?:pay|paid|assessed|imposed|incurred) (?:a |an )?(?:civil (?:money )?|regulatory |administrative )"
                   r"(?:penalty|penalties|fines?)\b")),
    SignalRule("concentration",
               _re(r"\b(?:customers?|clients?|suppliers?|vendors?|distributors?|retailers?|licensees?|wholesalers?|"
                   r"purchasers?)\b[^;]{0,120}\b(?:accounted|represented|comprised|made up|was responsible) (?:for )?"
                   r"(?:approximately |about |over |more than |nearly |roughly )?\d+(?:\.\d+)?\s?(?:%|percent)|"
                   r"\b(?:sales|revenues?) (?:to|from) (?:our )?(?:top|largest|\w+ largest) (?:\w+ )?(?:\w+ )?customers?"
                   r"[^;]{0,100}\b(?:totaled|totalled|were|was|represented|accounted for) (?:approximately |about )?"
                   r"\d+(?:\.\d+)?\s?(?:%|percent)|"
                   r"(?-i:\b(?!(?:Our|The|This|That|These|Its|Each|No|Other|Segment|Product)\b)[A-Z][\w&'’.-]+"
                   r"(?:\s+[A-Z][\w&'’.-]+){0,3}),?\s+(?:which\s+)?accounted for (?:approximately |about )?\d+(?:\.\d+)?"
                   r"\s?(?:%|percent) of (?:our |the company's )?(?:net |total |consolidated )?(?:sales|revenues?)|"
                   r"\b(?:sole|single)[- ]source (?:suppliers?|vendors?|manufacturers?)\b|\b(?:largest|single "
                   r"largest|one|two|three|a few|a small number of|a limited number of) (?:customers?|clients?|"
                   r"suppliers?)\b[^;]{0,80}\b(?:accounted|represented|comprised)|\bdepend(?:s|ed|ent)? "
                   r"(?:heavily |substantially )?(?:on|upon) (?:a |one |two |few |a few |a small number of |a limited "
                   r"number of |our main |our largest |a single )(?:key )?(?:customers?|clients?|suppliers?)")),
    SignalRule("covenant_breach",
               _re(r"\b(?:(?:in )?breach(?:ed|es)? (?:of )?[^;]{0,40}?covenants?|"
                   r"covenant (?:breach|violation|default)s?|(?:not|non-?) ?in compliance with [^;]{0,60}covenants?|"
                   r"violat\w+ [^;]{0,40}covenants?|events? of default (?:has|have|had) occurred|(?:is|are|was|were) in "
                   r"default (?:on|under)|defaulted (?:on|under)|forbearance agreement|(?:obtained|received|requested) "
                   r"(?:a |an )?(?:waivers?|amendment)[^;]{0,60}covenants?|accelerat\w+ (?:of )?(?:the )?(?:maturity|"
                   r"repayment|debt|loan|indebtedness|notes)|missed (?:a |an |its |our )?(?:scheduled )?(?:interest |"
                   r"principal |loan )?payments?|failed to (?:make|pay) (?:a |the |its |our )?(?:scheduled )?"
                   r"(?:interest |principal |loan )?payments?)")),
    SignalRule("liquidity_stress",
               _re(r"\b(?:(?:invoices?|bills?|payables?|balances?|rent|wages|payments?) [^;]{0,60}\b(?:overdue|past "
                   r"due|in arrears|unpaid)|(?:overdue|past[- ]due|unpaid) (?:invoices?|bills?|wages|suppliers?|"
                   r"rent|payables?)|shipments? [^;]{0,40}on hold|on credit hold|liabilities exceed(?:ed|s)? "
                   r"(?:its |our |the company's )?(?:liquid|current) (?:resources|assets)|working capital deficit|"
                   r"negative working capital|insufficient (?:cash|liquidity|funds)|cash shortfall|(?:ran|run|"
                   r"running) out of cash|overdrafts? (?:fees?|events?|occurred)|returned (?:items?|payments?) "
                   r"(?:events?|occurred)|(?:unable|inability) to (?:pay|meet) (?:its |our )?(?:obligations|debts|"
                   r"suppliers|payroll|bills)|bounced (?:checks?|payments?))")),
    SignalRule("revenue_decline",
               _re(r"\b(?:(?:total |net )?(?:revenues?|sales|turnover)[^;]{0,60}\b(?:decreased|declined|fell|dropped|"
                   r"(?:was|were) down|contracted)|(?:decrease|decline|drop|fall|reduction) (?:of [^;]{0,30})?in "
                   r"(?:total |net )?(?:revenues?|sales)|(?:incurred|reported|recorded|had|generated|sustained) "
                   r"(?:a |an )?(?:significant |substantial |recurring |continuing |net |operating )*losses?\b|"
                   r"recurring (?:operating |net )?losses|(?:net|operating) loss(?:es)? (?:of|was|were|for|attributable)"
                   r"|accumulated deficit (?:of|was)|history of losses)")),
    SignalRule("complaint_surge",
               _re(r"\b(?:(?:\d[\d,]*|dozens of|hundreds of|numerous|a surge of|a wave of|growing number of|mounting) "
                   r"(?:customer |consumer )?complaints?|complaints? (?:mount|rose|increased|surged|doubled)|"
                   r"complaints mount|(?:fraudulent|unauthori[sz]ed) (?:recurring )?(?:charges|transactions|"
                   r"activity) (?:were|was|have been) (?:reported|found|identified|discovered)|(?:alleged|reported|"
                   r"discovered|uncovered|admitted) (?:a )?(?:fraud|embezzlement|misappropriation)|complaints? about "
                   r"unauthori[sz]ed)")),
    SignalRule("chargeback_surge",
               _re(r"\b(?:chargebacks?|disputes?|refunds?|reversals?|returns)\b[^;]{0,40}\b(?:rose|increased|"
                   r"surged|spiked|doubled|tripled|climbed|exceed\w*|above (?:the )?(?:threshold|limit))|"
                   r"(?:excessive|elevated|rising|high) (?:chargebacks?|disputes?|refunds? rates?)|"
                   r"(?:chargeback|dispute|fraud) monitoring program|refused refunds|waiting for refunds")),
    SignalRule("delivery_delay",
               _re(r"\b(?:pre-?orders?\b[^;]{0,80}\b(?:charged|ship|months)|ship \d+[-–]\d+ months|charged (?:in "
                   r"advance|at checkout)[^;]{0,80}(?:months|fulfil|ship)|(?:orders?|bookings?) (?:are|is) charged "
                   r"in advance|never arrived|undelivered (?:goods|orders)|(?:stopped|halted|suspended) shipping|"
                   r"(?:waiting|still waiting) for (?:their )?(?:orders|deliveries|goods)|backlog of (?:unfilled|"
                   r"undelivered) orders|delivery (?:delays|backlog)|delayed (?:deliveries|shipments|fulfil\w+))")),
    SignalRule("tax_lien",
               _re(r"\b(?:tax liens?|liens? [^;]{0,30}(?:IRS|Internal Revenue Service|tax authorit\w+)|(?:IRS|"
                   r"Internal Revenue Service|HMRC|tax authorit\w+) [^;]{0,40}(?:levy|lien|seized)|unpaid "
                   r"(?:payroll |sales |income |property )?taxes|delinquent (?:payroll |property |sales )?taxes|"
                   r"tax arrears|notice of (?:tax )?deficiency)")),
    SignalRule("management_turnover",
               _re(r"\b(?:chief executive|chief financial|chief operating|CEO|CFO|COO|president|founder|treasurer|"
                   r"controller|chairman)\b[^;]{0,80}\b(?:resigned|stepped down|departed|left the company|was "
                   r"terminated|was dismissed|retired|will retire|was replaced)|\b(?:resignation|departure|"
                   r"termination|dismissal) of (?:our|its|the company's) (?:former )?(?:chief|CEO|CFO|COO|president|"
                   r"founder|chairman)|\bresigned (?:from [^;]{0,80})?as (?:the |our |its )?(?:chief|CEO|CFO|COO|"
                   r"president)|\binterim (?:chief executive|chief financial|CEO|CFO|president)")),
    SignalRule("auditor_change",
               _re(r"\b(?:dismissed|replaced|changed|terminated|engaged a new|appointed a new) [^;]{0,60}\b(?:"
                   r"independent (?:registered public )?(?:accountants?|accounting firm|auditors?)|(?:accountants?|"
                   r"auditors?))\b|\b(?:accountants?|accounting firm|auditors?) (?:resigned|declined to stand|was "
                   r"dismissed)|\bchange in (?:our |the company's )?(?:independent )?(?:certifying )?(?:accountants?|"
                   r"auditors?)\b(?! and disagreements)|\bresigned as (?:the |our |its )?(?:company's )?(?:independent )?"
                   r"(?:registered public )?(?:accountants?|accounting firm|auditors?)")),
    SignalRule("material_weakness",
               _re(r"\b(?:material weakness(?:es)?|(?:internal control over financial reporting|disclosure controls "
                   r"and procedures) (?:was|were) (?:not effective|ineffective))"),
               resolved=_re(r"\b(?:has been|have been|was|were) remediated\b")),
)  # fmt: skip

NEGATION = _re(
    r"\b(?:no|not|none|never|neither|nor|without|absence of|free of|denies|denied|nothing|cannot identify|unaware "
    r"of|not aware of|did not|does not|do not|have not|has not|is not|are not|was not|were not|no longer|nil)\b"
)
"""Cue words that, shortly before a trigger, deny it ("no litigation is pending", "did not identify any material
weakness")."""
NEGATION_WINDOW = 60
"""Characters before a trigger searched for a negation cue."""

HYPOTHETICAL = _re(
    r"\b(?:may|might|could|would|should|can|if|unless|whether|potential(?:ly)?|possible|possibly|risks? (?:of|that)|"
    r"no assurance|cannot (?:assure|guarantee)|can be no assurance|in the event|to the extent|intend|plan|"
    r"seek to|were to|likely)\b"
)
"""Words that make a trigger a possibility rather than a fact ("we may become subject to litigation")."""
HYPOTHETICAL_WINDOW = 80
HYPOTHETICAL_OPENING = _re(r"^\s*(?:if|should|in the event|unless|to the extent)\b")
"""A sentence that opens with a condition is about a possibility throughout."""
