"""The chat core: a conversation about one case, grounded in the same evidence as the memo.

Questions are routed by plain rules (or an explicit ``/command``) to a tool:

* ``/score`` (score, PD, grade, band, why, reasons): the model's score and reason codes;
* ``/whatif FEATURE=VALUE`` ("what if the refund rate was 2%"): the case re-scored by the
  model with one input changed, never an LLM's guess;
* ``/recourse`` ("what would it take to approve?"): the smallest changes the applicant can make that
  move the band, found by searching the model and checked by re-scoring (``models.scoring.recourse``);
* ``/similar`` (similar, comparable, peers): the similar past cases and their outcomes;
* ``/facts`` (a figure, a ratio, a risk signal, a data value): answered from the case file's spread,
  signals and facts with their citation (:mod:`assistant.chat_facts`), never by the LLM;
* ``/search QUESTION`` and anything else: the merchant's documents are searched, the passages
  found are listed first (with their citations), and the LLM answers from them, streamed
  sentence by sentence; each sentence passes the
  memo's validation before it is shown, and an extractive answer (quoted passages) stands in
  when none does.

Tool answers are deterministic text; every LLM call is recorded in the audit trail.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from assistant.audit import AuditStore
from assistant.backends import open_embedder, open_llm
from assistant.case.facts import pd_text
from assistant.case.schema import CaseChunk, CaseFile, similar_line
from assistant.case.source import CaseSource
from assistant.chat_facts import fact_answer
from assistant.memo.calls import CallBook
from assistant.memo.config import MemoConfig
from assistant.memo.sections import comparison_facts
from assistant.memo.summaries import quotable
from assistant.memo.validation import Verdict, check_sentence, citations, split_sentences, support, truth_of
from assistant.settings import Settings
from models.backends.llm import LLM
from models.errors import UnderwriterError
from models.scoring.explanation import explain_row
from prompts.loader import load_prompt
from retrieval.passages import DocumentIndex

PASSAGES = 3
PASSAGE_CHARS = 700
"""Passages are cut to this length in the prompt (and in validation): a short prompt answers sooner."""
MIN_SUPPORT = MemoConfig.min_support
"""Chat is held to the memo's rules: the same support, no verdicts (they come from the model)."""
UNCITED_SUPPORT = 0.8
RECOURSE_RE = re.compile(
    r"\b(?:recourse|what would (?:it )?take|what (?:would|could) (?:change|move|improve)|move the band|"
    r"(?:get|be) approved|how (?:can|could|would) (?:it|they|the \w+) (?:improve|qualify|get approved))\b",
    re.IGNORECASE,
)
WHATIF_RE = re.compile(
    r"^(?:/whatif\s+|what\s+if\s+(?:the\s+)?)(?P<feature>[a-z][\w ()-]*?)\s*(?:=|:|\bis\b|\bwas\b|\bwere\b|\bto\b|"
    r"\bbecomes\b|\bat\b)\s*(?P<value>-?[$€£]?[\d,]*\.?\d+\s*%?|[A-Za-z_][\w-]*)\s*\??$",
    re.IGNORECASE,
)


@dataclass
class Answer:
    question: str
    tool: str
    text: str = ""
    citations: list[str] = field(default_factory=list)
    dropped: list[dict[str, Any]] = field(default_factory=list)
    fallback: bool = False


class ChatSession:
    def __init__(
        self,
        source: CaseSource,
        case_id: str,
        llm: LLM | None,
        audit: AuditStore | None = None,
        *,
        document_index: Any | None = None,
        case: CaseFile | None = None,
        row: pd.DataFrame | None = None,
    ):
        """``case`` and ``row``: a case not in the source's data (a new application entered on screen)."""
        self.source = source
        self.case: CaseFile = case if case is not None else source.case_file(case_id)
        self._row = row
        self.llm = llm
        self.audit = audit
        self.index = document_index
        self.history: list[Answer] = []
        self._tags = {c.chunk_id: c for d in self.case.documents for c in d.chunks}

    # ---- routing -----------------------------------------------------------------------------

    def route(self, question: str) -> str:
        q = question.strip().lower()
        if q.startswith("/"):
            command = q.split()[0][1:]
            if command not in {"score", "whatif", "recourse", "similar", "search", "facts"}:
                raise UnderwriterError(
                    f"unknown command /{command}; use /score, /whatif, /recourse, /similar, /facts or /search"
                )
            return command
        if WHATIF_RE.match(q):
            return "whatif"
        if RECOURSE_RE.search(q):
            return "recourse"
        if re.search(r"\b(similar|comparable|peers?|past cases)\b", q):
            return "similar"
        if re.search(r"\b(score|pd|probability|grade|band|why|reasons?|decision|declin\w*|approv\w*)\b", q):
            return "score"
        if fact_answer(self.case, question) is not None:
            return "facts"
        return "search"

    def ask(self, question: str) -> Iterator[str]:
        """Stream the answer's text; the finished :class:`Answer` is appended to ``history``."""
        if not question.strip():
            raise UnderwriterError("the question is empty")
        tool = self.route(question)
        answer = Answer(question, tool)
        if tool == "score":
            pieces: Iterator[str] = iter([self.score_text()])
        elif tool == "whatif":
            pieces = iter([self.what_if_text(question)])
        elif tool == "recourse":
            pieces = iter([self.recourse_text()])
        elif tool == "similar":
            pieces = iter([self.similar_text()])
        elif tool == "facts":
            found = fact_answer(self.case, re.sub(r"^/facts\s*", "", question.strip(), flags=re.IGNORECASE))
            text, answer.citations = found or ("The case file does not hold that figure or signal.", [])
            pieces = iter([text])
        else:
            query = re.sub(r"^/search\s*", "", question.strip(), flags=re.IGNORECASE)
            pieces = self._documents_answer(query, answer)
        for piece in pieces:
            answer.text += piece
            yield piece
        self.history.append(answer)

    # ---- deterministic tools -----------------------------------------------------------------

    def score_text(self) -> str:
        s = self.case.score
        if s.pd is None:
            return f"No risk model scores this dataset ({self.case.dataset}): the case is reviewed on its documents."
        lines = [
            f"The model gives PD {s.pd:.2%}, grade {s.grade}, band {s.band} ({self.case.model['label']})."
        ]
        lines += [f"Policy: {f['text']} ({f['id']})." for f in s.policy_flags]
        lines += ["Principal reasons: " + ("; ".join(r.stated() for r in s.reasons) or "none") + "."]
        if s.mitigants:
            lines += ["Mitigants: " + "; ".join(m.get("detail", m["name"]) for m in s.mitigants) + "."]
        return "\n".join(lines)

    def recourse_text(self) -> str:
        s = self.case.score
        if s.pd is None:
            return "No risk model scores this case, so there is no band to move."
        if s.band == "approve":
            return "The case is already in the best band (approve): no change is needed."
        r = s.recourse
        if not r or not r.get("feasible"):
            searched = "; ".join(r.get("searched_names", [])) if r else "none"
            return (
                f"No change in what the applicant can change ({searched}), alone or in pairs, moves the band from "
                f"{s.band} to {r.get('target', 'a better band') if r else 'a better band'}."
            )
        lines = [f"To move the band from {s.band} to {r['target']} (each checked by re-scoring):"]
        return "\n".join([*lines, *[f"- {o['text']}." for o in r["options"]]])

    def similar_text(self) -> str:
        if not self.case.similar:
            return "No similar-case library is available for this case."
        lines = [f"[{s.tag}] {similar_line(s)}" for s in self.case.similar]
        return "\n".join([*lines, *comparison_facts(self.case)])

    def resolve_feature(self, name: str) -> str:
        spec = self.source.spec
        names = {f.lower(): f for f in spec.features}
        names |= {spec.display_name(f).lower(): f for f in spec.features}
        key = name.strip().lower().replace("_", " ")
        for candidate in (key, key.replace(" ", "_")):
            if candidate in names:
                return names[candidate]
        close = difflib.get_close_matches(key, list(names), n=1, cutoff=0.75)
        if not close:
            raise UnderwriterError(
                f"no input called {name!r}; inputs: {', '.join(spec.display_name(f) for f in spec.features)}"
            )
        return names[close[0]]

    def what_if(self, feature: str, value: Any) -> dict[str, Any]:
        """Re-score the case with one input changed: the model's answer, not the LLM's."""
        column = self.resolve_feature(feature)
        row = self._row.copy() if self._row is not None else self.source.row(self.case.case_id)
        old = row.at[0, column]
        if column in self.source.spec.numeric:
            text = str(value).replace(",", "").replace("$", "").strip()
            try:
                number = float(text.rstrip("%")) / (100 if text.endswith("%") else 1)
            except ValueError:
                raise UnderwriterError(f"{column} needs a number, got {value!r}") from None
            row[column] = row[column].astype(float)
            row.at[0, column] = number
            new_value: Any = number
        else:
            known = [
                c for c in self.source.risk_model().encoder.categories.get(column, []) if c != "__other__"
            ]
            if str(value) not in known:
                shown = ", ".join(known[:12]) + (" ..." if len(known) > 12 else "")
                raise UnderwriterError(f"{column} = {value!r} is not a value the model knows; known: {shown}")
            row[column] = row[column].astype(object)
            row.at[0, column] = str(value)
            new_value = str(value)
        scored = explain_row(self.source.risk_model(), row, self.source.settings.threads, with_recourse=False)
        return {"feature": column, "old": old, "new": new_value, "before": self.case.score, "after": scored}

    def what_if_text(self, question: str) -> str:
        m = WHATIF_RE.match(question.strip())
        if not m:
            raise UnderwriterError("ask like: /whatif refund_rate=0.02  or  what if the refund rate was 2%")
        r = self.what_if(m.group("feature"), m.group("value"))
        spec = self.source.spec
        name = spec.display_name(r["feature"])
        before, after = r["before"], r["after"]
        new, old = spec.shown(r["feature"], r["new"]), spec.shown(r["feature"], r["old"])
        return (
            f"With {name} = {new} (now {old}), the model gives PD {after.pd:.2%}, grade {after.grade}, "
            f"band {after.band}; today it is PD {before.pd:.2%}, grade {before.grade}, band {before.band}."
        )

    # ---- document answers ----------------------------------------------------------------------

    def passages(self, question: str) -> list[CaseChunk]:
        if self.index is not None:
            hits = self.index.search(question, merchant_id=self.case.case_id, k=PASSAGES)
            return [self._tags[h.chunk_id] for h in hits if h.chunk_id in self._tags]
        words = set(re.findall(r"[a-z]{3,}", question.lower()))
        chunks = [c for d in self.case.documents for c in d.chunks]
        ranked = sorted(chunks, key=lambda c: -len(words & set(re.findall(r"[a-z]{3,}", c.text.lower()))))
        return ranked[:PASSAGES]

    def _documents_answer(self, question: str, answer: Answer) -> Iterator[str]:
        passages = self.passages(question)
        if not passages:
            yield "No document of this merchant speaks to that."
            return
        yield "Passages: " + "; ".join(f"[{c.tag}] {c.citation}" for c in passages) + "\n"
        truth = truth_of(self.case)
        passages = [c.model_copy(update={"text": c.text[:PASSAGE_CHARS]}) for c in passages]
        sources = {c.tag: c.text for c in passages}
        kept = 0
        if self.llm is not None:
            book = CallBook.live(self.llm, self.audit)
            prompt = load_prompt("chat_answer").render(
                merchant_id=self.case.case_id,
                facts={
                    "probability of default": pd_text(self.case.score.pd),
                    "grade": self.case.score.grade,
                    "band": self.case.score.band,
                },
                passages=[{"tag": c.tag, "text": c.text} for c in passages],
                question=question,
            )
            buffer = ""
            for piece in book.stream("chat", prompt):
                buffer += piece
                sentences = split_sentences(buffer)
                for sentence in sentences[:-1]:  # all but the last are complete
                    if self._passes(sentence, truth, sources, answer):
                        yield (" " if kept else "") + sentence
                        kept += 1
                buffer = sentences[-1] if sentences else ""
            for sentence in split_sentences(buffer):
                if self._passes(sentence, truth, sources, answer):
                    yield (" " if kept else "") + sentence
                    kept += 1
            if self.audit is not None:
                self.audit.append_many(book.new_rows())
        if not kept:
            answer.fallback = True
            quoted = [
                text for c in passages for salience, text in quotable(c, truth, sources)[:1] if salience
            ][:2]
            answer.citations += [t for t in sources if any(f"[{t}]" in q for q in quoted)]
            yield (
                ("From the documents: " + " ".join(quoted))
                if quoted
                else "The documents found do not answer that."
            )

    @staticmethod
    def _passes(sentence: str, truth: Any, sources: dict[str, str], answer: Answer) -> bool:
        verdict = check_sentence(sentence, truth, sources, min_support=MIN_SUPPORT, allow_verdicts=False)
        if verdict.kept and not citations(sentence):  # uncited: it must still be drawn from the passages
            share = support(sentence, " ".join(sources.values()))
            if share < UNCITED_SUPPORT:
                verdict = Verdict(
                    verdict.sentence, (f"uncited and not drawn from the passages ({share:.0%})",)
                )
        if not verdict.kept:
            answer.dropped.append({"sentence": verdict.sentence, "reasons": list(verdict.reasons)})
            return False
        answer.citations += [t for t in sources if f"[{t}]" in sentence and t not in answer.citations]
        return True


def open_chat(
    settings: Settings, case_id: str, audit: AuditStore | None, *, source_args: dict[str, Any] | None = None
) -> ChatSession:
    """A chat about one case with the configured LLM; portfolio cases search their documents by meaning."""
    source = CaseSource(settings, **(source_args or {}))
    index = None
    if source.store is not None:
        index = DocumentIndex.load(source.documents_dir, open_embedder(settings))
    return ChatSession(source, case_id, open_llm(settings), audit, document_index=index)
