"""The screening rules: orders to a model in English and seven other languages, chat-template and
role markers, and the folding that reads look-alike letters as the letters they imitate.

The rules are written from the shapes of an order (a verb of dismissal, then what is dismissed;
a verdict the text dictates; a role marker a chat template uses), not from the attacks the tests
measure them on (``tests/attacks.py``), nor from the demo generator's injections.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_TARGETS = r"(?:instructions?|guidelines?|guidance|rules|prompts?|directions|directives|policies|constraints|orders|commands|context|messages?|programming|training)"
_PRIOR = r"(?:previous|prior|above|earlier|preceding|all|any|your|the|these|those|system|safety|original|initial|former)"
_DISMISS = (
    r"(?:ignore|disregard|forget|override|bypass|discard|overlook|skip|drop|abandon|set\s+aside|put\s+aside|"
    r"pay\s+no\s+(?:attention|heed|mind)\s+to|take\s+no\s+notice\s+of|don'?t\s+(?:follow|obey|apply|use)|"
    r"do\s+not\s+(?:follow|obey|apply|use)|stop\s+(?:following|obeying)|no\s+longer\s+(?:follow|obey))"
)

RULES: tuple[tuple[str, float, str], ...] = (
    (
        "override_instructions",
        1.0,
        rf"\b{_DISMISS}\b(?:\s+\S+){{0,4}}?\s+{_PRIOR}\s+(?:\S+\s+){{0,2}}?{_TARGETS}\b",
    ),
    (
        "role_override",
        0.8,
        r"\b(?:system\s+(?:override|prompt|message|instructions?|update|notice)|developer\s+mode|jailbreak|"
        r"new\s+(?:instructions?|task|rules?)\s*:|you\s+are\s+now\s+(?:a|an|in)\b|from\s+now\s+on,?\s+you\b|"
        r"act\s+as\s+(?:a|an|the)\s+\w+\s+(?:who|that)\b)",
    ),
    (
        "chat_template",
        0.9,
        r"<\|\s*(?:im_start|im_end|system|user|assistant|endoftext|eot_id|start_header_id|end_header_id|"
        r"begin_of_text)\s*\|>|\[/?INST\]|<</?SYS>>|</?s>|^\s*#{2,}\s*(?:system|instruction|response|assistant)\b|"
        r"^\s*(?:human|user|assistant|system)\s*:\s*\S",
    ),
    (
        "addresses_the_model",
        0.6,
        r"\b(?:note|message|instructions?|attention|memo|request)\s+(?:to|for)\s+(?:the\s+|any\s+|all\s+)?"
        r"(?:ai|a\.i\.|assistant|language\s+model|llm|chatbot|gpt|model|bot|automated\s+(?:system|reviewer|"
        r"underwriter|review|tool)|reviewing\s+(?:system|model|tool)|summari[sz]er|summari[sz]ing\s+\w+)\b"
        r"|\bwhen\s+you\s+(?:summari[sz]e|review|read|process|analy[sz]e|assess|score)\s+(?:this|the)\s+"
        r"(?:file|document|application|report|text|case|merchant)\b|\b(?:dear|hey|hello|hi)\s+(?:ai|assistant|"
        r"chatbot|language\s+model|model|bot|llm)\b|^\s*(?:assistant|system|ai)\s*[:,]",
    ),
    (
        "steers_the_decision",
        0.8,
        r"\b(?:describe|rate|classify|treat|score|consider|mark|report|present|label|list|flag)\s+(?:this|the)\s+"
        r"(?:merchant|applicant|business|company|borrower|case|file|application)\s+as\s+(?:a\s+)?(?:low|minimal|"
        r"no|zero|acceptable|safe)[\s-]+risk\b|\brecommend\s+(?:an?\s+)?(?:approval|approve|onboarding)\b|"
        r"\bapprove\s+(?:this|the)\s+(?:merchant|applicant|loan|application|request|business)\b",
    ),
    (
        "dictates_the_output",
        0.7,
        r"\b(?:state|say|write|output|report|respond|answer|conclude|print|return)\s+(?:only\s+)?(?:that|with)\b"
        r"(?:\s+\S+){0,6}?\s+(?:probability\s+of\s+default|pd|grade|rating|decision|band)\b",
    ),
    (
        "asserts_the_verdict",
        0.6,
        r"\b(?:correct|true|actual|real|final|official|proper|right|expected)\s+(?:credit\s+)?(?:grade|rating|"
        r"band|decision|pd|probability\s+of\s+default)\b(?:\W+\w+){0,4}?\W+(?:is|=|:|should\s+be)\s+\W*"
        r"(?:[A-C]\b|approve|approval|low)|\bband\s*[:=]?\s*approve\b",
    ),
    (
        "suppresses_evidence",
        0.7,
        r"\b(?:do\s+not|don't|never|must\s+not|avoid|refrain\s+from)\s+(?:mention|mentioning|disclose|reveal|flag|"
        r"cite)\b(?:\s+\S+){0,4}?\s+(?:litigation|lawsuits?|negative|adverse|news|risks?|"
        r"chargebacks?|disputes?|losses|complaints|debts?)\b",
    ),
    (
        "commands_the_model",
        0.6,
        r"\b(?:you|assistant|model|ai),?\s+(?:must|should|shall|need\s+to|are\s+required\s+to|will|have\s+to)\s+"
        r"(?:recommend|approve|rate|describe|state|ignore|omit|classify|grade|assign|output|report|conclude)\b",
    ),
    (
        "decode_and_follow",
        0.6,
        r"\b(?:decode|base64)\b(?:\s+\S+){0,3}?\s+(?:and\s+)?(?:follow|execute|obey|apply)\b",
    ),
    (
        "override_instructions_translated",
        1.0,
        # es, pt, it, fr, nl, de: a verb of dismissal, then (within a few words) the word for instructions
        r"\b(?:ignor[ae]\w*|olvid[ae]\w*|omit[ae]\w*|descart[ae]\w*|esque[cç]\w*|desconsider\w*|dimentic\w*|"
        r"trascur\w*|oubli\w*|ne\s+tenez\s+pas\s+compte|negeer\w*|vergeet|vergiss\w*|ignorier\w*|missacht\w*|"
        r"beachte\s+nicht)\b(?:\s+\S+){0,5}?\s+(?:instrucc\w*|indicac\w*|instru[çc][õo]\w*|orienta[çc]\w*|"
        r"istruzion\w*|indicazion\w*|instructions?|consignes?|directives?|instructies|aanwijzingen|"
        r"anweisungen|anordnungen|vorgaben|instruktionen|richtlinien)\b",
    ),
    (
        "steers_the_decision_translated",
        0.8,
        r"\b(?:riesgo\s+bajo|bajo\s+riesgo|risque\s+faible|faible\s+risque|geringes\s+risiko|niedriges\s+risiko|"
        r"risco\s+baixo|baixo\s+risco|rischio\s+basso|basso\s+rischio|laag\s+risico)\b"
        r"|\b(?:aprueb\w*|aprobar|approuv\w*|genehmig\w*|bewillig\w*|aprov\w*|approv[ai]\w*|goedkeur\w*|keur\w*\s+goed)"
        r"\b(?:\s+\S+){0,3}?\s+(?:comerciante|marchand|commer[çc]ant|h[äa]ndler|comerciante|commerciante|"
        r"handelaar|solicitud|demande|antrag|pedido|richiesta|aanvraag)\b",
    ),
    (
        "override_instructions_zh",
        1.0,
        r"(?:忽略|无视|忽视|不要理会|忘记|忘掉|無視|忽略掉)[^。！？\n]{0,12}?(?:指令|指示|说明|說明|提示|规则|規則|要求)",
    ),
    (
        "steers_the_decision_zh",
        0.8,
        r"(?:低风险|低風險|批准(?:该|這|这)?(?:商户|商戶|申请|申請)|评级为\s*A|評級為\s*A)",
    ),
)


@lru_cache(maxsize=1)
def _confusable_map() -> dict[str, str]:
    """Each non-ASCII character that a Unicode confusables entry says looks like one ASCII character."""
    from confusable_homoglyphs import utils

    out: dict[str, str] = {}
    for char, glyphs in utils.load("confusables.json").items():
        if len(char) != 1 or char.isascii():
            continue
        for g in glyphs:
            target = g["c"]
            if len(target) == 1 and target.isascii() and target.isalnum():
                out[char] = target
                break
    return out


def skeleton(text: str) -> str:
    """``text`` with each look-alike character replaced by the ASCII letter it imitates (after NFKC),
    one character for one, so a span in the skeleton is the same span in ``text`` (UTS #39)."""
    if text.isascii():  # nothing to fold: most documents, at C speed
        return text
    table = _confusable_map()
    out = []
    for ch in text:
        if ch.isascii():
            out.append(ch)
            continue
        folded = unicodedata.normalize("NFKC", ch)
        folded = folded if len(folded) == 1 else ch
        out.append(table.get(folded, folded) if not folded.isascii() else folded)
    return "".join(out)


COMPILED = tuple((name, weight, re.compile(rx, re.IGNORECASE | re.MULTILINE)) for name, weight, rx in RULES)
