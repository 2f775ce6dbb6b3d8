"""The ``narrator_yield`` scorer: what the LLM's own sentences add to a memo, per document read.

* ``llm_sentences_per_document``: sentences the LLM wrote that the memo shows, per document (a
  document summary's verbatim quotes and table rows are not the LLM's, even in an ``llm`` section);
* ``substance_per_document``: those of them that state something of their cited passage which the
  memo's deterministic sections (figures, reasons, signals, spread, risks, recommendation) do not
  already say: at least two content words found in the cited text and absent from those sections;
* ``planted_fact_recall_llm``: the planted risk facts stated by LLM sentences alone.

These count what the validator let through; they never re-run its checks (figures and polarity).
Registered on import (the runner imports this module).
"""

from __future__ import annotations

import json
import re

from assistant.eval.case_sets import EvalCase
from assistant.eval.independent_checks import TAG, states_topic
from assistant.eval.scorers import Metric, Output, case_sources, scorer
from assistant.memo.calls import BookedCall
from assistant.memo.schema import Memo, SectionText

WORD = re.compile(r"[a-z][a-z'-]{3,}|\d[\d,.]*\d|\d")
COMMON = frozenset(
    re.findall(
        r"\w+",
        """this that with from have been were will would their there they them than then which while what
        when where also into over under about after before such these those other some more most very
        much only each both many being does made make business company document loan applicant merchant
        borrower states stated says said notes report reports item part""",
    )
)
"""Words that carry no fact of a passage (function words and what every memo sentence is about)."""
MIN_NEW_WORDS = 2


def content_words(text: str) -> set[str]:
    """Lower-cased words of four letters or more and numerals, cut to six letters (``delays`` ~ ``delayed``)."""
    words = WORD.findall(TAG.sub(" ", text.lower()))
    return {w[:6] for w in words if w not in COMMON}


def _flat(text: str) -> str:
    return " ".join(text.split())


def written_sentences(section: SectionText, sources: dict[str, str]) -> list[str]:
    """The LLM's own sentences of a section: not a quote of its cited text (spacing aside)."""
    if section.source != "llm":
        return []
    out = []
    for sentence in section.sentences:
        bare = _flat(TAG.sub("", sentence)).rstrip(".").strip()
        cited = _flat(
            " ".join(sources.get(t.strip(), "") for m in TAG.findall(sentence) for t in m[1:-1].split(","))
        )
        if bare and bare not in cited and bare.replace("; ", " ") not in cited:
            out.append(sentence)
    return out


def deterministic_text(memo: Memo) -> str:
    """What the memo says without the LLM: every section the code writes."""
    parts = [
        memo.decision,
        [f.model_dump() for f in memo.metrics],
        memo.reasons,
        memo.risks,
        memo.mitigants,
        memo.integrity,
        memo.recommendation,
        memo.signals,
        memo.spread,
        memo.recourse,
    ]
    return json.dumps(parts, default=str)


def has_substance(sentence: str, sources: dict[str, str], known: set[str]) -> bool:
    cited = " ".join(sources.get(t.strip(), "") for m in TAG.findall(sentence) for t in m[1:-1].split(","))
    new = (content_words(sentence) & content_words(cited)) - known
    return len(new) >= MIN_NEW_WORDS


@scorer(
    "narrator_yield",
    Metric(
        "llm_sentences_per_document",
        description="sentences the LLM wrote that the memo shows, per document (quotes and table rows not counted)",
    ),
    Metric(
        "substance_per_document",
        description="LLM sentences per document stating a fact of the cited passage that the memo's "
        "deterministic sections do not already state",
    ),
    Metric(
        "planted_fact_recall_llm",
        description="share of the planted risk facts stated by LLM-written sentences (not quotes, not code)",
    ),
    tasks=("memo", "summary"),
)
def narrator_yield(output: Output, case: EvalCase, calls: list[BookedCall]) -> dict[str, float | None]:
    sources = case_sources(case)
    if isinstance(output, SectionText):
        written = written_sentences(output, sources)
        known: set[str] = set()
        documents = 1
        planted_recall = None
    else:
        sections = [f.summary for f in output.findings]
        written = [s for section in sections for s in written_sentences(section, sources)]
        known = content_words(deterministic_text(output))
        documents = len(case.memo_case().documents)
        planted = case.truth.planted
        planted_recall = sum(states_topic(t, written) for t in planted) / len(planted) if planted else None
    if not documents:
        return {
            "llm_sentences_per_document": None,
            "substance_per_document": None,
            "planted_fact_recall_llm": None,
        }
    substantive = sum(has_substance(s, sources, known) for s in written)
    return {
        "llm_sentences_per_document": len(written) / documents,
        "substance_per_document": substantive / documents,
        "planted_fact_recall_llm": planted_recall,
    }
