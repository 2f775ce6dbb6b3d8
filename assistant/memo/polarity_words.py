"""The words the polarity check reads: event pairs with their direction, negation cues, and the
clauses that assert nothing (conditions, what a passage leaves out).

The grammar comes from the dependency parse (``polarity.py``); these lists say which words carry a
polarity of their own (``missed`` is ``met`` the other way), which words negate what they govern
(``lacks``, ``without``, ``free of``) and which verbs pass a negation on to what they govern
(``does not expect it to affect`` denies the effect).
"""

from __future__ import annotations

import re

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
        r"charged[\s-]off|charge[\s-]offs?|written[\s-]off|default(?:s|ed|ing)?|unpaid|delinquen\w*|past\s+due|in\s+arrears|(?:went|gone|go|fell|is|was)\s+in(?:to)?\s+default",
        "repaid",
        -1,
    ),
    (r"paid\s+in\s+full|repaid|paid\s+off|paid\s+back", "repaid", 1),
    (
        r"miss(?:ed|es)?|breach(?:ed|es)?|violat(?:e|ed|es)|fail(?:ed|s)?\s+(?:to\s+meet|to\s+satisfy|its|the)|broke",
        "met",
        -1,
    ),
    (r"meet|meets|met|compl(?:y|ied|ies)|satisf(?:y|ied|ies)|in\s+compliance|reach(?:ed|es)?", "met", 1),
    (
        rf"(?:lost|lose|loses|losing)\s+{_CASE}|adverse\s+(?:judgment|ruling|verdict|decision|outcome|result)|judgment\s+went\s+against",
        "won",
        -1,
    ),
    (rf"(?:won|win|wins|winning|prevailed\s+in|escaped?)\s+{_CASE}|dismissed", "won", 1),
    (r"decreas\w*|fell|fall(?:s|ing)?|declin(?:e|ed|es|ing)|drop(?:s|ped)?|shr[ai]nk\w*|lower", "rise", -1),
    (r"increas\w*|rose|ris(?:e|es|en|ing)|gr[eo]w(?:s|th|ing|n)?|climb\w*|higher", "rise", 1),
    (r"new\s+(?:business|start-?up)|start-?up", "exist", -1),
    (r"existing\s+business|established\s+business", "exist", 1),
    (r"s[oe]ld|sells?|selling|sale|divest\w*|dispos(?:ed|al)\s+of", "kept", -1),
    (r"kept|keeps?|keeping|retain(?:s|ed|ing)?|held\s+on(?:to)?", "kept", 1),
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
    "hinde": "affec",
    "imped": "affec",
    "hampe": "affec",
    "const": "affec",
    "suffe": "affec",
    "impai": "affec",
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
CONDITION = re.compile(
    r"^\s*(?:should|were|had)\b|\b(?:if|unless)\b|\b(?:could|might|may)\s+(?:be|have)\b", re.IGNORECASE
)
"""A clause that states a condition or a possibility (``if the triggers were met``, ``could be required``)."""
SILENCE = re.compile(
    r"\b(?:not|never|n't)\s+(?:\w+\s+)?(?:say|state|mention|disclose|specify|give|report|describe|quantify|"
    r"explain|detail|show|list|indicate|address|break\s+down)\b|\b(?:no|without)\s+(?:\w+\s+)?(?:figure|"
    r"breakdown|detail|mention|amount|date)s?\b|\bis\s+silent\b"
    r"|\bnot\s+(?:\w+\s+)?(?:need|have)\s+to\b|\bnot\s+(?:be(?:en)?\s+)?required\s+to\b|\bno\s+need\b|\bnot\s+yet\b|\byet\s+to\b",
    re.IGNORECASE,
)
"""A clause about what the passage leaves out (``does not say how much``): it negates no fact."""
RATHER = re.compile(
    r"(?:\brather\s+than|\binstead\s+of|\band\s+not|,\s*not|\bnot\s+as)\b[^,;.]*", re.IGNORECASE
)
"""``paid in full, not charged off``, ``fell rather than rose``: the denied alternative is left out."""


NEGATORS = frozenset(["not", "n't", "never", "hardly", "barely", "scarcely", "nowhere"])
"""Adverbs and particles that negate the word they modify."""
NEGATIVE_PRONOUNS = frozenset(["nothing", "none", "nobody", "neither", "noone", "no-one"])
"""A subject or object that is nothing negates its verb (``nothing suggests``, ``found none``)."""
NEGATIVE_DETERMINERS = frozenset(["no", "neither"])
"""``no employees``: the noun is denied; ``no triggers were met``: the verb is."""
PRIVATIVE_VERBS = frozenset(
    ["lack", "deny", "forgo", "omit", "exclude", "avoid", "escape", "evade", "prevent"]
)
"""Verbs that deny their object (``lacks the certification``)."""
PRIVATIVE_PREPOSITIONS = frozenset(["without"])
PRIVATIVE_HEADS = frozenset(["free", "absence", "absent", "devoid", "void", "clear"])
"""``free of litigation``, ``absence of covenants``: their ``of`` / ``from`` object is denied."""
IMPLICATIVE_NEGATIVE = frozenset(["fail", "unable", "refuse", "decline", "neglect", "unlikely", "improbable"])
"""``failed to repay``: the complement did not happen."""
TRANSPARENT = frozenset(
    [
        "believe",
        "expect",
        "anticipate",
        "think",
        "suggest",
        "indicate",
        "show",
        "foresee",
        "predict",
        "consider",
        "intend",
        "plan",
        "appear",
        "seem",
        "mean",
        "imply",
        "find",
        "see",
        "estimate",
        "project",
    ]
)
"""Verbs whose negation reaches their complement: ``does not believe it is sufficient`` denies
sufficiency. Such a verb is not compared itself."""
DOUBTING = frozenset(["doubt", "deny", "question", "dispute", "reject"])
"""Verbs that deny the clause they govern (``doubts its liquidity will cover``)."""
NEGATIVE_NOUNS = frozenset(
    ["problem", "issue", "concern", "difficulty", "trouble", "obstacle", "doubt", "shortage", "sign"]
)
"""``sees no liquidity problem`` asserts that liquidity is fine: a denied trouble word is no denial of
a fact (``no sign of distress`` likewise)."""
FOCUS = re.compile(
    r"\bnot\s+(?:\w+\s+){0,3}?(?:only|solely|merely|entirely|wholly|just|all|whole|every|single|always)\b"
    r"|\bno\s+(?:\w+\s+){0,3}?(?:other\s+than|except|besides|beyond|but)\b",
    re.IGNORECASE,
)
"""A negation whose focus is a quantifier (``not only``, ``not the whole loan``, ``not from a single
cause``) denies the quantifier, not the fact."""
CORRECTION = re.compile(r"^\s*(?:;|,?\s*but\b|,?\s*instead\b|\s*-+\s)", re.IGNORECASE)
"""``not X; it is Y``: the negated clause is corrected by the one after it, which carries the claim."""
LIGHT_VERBS = frozenset(
    ["be", "have", "do", "get", "make", "take", "go", "become", "remain", "include", "contain"]
)
"""Verbs too general to compare on their own; their objects and complements are compared."""
COMPARISON = re.compile(
    r"\b(?:than|keep(?:s|ing)?\s+(?:up|pace)|kept\s+(?:up|pace)|as\s+\w+\s+as|outpac\w*|match(?:ed|es)?|"
    r"offset(?:s|ting)?|make\s+up\s+for|made\s+up\s+for|compensat\w*)\b",
    re.IGNORECASE,
)
"""A negated comparison restates its converse (``did not keep pace with attrition`` is ``attrition
exceeded sales``): it denies no fact of its own."""
