"""What a sentence claims beyond its figures and verdicts: an order, a polarity, a count, a ratio.

Each function returns the reasons a sentence fails (empty when it passes), so the validator can
list every reason for a dropped sentence (verdicts, grades and PDs are in ``verdicts.py``). The
phrasings are those an LLM uses: ``nine of the ten similar cases performed``, ``is not subject to
litigation``, ``doubled``.
"""

from __future__ import annotations

import re

from assistant.memo.words import words
from retrieval.documents.screening_rules import skeleton

ADDRESSES_RE = re.compile(
    r"\b(?:you|your|yours|yourself)\b|^\W*(?:please\s+|kindly\s+)?(?:ignore|disregard|forget|pay\s+no\s+attention|"
    r"set\s+aside|do\s+not|don't|stop|override|approve|rate|classify|describe|output|state|report|omit|leave\s+out|"
    r"give|treat|consider|confirm|hide|mark|skip|remove|delete|say|tell|write|set|change|assign|put|drop|"
    r"forget|let)\b",
    re.IGNORECASE,
)
"""A sentence that speaks to its reader (``you``) or gives an order: a memo states findings, never orders."""


def address_reasons(sentence: str) -> list[str]:
    found = ADDRESSES_RE.search(skeleton(sentence))
    return [f"addresses its reader ('{found.group(0).strip()}'): an order, not a finding"] if found else []


# ---- support stop words (validation.support) ----------------------------------------------------

SUPPORT_STOPWORDS = words(
    """about according all also am and any applicant being borrower both business but can company could
    described describes did do document does each filing firm having he here i if into it it's just
    may merchant might more most must noted notes only onto or other over own passage report
    reported reports said same says shall she should shows so some stated states such text them then
    there they very we what when where which while who whom whose will would you via per
    one two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty hundred"""
)
"""Words a summary sentence may use without its passage having them: function words, the names a
summary gives its subject and the verbs it reports with (``the filing says``), and number words (the
figure check reads those: ``one business day`` for ``1 business days``)."""
ABBREVIATED_UNITS = {"yrs": "year", "yr": "year", "mos": "month", "mths": "month", "mth": "month"}
ABBREVIATED_UNITS |= {"wks": "week", "wk": "week", "hrs": "hour", "hr": "hour"}
"""How borrowers write durations (``20 yrs on full time job``)."""
SUPPORT_SYNONYMS = {
    **dict.fromkeys(["expec", "antic", "belie", "fores"], "expec"),
    **dict.fromkeys(["impac", "affec", "hurt", "harm"], "affec"),
    **dict.fromkeys(["cover", "suppo", "suffi"], "suffi"),
    **dict.fromkeys(["fund", "funds", "fundi", "finan"], "fund"),
    **dict.fromkeys(["buy", "buys", "purch", "acqui"], "buy"),
    **dict.fromkeys(["fell", "decre", "decli", "drop", "dropp", "lower"], "decre"),
    **dict.fromkeys(["rose", "incre", "grew", "grow", "grown", "rise", "risen", "highe", "growt"], "incre"),
    **dict.fromkeys(["volum", "sales", "sale", "turno", "takin"], "volum"),
    **dict.fromkeys(["loan", "loans", "credi", "borro", "lende", "lend"], "loan"),
}
"""Stems read as one word by ``validation.support`` (a faithful paraphrase changes such words)."""


def stem(word: str) -> str:
    """A word's 5-letter stem, a plural's ``s`` and a unit's abbreviation (``yrs``) read first: ``days``
    and ``60-day``, ``ships`` and ``ship``, ``20 yrs`` and ``20 years`` are one word to the checks."""
    base = word.lower()
    base = ABBREVIATED_UNITS.get(base, base)
    if len(base) > 3 and base.endswith("s") and not base.endswith("ss"):
        base = base[:-1]
    return SUPPORT_SYNONYMS.get(base[:5], base[:5])


RATIO_WORDS = re.compile(
    r"\b(?:twice|doubled?|doubling|tripled?|halved|by\s+half|two-fold|twofold|threefold)\b", re.I
)


def ratio_reasons(sentence: str, cited: str) -> list[str]:
    """``doubled`` / ``twice`` / ``halved`` must be in the text the sentence cites."""
    out = []
    for m in RATIO_WORDS.finditer(sentence):
        stem = m.group(0).lower().replace("by ", "")[:4]
        if stem not in cited.lower():
            out.append(f"'{m.group(0)}' is not in the cited text")
    return out
