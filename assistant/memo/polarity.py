"""Does a sentence say the opposite of the passage it cites? Negation scoped to its clause.

Each side is cut into clauses (at ``;``, ``:``, ``but``, ``since``, ``because``, ``while`` ...; not at
``and`` or ``with``, which a negation reaches across), and each clause gets a
polarity: the product of its negation cues (``not``, ``no``, ``nothing``, ``hardly``, ``free of``,
``yet to``, ``lacks``) and of the direction of its event words, read as pairs (``met`` / ``missed``,
``breached``; ``rose`` / ``fell``; ``won`` / ``lost``, ``adverse judgment``; ``repaid`` / ``charged
off``; ``sufficient`` / ``falls short``). A sentence clause is compared with the cited clause it shares
most words with, among those that speak of the same events (the pair's words count twice: ``missed``
shares ``met``); opposite polarities on two or more shared words drop the sentence. A clause about what the passage leaves out (``does not say how
much``) negates no fact and is not compared. A cited clause that is only a condition (``if the
triggers were met, we could ...``) asserts nothing and is not compared. ``rather than X``, ``, not X``
and ``and not X`` are read as the sentence denying X, so X is left out of the clause.
"""

from __future__ import annotations

import re

NEGATION = re.compile(
    r"\b(?:not|no|never|none|nor|neither|without|cannot|nothing|nobody|hardly|barely|scarcely|absence|absent|"
    r"lacks?|lacking|lacked|free\s+(?:of|from)|yet\s+to|unable\s+to|den(?:y|ies|ied)|rul(?:e|es|ed)\s+out)\b|n't\b",
    re.IGNORECASE,
)
_CASE = r"(?:the\s+|its\s+|a\s+|that\s+|this\s+)?(?:\w+\s+)?(?:case|suit|lawsuit|litigation|trial|appeal|claim|dispute|action|it)\b"
"""What is won or lost in the litigation pair (``lost the Carradine litigation``; not ``lost customers``)."""
EVENTS: tuple[tuple[str, str, int], ...] = (
    (
        r"(?:fall|falls|falling|fell|run|runs|ran|running)\s+short|shortfall|insufficient|inadequate",
        "suffic",
        -1,
    ),
    (r"sufficient|adequate", "suffic", 1),
    (
        r"charged[\s-]off|charge[\s-]offs?|written[\s-]off|defaulted|(?:went|gone|go|fell|is|was)\s+in(?:to)?\s+default",
        "repaid",
        -1,
    ),
    (r"paid\s+in\s+full|repaid|paid\s+off|paid\s+back", "repaid", 1),
    (r"missed|breach(?:ed|es)?|violated|fail(?:ed|s)?\s+(?:to\s+meet|to\s+satisfy|its|the)|broke", "met", -1),
    (r"met|complied|satisfied|in\s+compliance|reached", "met", 1),
    (
        rf"(?:lost|lose|loses|losing)\s+{_CASE}|adverse\s+(?:judgment|ruling|verdict|decision)|judgment\s+went\s+against",
        "won",
        -1,
    ),
    (rf"(?:won|win|wins|winning|prevailed\s+in|escaped?)\s+{_CASE}|dismissed", "won", 1),
    (r"decreas\w*|fell|fall(?:s|ing)?|declin(?:e|ed|es|ing)|drop(?:s|ped)?|shr[ai]nk\w*|lower", "rise", -1),
    (r"increas\w*|rose|ris(?:e|es|en|ing)|gr[eo]w(?:s|th|ing|n)?|climb\w*|higher", "rise", 1),
    (r"new\s+(?:business|start-?up)|start-?up", "exist", -1),
    (r"existing\s+business|established\s+business", "exist", 1),
)
_EVENT_RES = tuple(
    (re.compile(rf"\b(?:{rx})\b", re.IGNORECASE), f"#{canon}", sign) for rx, canon, sign in EVENTS
)
"""Each pair's name is marked (``#met``) so it never collides with a word's stem."""
SYNONYMS = {
    "lawsu": "litig",
    "suit": "litig",
    "suits": "litig",
    "expec": "antic",
    "fores": "antic",
    "impac": "affec",
    "hurt": "affec",
    "harm": "affec",
    "finan": "fundi",
    "fund": "fundi",
    "funds": "fundi",
    "guara": "guara",
}
STOP = frozenset(
    [
        "that",
        "this",
        "with",
        "from",
        "have",
        "were",
        "been",
        "their",
        "there",
        "which",
        "about",
        "would",
        "could",
        "should",
        "into",
        "than",
        "then",
    ]
)
STOP |= frozenset(
    [
        "they",
        "them",
        "also",
        "such",
        "some",
        "more",
        "most",
        "other",
        "only",
        "over",
        "very",
        "what",
        "when",
        "where",
        "while",
        "will",
    ]
)
STOP |= frozenset(
    [
        "company",
        "merchant",
        "business",
        "borrower",
        "says",
        "said",
        "states",
        "stated",
        "reports",
        "reported",
        "filing",
        "does",
    ]
)
CLAUSE_SPLIT = re.compile(
    r";|:|,?\s+\b(?:but|since|because|although|though|whereas|while)\b\s+|,\s+(?=it\b|we\b|which\b)"
)
CONDITION = re.compile(
    r"^\s*(?:should|were|had)\b|\b(?:if|unless)\b|\b(?:could|might|may)\s+(?:be|have)\b", re.IGNORECASE
)
"""A clause that states a condition or a possibility (``if the triggers were met``, ``could be required``)."""
SILENCE = re.compile(
    r"\b(?:not|never|n't)\s+(?:\w+\s+)?(?:say|state|mention|disclose|specify|give|report|describe|quantify|"
    r"explain|detail|show|list|indicate|address|break\s+down)\b|\b(?:no|without)\s+(?:\w+\s+)?(?:figure|"
    r"breakdown|detail|mention|amount|date)s?\b|\bis\s+silent\b"
    r"|\bnot\s+(?:\w+\s+)?(?:need|have)\s+to\b|\bnot\s+(?:be\s+)?required\s+to\b|\bno\s+need\b|\bnot\s+yet\b|\byet\s+to\b",
    re.IGNORECASE,
)
"""A clause about what the passage leaves out (``does not say how much``): it negates no fact."""
RATHER = re.compile(
    r"(?:\brather\s+than|\binstead\s+of|\band\s+not|,\s*not|\bnot\s+as)\b[^,;.]*", re.IGNORECASE
)
"""``paid in full, not charged off``, ``fell rather than rose``: the denied alternative is left out."""


def clause_reading(clause: str) -> tuple[set[str], int]:
    """A clause's words (5-letter stems, the event pairs' names) and its polarity (+1 / -1)."""
    text = RATHER.sub(" ", clause)
    directions: dict[str, set[int]] = {}
    for rx, canon, direction in _EVENT_RES:
        if rx.search(text):
            directions.setdefault(canon, set()).add(direction)
        text = rx.sub(" ", text)
    words = set(directions)
    sign = (
        -1 if sum(d == {-1} for d in directions.values()) % 2 else 1
    )  # "defaulted and was charged off": one fact
    negations = NEGATION.findall(text)
    sign *= -1 if len(negations) % 2 else 1
    rest = NEGATION.sub(" ", text)
    for w in [*re.findall(r"[a-z]{4,}", rest.lower()), *(a.lower() for a in ACRONYM.findall(rest))]:
        if w not in STOP:
            words.add(SYNONYMS.get(w[:5], w[:5]))
    return words, sign


ACRONYM = re.compile(r"\b[A-Z]{2,4}\b")
CANONS = frozenset(canon for _, canon, _ in _EVENT_RES)


def _shared(a: set[str], b: set[str]) -> int:
    """Words two clauses share; an event pair's name (``met``) counts twice, being what polarity is about."""
    both = a & b
    return len(both) + len(both & CANONS)


def clauses(text: str) -> list[str]:
    parts = []
    for sentence in re.split(r"(?<=[.!?])\s+|\n+", text):
        if re.match(r"\s*if\b", sentence, re.IGNORECASE):
            continue  # a condition asserts nothing either way
        parts += [p for p in CLAUSE_SPLIT.split(sentence) if p and p.strip()]
    return parts


def polarity_reasons(sentence: str, cited: str) -> list[str]:
    """A sentence that negates what the cited passage asserts, or asserts what it negates."""
    if not cited:
        return []
    sources = [(part, *clause_reading(part)) for part in clauses(cited) if not CONDITION.search(part)]
    for claim in clauses(sentence):
        if SILENCE.search(claim) or CONDITION.search(claim):
            continue
        words, sign = clause_reading(claim)
        best, overlap, other = "", 0, sign
        for part, source_words, source_sign in sources:
            if (words & CANONS) != (source_words & CANONS):
                continue  # one speaks of an event the other does not: their polarities are about different things
            shared = _shared(words, source_words)
            if shared > overlap:
                best, overlap, other = part, shared, source_sign
        if overlap >= 2 and sign != other:
            said = "negates" if sign < 0 else "asserts"
            return [f"{said} what the cited passage says the other way ('{' '.join(best.split())[:80]}')"]
    return []
