"""Verdicts a sentence passes on the case: a decision, a judgement of its risk, a grade, a PD.

The decision band and the grade are stated by the deterministic sections; a sentence an LLM wrote
may repeat the model's grade and PD, never another, and (where ``allow_verdicts`` is off, as in every
LLM section) passes no decision or judgement at all, in any phrasing. Three layers, each returning the
reasons a sentence fails:

* phrasings, by rule: a decision verb with a modal or as an order (``should be accepted``, ``we'd
  greenlight``, ``turn down this application``), a decision as a label or an answer
  (``Recommendation: approve``, ``is a yes``, ``OK to fund``), a judgement word (``bankable``,
  ``creditworthy``, ``low risk``, ``unlikely to default``);
* meaning, by the embedding classifier of ``verdict_model.py``, for phrasings no rule lists;
* grades in any scale (``A``, ``BBB+``, ``Baa2``, ``investment grade``, ``triple-A``, ``tier one``,
  ``the second-best grade``) and a probability of default under any name (``likelihood``,
  ``chance`` or ``odds of default``, ``P.D.``, ``EDF``, ``risk of charge-off``), which must be the
  model's.
"""

from __future__ import annotations

import re

from assistant.memo.figures import Figure, quantities

BAND_WORDS: dict[str, str] = {
    **dict.fromkeys(
        ["approve", "approved", "approval", "approving", "accept", "accepted", "acceptance"], "approve"
    ),
    **dict.fromkeys(
        ["grant", "granted", "greenlight", "greenlit", "onboard", "onboarded", "onboarding"], "approve"
    ),
    **dict.fromkeys(
        [
            "fund",
            "funded",
            "funding",
            "lend",
            "lending",
            "extend",
            "extended",
            "board",
            "boarded",
            "sign off",
        ],
        "approve",
    ),
    **dict.fromkeys(["go ahead", "proceed", "take on", "offer"], "approve"),
    **dict.fromkeys(
        ["decline", "declined", "declining", "reject", "rejected", "rejection", "deny"], "decline"
    ),
    **dict.fromkeys(
        ["denied", "denial", "refuse", "refused", "refusal", "turn down", "turned down"], "decline"
    ),
    **dict.fromkeys(
        ["withhold", "withheld", "pass on", "walk away", "knock back", "knocked back"], "decline"
    ),
    **dict.fromkeys(["refer", "referred", "referral", "escalate", "escalated", "escalation"], "refer"),
}
_VERBS = "|".join(sorted((re.escape(w).replace(r"\ ", r"\s+") for w in BAND_WORDS), key=len, reverse=True))
_ORDERS = "|".join(
    sorted(
        (
            re.escape(w).replace(r"\ ", r"\s+")
            for w in BAND_WORDS
            if not re.search(r"(?:ed|al|ion|ance|ing|lit)$", w)
        ),
        key=len,
        reverse=True,
    )
)
"""The verbs in the form of an order (``approve the loan``); ``the bank approved the loan`` is a fact."""
_SUBJECT = (
    r"merchant|applicant|application|loan|request|case|business|company|borrower|firm|client|file|facility|"
    r"credit|limit|advance|account|deal|line"
)
_MODAL = (
    r"recommend(?:s|ed|ation)?(?:\s+is|\s+of|\s+to)?|advise[sd]?|suggest(?:s|ed)?|should|must|ought\s+to|"
    r"would|could|can|we|we'd|i'd|i|let's|best\s+to|better\s+to|safe\s+to|fine\s+to|ok\s+to|okay\s+to|"
    r"right\s+to|time\s+to|ready\s+to|cleared?\s+to|comfortable|happy\s+to"
)
DECISION_RE = re.compile(
    rf"\b(?:{_MODAL})\s+(?:not\s+|never\s+)?(?:\w+ly\s+)?(?:be\s+)?(?:\w+ly\s+)?(?P<a>{_VERBS})\b(?!\s+(?:by|in|on)\s+\d)"
    rf"|\b(?P<b>{_ORDERS})\s+(?:this|the|their|its|our)\s+(?:\w+\s+)?(?:{_SUBJECT})\b"
    rf"|\b(?:{_SUBJECT}|decision|band|outcome|verdict|answer|call|result|conclusion)\s+(?:is|be|should\s+be|"
    rf"will\s+be|can\s+be|must\s+be|ought\s+to\s+be|gets|:|=|-)\s+(?:an?\s+|the\s+)?(?:\w+\s+)?(?P<c>{_VERBS})\b"
    rf"|\b(?:deserv\w*|merit\w*|warrant\w*|justif\w*|qualif\w*\s+for|eligible\s+for|worthy\s+of|"
    rf"candidate\s+for|fit\s+for|ready\s+for|supports?|favou?rs?|argues?\s+for|points?\s+to|bar\s+for|"
    rf"threshold\s+for|case\s+for|reason\s+to\s+(?:hold\s+back|withhold|refuse|deny)?)\s+(?:an?\s+|the\s+)?"
    rf"(?:\w+\s+)?(?P<d>{_VERBS})\b",
    re.IGNORECASE,
)
"""A decision stated about the case (``should be declined``, ``deserves approval``), not ``revenue declined``."""
ANSWER_RE = re.compile(
    r"^\W*(?:decision|recommendation|verdict|outcome|result|answer|final\s+answer|conclusion|call)\s*[:=—–-]"
    r"|\b(?:a|the|our|my)\s+(?:clear\s+|firm\s+|qualified\s+|conditional\s+)?(?:yes|no)\b(?!\s+(?:one|longer|more|less))"
    r"|\bsay(?:s|ing)?\s+(?:yes|no)\b|\b(?:is|as)\s+a\s+(?:yes|no|go|no-go|pass|decline)\b"
    r"|\b(?:ok|okay|fine|safe|good|clear|cleared|ready|free)\s+to\s+(?:fund|onboard|board|lend|approve|proceed|"
    r"go|book|accept|sign)\b|\bgreen[\s-]?li(?:ght|t)\b|\bright\s+call\b|\bprudent\s+(?:outcome|choice|course)\b",
    re.IGNORECASE,
)
"""A decision written as a label, an answer or a go-ahead (``Decision: approve``, ``is a yes``, ``OK to fund``)."""
_LEVEL = (
    r"low|lower|minimal|no|zero|little|negligible|acceptable|limited|modest|manageable|moderate|high|higher|"
)
_LEVEL += r"elevated|significant|substantial|severe|considerable|tolerable|unacceptable"
RISK_VERDICT_RE = re.compile(
    rf"\b(?:{_LEVEL})[\s-]+(?:credit\s+|default\s+)?risk\b"
    rf"|\brisk\s+(?:level\s+|profile\s+)?(?:is|was|appears|seems|looks|remains|stays|appears\s+to\s+be|"
    rf"seems\s+to\s+be)\s+(?:\w+\s+)?(?:{_LEVEL}|small|large)\b"
    r"|\b(?:looks|appears|seems|is|remains|are)\s+(?:to\s+be\s+)?(?:very\s+|quite\s+|fairly\s+|relatively\s+|highly\s+)?"
    r"(?:safe|sound|creditworthy|credit-worthy|solid|healthy|risky|dangerous|trustworthy|reliable|dependable)\b"
    r"|\b(?:safe|good|great|strong|solid|sound|poor|bad|weak|risky|prime|dependable|reliable|high-quality|"
    r"quality)\s+(?:credit\s+)?(?:candidate|borrower|bet|prospect|risk|credit|name|payer|client|customer)\b"
    r"|\b(?:creditworthy|credit-worthy|low-risk|high-risk|risk-free|bankable|fundable|lendable|subprime|"
    r"sub-prime|uncreditworthy)\b"
    r"|\b(?:(?:un)?likely|certain|sure|bound|expected)\s+to\s+(?:default|repay|pay\s+back|fail|go\s+bust)\b",
    re.IGNORECASE,
)
"""A judgement on the case (``low risk``, ``risk is low``, ``looks safe``): verdicts come from the model."""


def decision_reasons(sentence: str, band: str, *, allow_verdicts: bool) -> list[str]:
    reasons = []
    for m in DECISION_RE.finditer(sentence):
        word = " ".join(next(g for g in m.groups() if g).lower().split())
        if BAND_WORDS[word] != band:
            reasons.append(f"asserts '{word}' but the decision band is {band}")
            break
    if not allow_verdicts:
        found = DECISION_RE.search(sentence) or ANSWER_RE.search(sentence) or RISK_VERDICT_RE.search(sentence)
        if found:
            reasons.append(
                f"passes a verdict ('{found.group(0).strip()}'); verdicts come from the model and policy"
            )
    return reasons


# ---- grades -------------------------------------------------------------------------------------

_LETTER = r"(?:AAA|AA|BBB|BB|CCC|CC|[A-H])[+-]?(?!\w)(?!['’]s\b)|(?:Aaa|Aa|Baa|Ba|Caa|Ca)[1-3]?\b"
GRADE_RES = (
    re.compile(
        rf"\b(?i:grade[sd]?|rated|rating|graded|scores?|ranks?|ranked|band|tier|sits\s+in)(?:\s+\w+)?\s*"
        rf"(?i:is|was|of|at|as|in|=|:|would\s+be|should\s+be|remains|assigned\s+is)?\s*(?i:an?\s+|grade\s+)?"
        rf"[\"'“‘(]?(?P<g>{_LETTER})"
    ),
    re.compile(rf"(?<![\w-])(?P<g>{_LETTER})\s?[-‐]?\s?(?i:rated|grade|rating|credit\s+rating)\b"),
    re.compile(
        rf"\b(?i:an?)\s+[\"'“‘]?(?P<g>{_LETTER})[\"'”’]?\s+(?i:grade|rating|credit|borrower|name|risk)\b"
    ),
    re.compile(rf"\b(?i:is|as)\s+an?\s+[\"'“‘]?(?P<g>{_LETTER})[\"'”’]?\s*(?:\[[^\]]*\])?\s*[.;,]?$"),
    re.compile(r"\b(?P<g>AAA|AA|BBB|BB|CCC|(?:Aaa|Aa|Baa|Ba|Caa)[1-3]?|[A-H][+-])(?![\w'’+-])"),
    re.compile(
        rf"\b(?i:up|down|re)?(?i:grade[sd]?)\s+(?:\w+\s+){{0,2}}?(?i:to|as|at)\s+[\"'“‘]?(?P<g>{_LETTER})"
    ),
)
"""A letter grade in the model's scale or an agency's (``grade of B``, ``A-rated``, ``an A credit``, ``BBB+``)."""
SCALE_RE = re.compile(
    r"\b(?:investment[\s-]grade|speculative[\s-]grade|junk|high[\s-]yield|triple[\s-]?[abc]|double[\s-]?[abc]|"
    r"tier[\s-]?(?:one|two|three|1|2|3|i{1,3})|top[\s-]tier|first[\s-]class|blue[\s-]chip)\b"
    r"|\b(?:best|top|highest|lowest|worst|bottom|second[\s-]best|second[\s-]worst|\w+-best|\w+-worst|better|"
    r"worse|upper|lower)\s+(?:grade|rating|tier|band|bucket)s?\b"
    r"|\b(?:high|low|top|bottom|upper|lower)\s+end\s+of\s+(?:the|our|its)\s+(?:grading|rating|risk|credit)\s+scale\b",
    re.IGNORECASE,
)
"""A grade in words (``investment grade``, ``triple-A``, ``tier one``, ``the second-best grade``)."""


def grade_reasons(sentence: str, grade: str) -> list[str]:
    text = re.sub(r"\[[^\]]*\]", " ", sentence)
    stated = {m.group("g") for rx in GRADE_RES for m in rx.finditer(text)}
    reasons = [f"asserts grade {g} but the model's grade is {grade}" for g in sorted(stated) if g != grade]
    found = SCALE_RE.search(text)
    if found:
        reasons.append(f"states a grade in another scale ('{found.group(0)}'); the model's grade is {grade}")
    return reasons


# ---- probability of default ---------------------------------------------------------------------

PD_RE = re.compile(
    r"\b(?:probabilit(?:y|ies)|likelihood|chances?|odds|risk|possibility|prospects?|frequency|rate\s+predicted)"
    r"\s+(?:\w+\s+)?(?:of|that)\s+(?:a\s+|the\s+)?(?:\w+\s+)?(?:default\w*|loss(?:es)?|charge[\s-]?offs?|failure|"
    r"non-?payment|going\s+bad|being\s+charged\s+off)"
    r"|\bdefault(?:ing)?\s+(?:probability|likelihood|chance|risk|odds|rate\s+predicted|frequency)"
    r"|\bpredicted\s+default\s+rate|\bdefault\s+rate\s+(?:predicted|expected|forecast)"
    r"|(?<![\w.])P\.?\s?D\.?(?![\w])|\bEDF\b|\bprobability\s+that\s+\w+(?:\s+\w+)?\s+(?:defaults|fails|will\s+default)",
    re.IGNORECASE,
)
"""A probability of default or loss under any name; its figure must be the model's PD."""


OTHER_CASE = re.compile(
    r"\b(?:similar|comparable|closest|nearest|past|peer)\b[^.;]{0,40}\bcase\b|\b[A-Z]{1,3}\d{3,}\b"
)
"""A sentence about another case (``similar case M000031 had a model PD of 41.2%``), whose PD may be the
one its cited row shows."""


def pd_reasons(sentence: str, pd: float | None, cited: str = "") -> list[str]:
    if not PD_RE.search(re.sub(r"\[[^\]]*\]", " ", sentence)):
        return []
    model = [Figure(pd, "rate")] if pd is not None else []
    if OTHER_CASE.search(sentence):
        model += [Figure(q.value, "percent") for q in quantities(cited) if q.percent]
    reasons = [
        f"states a probability of default {q.text!r} that is not the model's"
        for q in quantities(sentence)
        if (q.percent or (0 < q.value < 1 and not q.unit)) and not any(q.matches(f) for f in model)
    ]
    share = SHARE_WORDS.search(sentence)
    if share:
        reasons.append(f"states a probability of default as '{share.group(0)}', not the model's figure")
    return reasons


SHARE_WORDS = re.compile(
    r"\b(?:half|a\s+third|a\s+quarter|(?:one|two|three|\d+)\s+(?:in|out\s+of)\s+(?:\w+|\d+)|even\s+odds|"
    r"coin[\s-]?(?:flip|toss)|fifty[\s-]fifty)\b",
    re.IGNORECASE,
)
