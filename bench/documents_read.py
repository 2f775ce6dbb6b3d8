"""Is every document read? Text left out of every chunk, and documents whose summary states nothing.

Measured on the shared real files, as the product reads them:

- Lending Club: every borrower description (the spec's text column ``desc_clean``) as a memo's
  document, chunked by ``assistant.case.documents``;
- SEC 10-K: every item of the shared dev filings, read and chunked as ``index build`` reads them.

Two figures per corpus (goal 0 for both):

- ``chars_outside``: non-space characters of a document's text that no chunk holds (chunks are
  located in the text in order, each from where the previous one began);
- ``nothing_stated``: documents with at least two readable sentences whose summary states nothing.
  Readable is this bench's own reading, not the product's splitter: a run ending in ``.``, ``!`` or
  ``?`` before a space (or the text's end) of five or more words, three of them words of letters. The summary is
  made by ``summarise_document`` with a narrator that writes nothing valid (every LLM sentence fails,
  so each document takes the product's fallback path: the worst case), and with ``--llm N`` also
  with the embedded SmolLM2-135M on the first N long descriptions.

The baseline is the same measurement on the code of another commit (``--baseline REF``, default the
commit before the chunking change), run from a git worktree in the same run:

    python bench/documents_read.py                    # this checkout against the baseline
    python bench/documents_read.py --llm 20           # and 20 descriptions with SmolLM2
    python bench/documents_read.py --out bench/results/documents_read.json
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
LENDING_CLUB = ROOT / "data" / "lc_small_business_2007_2010.csv"
FILINGS = SHARED / "sec_10k" / "filings_dev.zip"
BASELINE = "b8cd840"
"""The last commit before text columns were chunked whole and tables told by the shape of their lines."""
SENTENCE_RUN = re.compile(r".+?(?:[.!?]+(?=\s|$)|$)")
LETTER_WORD = re.compile(r"^[A-Za-z][A-Za-z'’-]*[.,;:!?]*$")


def readable_sentences(text: str) -> int:
    count = 0
    for run in SENTENCE_RUN.findall(" ".join(text.split())):
        words = run.split()
        if len(words) >= 5 and sum(bool(LETTER_WORD.match(w)) for w in words) >= 3:
            count += 1
    return count


def occurrences(text: str, part: str, start: int) -> list[int]:
    """Every place ``part`` occurs in ``text`` from ``start`` on, overlapping ones too."""
    found, at = [], text.find(part, start) if part else -1
    while at >= 0:
        found.append(at)
        at = text.find(part, at + 1)
    return found


def outside(text: str, chunk_texts: list[str]) -> int:
    """Non-space characters of ``text`` in none of the chunks, found in order (overlaps allowed)."""
    covered = [False] * len(text)
    start, end = 0, 0
    for chunk in chunk_texts:
        found = occurrences(text, chunk, start)
        if not found:
            continue  # not verbatim (redacted): counted as outside
        # a text that repeats itself holds a chunk twice: take the copy that follows on from the last
        at = max((f for f in found if f <= end), default=found[0])
        covered[at : at + len(chunk)] = [True] * len(chunk)
        start, end = at + 1, at + len(chunk)
    return sum(1 for i, c in enumerate(text) if not covered[i] and not c.isspace())


def silent_book() -> Any:
    """A narrator whose every sentence fails validation (one word, no support): the fallback path."""
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    from assistant.memo.calls import CallBook
    from models.backends.llm import LLM, LLMParams

    chat = FakeListChatModel(responses=["Nothing."])
    return CallBook.live(LLM(backend="fake", model_id="silent", params=LLMParams(), chat=chat))


def embedded_book() -> Any:
    from assistant.backends import open_llm
    from assistant.memo.calls import CallBook
    from assistant.settings import load_settings

    return CallBook.live(open_llm(load_settings()))


def measure_documents(documents: list[tuple[Any, str, list[str]]], book: Any) -> dict[str, Any]:
    """``documents``: (case document, its full text, its chunks' unredacted texts)."""
    from assistant.memo.config import MemoConfig
    from assistant.memo.summaries import summarise_document
    from assistant.memo.validation import CaseTruth

    truth = CaseTruth(band="review", grade="", pd=None)
    config = MemoConfig()
    nothing, long_docs, chars_out, chars, chunks = [], 0, 0, 0, 0
    started = time.perf_counter()
    for doc, text, parts in documents:
        chars += sum(1 for c in text if not c.isspace())
        chars_out += outside(text, parts)
        chunks += len(doc.chunks)
        if readable_sentences(text) < 2:
            continue
        long_docs += 1
        if not summarise_document(doc, truth, book, config).sentences:
            nothing.append(doc.doc_id)
    return {
        "documents": len(documents),
        "chunks": chunks,
        "with_two_readable_sentences": long_docs,
        "nothing_stated": len(nothing),
        "nothing_stated_ids": nothing[:10],
        "chars": chars,
        "chars_outside": chars_out,
        "seconds": round(time.perf_counter() - started, 1),
    }


def lending_club_documents(limit: int | None = None) -> list[tuple[Any, str, list[str]]]:
    import pandas as pd

    from assistant.case import documents as case_documents
    from models.data.spec import load_spec

    spec = load_spec("lending_club")
    frame = pd.read_csv(LENDING_CLUB)
    out = []
    for _, row in frame.iterrows():
        case_id = f"LC{row['row_key']}"
        for doc in case_documents.text_column_documents(spec, case_id, row):
            text = str(row[doc.doc_type]).strip()
            parts = [c.text for c in doc.chunks]
            chunker = getattr(case_documents, "text_column_chunks", None)
            if chunker is not None:  # the chunks before redaction, as they were cut
                parts = [p[3] for p in chunker(doc.doc_id, doc.title, text, doc.sha256)]
            out.append((doc, text, parts))
        if limit and len(out) >= limit:
            break
    return out


def filing_documents() -> list[tuple[Any, str, list[str]]]:
    """Every item of the shared filings, read, screened and chunked as the document index reads them."""
    from assistant.case.documents import document_from_parts
    from retrieval.documents.ingest import DocumentSource, ingest

    result = ingest([DocumentSource(FILINGS, doc_type="10-K")], workers=0)
    by_doc: dict[str, list[Any]] = {}
    for chunk in result.chunks:
        by_doc.setdefault(chunk.doc_id, []).append(chunk)
    out = []
    for doc in result.documents:
        chunks = sorted(by_doc.get(doc.doc_id, []), key=lambda c: c.start)
        parts = [(c.chunk_id, c.section, c.citation(), c.text, c.injection_score) for c in chunks]
        flags = [f.to_dict() for f in doc.screening.flags]
        case_doc = document_from_parts(
            doc.doc_id, "10-K", doc.title, doc.sha256, doc.screening.score, flags, parts, 1
        )
        out.append((case_doc, doc.text, [c.text for c in chunks]))
    return out


def measure(llm: int) -> dict[str, Any]:
    from bench.machine import describe

    silent = silent_book()
    result: dict[str, Any] = {"machine": describe()}
    result["lending_club"] = measure_documents(lending_club_documents(), silent)
    result["sec_10k"] = measure_documents(filing_documents(), silent)
    if llm:
        long_ones = [
            d for d in lending_club_documents() if readable_sentences(d[1]) >= 2 and len(d[1]) > 1500
        ]
        result["lending_club_smollm2"] = measure_documents(long_ones[:llm], embedded_book())
    return result


def baseline(ref: str, llm: int) -> dict[str, Any]:
    """The same measurement on the code of ``ref``, from a throwaway git worktree."""
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "tree"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(tree), ref], check=True
        )
        try:
            done = subprocess.run(
                [sys.executable, __file__, "--code-root", str(tree), "--llm", str(llm), "--json"],
                check=True,
                capture_output=True,
                text=True,
                cwd=tree,
            )
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def report(now: dict[str, Any], before: dict[str, Any] | None) -> None:
    print(now["machine"])
    for corpus in ("lending_club", "sec_10k", "lending_club_smollm2"):
        if corpus not in now:
            continue
        n = now[corpus]
        b = (before or {}).get(corpus)
        line = (
            f"{corpus:22} {n['documents']:4} documents, {n['chunks']:5} chunks; "
            f"nothing stated {n['nothing_stated']}/{n['with_two_readable_sentences']}; "
            f"characters outside every chunk {n['chars_outside']:,}/{n['chars']:,}"
        )
        if b:
            line += (
                f"  | {BASELINE if before else ''}: nothing stated {b['nothing_stated']}/"
                f"{b['with_two_readable_sentences']}, outside {b['chars_outside']:,}, chunks {b['chunks']}"
            )
        print(line)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default=BASELINE, help="a commit to measure the same way ('' for none)")
    parser.add_argument("--llm", type=int, default=0, help="also summarise N long descriptions with SmolLM2")
    parser.add_argument("--out", type=Path, help="write the figures as JSON")
    parser.add_argument("--code-root", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    code = args.code_root or ROOT
    sys.path.insert(0, str(code))
    if args.json:
        print(json.dumps(measure(args.llm)))
        return
    now = measure(args.llm)
    before = baseline(args.baseline, args.llm) if args.baseline else None
    report(now, before)
    if args.out:
        args.out.write_text(
            json.dumps({"now": now, "baseline": before, "baseline_ref": args.baseline}, indent=2)
        )


if __name__ == "__main__":
    main()
