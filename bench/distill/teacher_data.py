"""Teacher examples for the distilled narrator: the product's own prompts, answered by the strongest local
narrator, kept only where every sentence passes the product's validator and the strict figure check.

Tasks (the narrow jobs the embedded model does in the product):
* ``summary``: one chunk of a document -> one or two sentences (``document_summary``), validated as a
  memo validates a summary (cited, no verdicts, supported, figures from the text);
* ``comparison``: the similar-case table -> the precedents paragraph (``memo_comparison``);
* ``chat``: a question and the passages found -> an answer (``chat_answer``), each sentence checked as
  the chat checks it before showing it.

Sources (dev data only; what the distilled model is measured on is kept out):
* Lending Club descriptions of loans issued before 2010 (the measured loans are of 2010);
* 10-K items of the dev filings whose company is not held out (:func:`held_out_company`);
* the demo portfolio's applicants and merchants (seed of this workspace; measured on another seed).

Every call is appended to ``OUT`` as it is made (resumable: a rerun skips what is there); the file
keeps rejected answers too, with the reasons, so the keep rate is measured, not assumed.

Run: ``.venv/bin/python bench/distill/teacher_data.py [--teacher qwen2.5-coder-1.5b] [--limit N]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from assistant.case.facts import pd_text  # noqa: E402
from assistant.case.schema import CaseChunk, CaseDocument, CaseFile, similar_line  # noqa: E402
from assistant.case.source import CaseSource  # noqa: E402
from assistant.chat import MIN_SUPPORT, PASSAGE_CHARS, PASSAGES  # noqa: E402
from assistant.eval.case_sets import DEFAULT_SEC_ARCHIVE, demo_cases  # noqa: E402
from assistant.eval.independent_checks import strict_figures  # noqa: E402
from assistant.eval.runner import parse_model  # noqa: E402
from assistant.memo.config import MemoConfig  # noqa: E402
from assistant.memo.summaries import cite_each, prose_share, withheld  # noqa: E402
from assistant.memo.validation import CaseTruth, check_sentence, check_text, split_sentences, truth_of  # noqa: E402
from assistant.settings import Settings, load_settings  # noqa: E402
from bench.machine import describe  # noqa: E402
from models.backends.llm import LLM, complete  # noqa: E402
from prompts.loader import RenderedPrompt, load_prompt  # noqa: E402

OUT = REPO / "bench" / "distill" / "data" / "teacher.jsonl"
LENDING_CLUB = REPO / "data" / "lc_small_business_2007_2010.csv"
DOCUMENT_TRUTH = CaseTruth(band="", grade="", pd=float("nan"))
QUESTIONS = (
    "What does the business do and who are its customers?",
    "Is there anything about refunds, returns or chargebacks?",
    "Do the documents mention any lawsuit or legal claim?",
    "What do the documents say about revenue or sales?",
    "Are there problems with suppliers or deliveries?",
    "What will the money be used for?",
    "What debts or loans does the business have?",
    "How long has the business been operating?",
)
"""The teacher's chat questions: written for this script, none from the chat evaluation's questions."""
GIVE_UP_AFTER = 12


def held_out_company(cik: str) -> bool:
    """A quarter of the dev filings' companies, by a hash of the CIK, are never used for teaching."""
    return int(hashlib.sha256(cik.encode()).hexdigest(), 16) % 4 == 0


def cik_of(doc: CaseDocument) -> str:
    found = re.search(r"(\d{4,10})_10K", f"{doc.doc_id} {doc.title}")
    return found.group(1) if found else doc.doc_id


def key_of(messages: list[tuple[str, str]]) -> str:
    return hashlib.sha256(json.dumps(messages).encode()).hexdigest()[:20]


def figures_ok(sentences: list[str], facts: dict[str, Any], sources: dict[str, str]) -> bool:
    shown, found = strict_figures(sentences, facts, sources)
    return shown == found


def facts_of(case: CaseFile | None) -> dict[str, Any]:
    return {} if case is None else {"probability of default": case.score.pd, **case.fact_values()}


def judge(row: dict[str, Any], config: MemoConfig | None = None) -> tuple[bool, list[list[str]]]:
    """Does every sentence of the teacher's answer pass the product's check for its task, and every
    figure the strict check? (kept, reasons of each dropped sentence). Reads only the row, so a later
    validator re-judges the data (``recheck``)."""
    config = config or MemoConfig()
    truth = CaseTruth(**row["truth"])
    sources, facts, target = row["sources"], row["facts"], row["target"]
    if row["task"] == "chat":
        sentences = split_sentences(target)
        verdicts = [
            check_sentence(s, truth, sources, min_support=MIN_SUPPORT, allow_verdicts=False)
            for s in sentences
        ]
        dropped = [list(v.reasons) for v in verdicts if not v.kept]
        return bool(sentences) and not dropped and figures_ok(sentences, facts, sources), dropped
    if row["task"] == "summary":
        text, limit, support_needed = cite_each(target, row["tag"]), None, config.min_support
    else:
        text, limit, support_needed = target, 3, 0.0
    checked = check_text(
        text,
        truth,
        sources,
        require_citation=True,
        max_sentences=limit,
        min_support=support_needed,
        allow_verdicts=False,
    )
    dropped = [list(d.reasons) for d in checked.dropped]
    return bool(checked.kept) and not dropped and figures_ok(checked.kept, facts, sources), dropped


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value.item() if hasattr(value, "item") else value


def truth_record(truth: CaseTruth) -> dict[str, Any]:
    """What :func:`judge` needs to rebuild the truth the sentence was checked against."""
    fields = ("band", "grade", "pd", "facts", "shown", "outcomes")
    return {name: _plain(dict(v) if isinstance(v := getattr(truth, name), Mapping) else v) for name in fields}


class Teacher:
    """The teacher model and the file its answers go to (appended as made; a rerun skips what is there)."""

    def __init__(self, llm: LLM, out: Path):
        self.llm, self.out = llm, out
        out.parent.mkdir(parents=True, exist_ok=True)
        text = out.read_text(encoding="utf-8") if out.exists() else ""
        rows = [json.loads(line) for line in text.splitlines() if line]
        self.seen = {r["key"] for r in rows}
        self.tally: dict[str, list[int]] = {}
        for r in rows:
            self.count(r)
        self.asked = self.kept = 0

    def count(self, row: dict[str, Any]) -> None:
        tally = self.tally.setdefault(row["task"], [0, 0])
        tally[0] += 1
        tally[1] += row["kept"]

    def wanted(self, task: str) -> bool:
        """A task whose answers almost never pass (under 5% of 12 or more) is not asked any more: the
        teacher's time goes where it teaches (the measured rate stays in the file)."""
        asked, kept = self.tally.get(task, [0, 0])
        return asked < GIVE_UP_AFTER or kept / asked >= 0.05

    def ask(self, prompt: RenderedPrompt) -> tuple[str, str, float] | None:
        messages = list(prompt.messages)
        key = key_of(messages)
        if key in self.seen:
            return None
        call = complete(self.llm, messages, max_tokens=prompt.max_tokens)
        self.asked += 1
        return key, call.output, call.seconds

    def record(self, example: dict[str, Any]) -> None:
        self.seen.add(example["key"])
        self.count(example)
        self.kept += example["kept"]
        with self.out.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps({**example, "teacher": self.llm.model_id}, ensure_ascii=False) + "\n")


def judged(teacher: Teacher, prompt: RenderedPrompt, row: dict[str, Any]) -> dict[str, Any] | None:
    """Ask the teacher (unless asked before), then judge the answer as the product would."""
    asked = teacher.ask(prompt)
    if asked is None:
        return None
    key, output, seconds = asked
    made = {
        "key": key,
        **row,
        "messages": list(prompt.messages),
        "target": output.strip(),
        "seconds": seconds,
    }
    made["kept"], made["dropped"] = judge(made)
    return made


def summary_examples(
    teacher: Teacher,
    doc: CaseDocument,
    truth: CaseTruth,
    facts: dict[str, Any],
    source: str,
    config: MemoConfig,
) -> Iterator[dict[str, Any]]:
    sources = {c.tag: c.text for c in doc.chunks}
    for chunk in doc.chunks[: config.max_chunks_per_document + 1]:
        if prose_share(chunk.text) < config.min_prose_share:
            continue
        prompt = config.prompt("document_summary").render(
            tag=chunk.tag, title=withheld(doc.title), section=withheld(chunk.section), text=chunk.text
        )
        row = {"task": "summary", "source": source, "case": doc.doc_id, "tag": chunk.tag}
        row |= {"sources": sources, "truth": truth_record(truth), "facts": _plain(facts)}
        if (made := judged(teacher, prompt, row)) is not None:
            yield made


def comparison_example(
    teacher: Teacher, case: CaseFile, source: str, config: MemoConfig
) -> dict[str, Any] | None:
    if not case.similar or not teacher.wanted("comparison"):
        return None
    prompt = config.prompt("memo_comparison").render(
        pd=pd_text(case.score.pd, 1),
        reasons="; ".join(r.text for r in case.score.reasons) or "none stated",
        rows=[{"tag": s.tag, "line": similar_line(s)} for s in case.similar],
    )
    row = {"task": "comparison", "source": source, "case": case.case_id, "sources": case.similar_sources()}
    row |= {"truth": truth_record(truth_of(case)), "facts": _plain(facts_of(case))}
    return judged(teacher, prompt, row)


def passages_for(case: CaseFile, question: str) -> list[CaseChunk]:
    """The chat's keyword ranking (used when it has no index): the passages sharing most words."""
    words = set(re.findall(r"[a-z]{3,}", question.lower()))
    chunks = [c for d in case.documents for c in d.chunks]
    ranked = sorted(chunks, key=lambda c: -len(words & set(re.findall(r"[a-z]{3,}", c.text.lower()))))
    return [c.model_copy(update={"text": c.text[:PASSAGE_CHARS]}) for c in ranked[:PASSAGES]]


def chat_example(teacher: Teacher, case: CaseFile, question: str, source: str) -> dict[str, Any] | None:
    passages = passages_for(case, question)
    if not passages or not teacher.wanted("chat"):
        return None
    prompt = load_prompt("chat_answer").render(
        merchant_id=case.case_id,
        facts={
            "probability of default": pd_text(case.score.pd),
            "grade": case.score.grade,
            "band": case.score.band,
        },
        passages=[{"tag": c.tag, "text": c.text} for c in passages],
        question=question,
    )
    row = {"task": "chat", "source": source, "case": case.case_id, "question": question}
    row |= {"sources": {c.tag: c.text for c in passages}, "truth": truth_record(truth_of(case))}
    row["facts"] = _plain(facts_of(case))
    return judged(teacher, prompt, row)


def case_examples(
    teacher: Teacher, case: CaseFile, source: str, config: MemoConfig, turn: int
) -> Iterator[dict]:
    truth = truth_of(case)
    for doc in case.documents:
        yield from summary_examples(teacher, doc, truth, facts_of(case), source, config)
    if (made := comparison_example(teacher, case, source, config)) is not None:
        yield made
    if case.documents and (made := chat_example(teacher, case, QUESTIONS[turn % len(QUESTIONS)], source)):
        yield made


def lending_club_cases(settings: Settings) -> Iterator[CaseFile]:
    from models.data.dataset import load_dataset
    from models.data.spec import load_spec

    spec = load_spec("lending_club")
    model = settings.workspace / "models" / "lending_club"
    source = CaseSource(
        settings, spec="lending_club", data=str(LENDING_CLUB), model=str(model), library=spec.name
    )
    dataset = load_dataset(LENDING_CLUB, spec, require_label=True)
    dates = dataset.dates.dt.strftime("%Y-%m-%d").tolist()  # type: ignore[union-attr]
    texts = dataset.frame["desc_clean"].fillna("").astype(str).str.len().tolist()
    for case_id, date, length in zip(dataset.ids.astype(str), dates, texts, strict=True):
        if date < "2010-01-01" and length > 80:  # the measured loans are of 2010
            yield source.case_file(case_id)


def demo_portfolio_cases(settings: Settings) -> Iterator[CaseFile]:
    source = CaseSource(settings)
    measured = {c.case_id for c in demo_cases(settings, 40)} | {
        c.case_id for c in demo_cases(settings, 10, True)
    }
    for case_id in source.ids():
        if case_id not in measured:
            case = source.case_file(case_id)
            if case.documents:
                yield case


def sec_documents() -> Iterator[CaseDocument]:
    from assistant.case.documents import document_from_parts
    from retrieval.documents.ingest import DocumentSource, ingest

    result = ingest([DocumentSource(DEFAULT_SEC_ARCHIVE, doc_type="10-K")], workers=0)
    by_doc: dict[str, list[Any]] = {}
    for chunk in result.chunks:
        by_doc.setdefault(chunk.doc_id, []).append(chunk)
    for doc in result.documents:
        parts = [
            (c.chunk_id, c.section, c.citation(), c.text, c.injection_score)
            for c in by_doc.get(doc.doc_id, [])
        ]
        flags = [f.to_dict() for f in doc.screening.flags]
        made = document_from_parts(
            doc.doc_id, "10-K", doc.title, doc.sha256, doc.screening.score, flags, parts, 1
        )
        if made.chunks and not held_out_company(cik_of(made)):
            yield made


def interleaved(*streams: Iterator[Any]) -> Iterator[tuple[int, Any]]:
    """Round-robin over the sources, so a partial run holds some of each."""
    live = list(enumerate(streams))
    while live:
        for pair in list(live):
            index, stream = pair
            try:
                yield index, next(stream)
            except StopIteration:
                live.remove(pair)


def main() -> None:
    print(describe(), flush=True)
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--teacher", default="qwen2.5-coder-1.5b", help="a narrator name or GGUF path")
    parser.add_argument("--limit", type=int, default=0, help="stop after this many new calls (0: all)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    settings = load_settings(None, threads=2)
    teacher = Teacher(parse_model(f"llamacpp:{args.teacher}", settings), args.out)
    config = MemoConfig()
    started = time.perf_counter()
    sources = ("lending_club", "demo", "10-K")
    streams = (lending_club_cases(settings), demo_portfolio_cases(settings), sec_documents())
    for turn, (index, item) in enumerate(interleaved(*streams)):
        if isinstance(item, CaseDocument):
            made = summary_examples(teacher, item, DOCUMENT_TRUTH, {}, sources[index], config)
        else:
            made = case_examples(teacher, item, sources[index], config, turn)
        for example in made:
            teacher.record(example)
        print(
            f"{teacher.asked} asked, {teacher.kept} kept, {time.perf_counter() - started:.0f} s", flush=True
        )
        if args.limit and teacher.asked >= args.limit:
            break


if __name__ == "__main__":
    main()
