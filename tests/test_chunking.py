"""Structural chunking: headings, tables, token bounds with the real tokenizer, stable ids, exact spans."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import pytest

from models.backends.embedders import Embedder
from models.demo_data.generate import PortfolioFiles
from retrieval.documents.chunking import chunk_text
from retrieval.documents.ingest import DocumentSource, ingest

REPORT = """# Annual report

## Overview

Acme sells hiking boots online. It was founded in 2015 and ships to 14 countries.

## Balance sheet

| Item | Amount |
|---|---:|
| Cash | $52,000 |
| Receivables | $18,500 |
| Total assets | $70,500 |

## Risks

""" + " ".join(f"Risk number {i} concerns supplier delays and customer refunds." for i in range(120))


def test_chunks_follow_headings_and_keep_tables_whole():
    chunks = chunk_text(REPORT, "sha", max_tokens=120, overlap_tokens=20)
    sections = [c.section for c in chunks]
    assert sections[:2] == ["Overview", "Balance sheet"] and set(sections[2:]) == {"Risks"}
    table = REPORT[chunks[1].start : chunks[1].end]
    assert table.startswith("## Balance sheet") and "| Total assets | $70,500 |" in table
    assert all(c.tokens <= 120 for c in chunks)
    risks = [REPORT[c.start : c.end] for c in chunks if c.section == "Risks"]
    assert len(risks) > 3
    for previous, following in itertools.pairwise(risks):  # overlap: last sentence repeated
        last_sentence = previous.rsplit(". ", 1)[-1]
        assert following.startswith(last_sentence.strip())


def test_chunk_ids_are_stable_and_depend_on_document_and_span():
    first = chunk_text(REPORT, "sha-a")
    again = chunk_text(REPORT, "sha-a")
    other = chunk_text(REPORT, "sha-b")
    assert [c.chunk_id for c in first] == [c.chunk_id for c in again]
    assert not {c.chunk_id for c in first} & {c.chunk_id for c in other}
    assert len({c.chunk_id for c in first}) == len(first)


def test_real_tokenizer_bound_and_spans_map_to_the_original_file(
    tmp_path: Path, embedder: Embedder, portfolio: PortfolioFiles
):
    source = tmp_path / "report.md"
    source.write_text(REPORT.replace("Acme", "Ac\u200bme"), encoding="utf-8")
    limit = embedder.max_tokens - 16
    result = ingest([DocumentSource(source, "R")], workers=0, max_tokens=limit, count=embedder.count_tokens)
    assert max(embedder.count_tokens([c.text for c in result.chunks])) <= limit
    original = source.read_text(encoding="utf-8")
    for chunk in result.chunks:
        passage = original[chunk.original_start : chunk.original_end]
        assert passage.replace("\u200b", "") == chunk.text


def test_same_file_gives_same_chunk_ids_wherever_it_lies(tmp_path: Path, portfolio: PortfolioFiles):
    import pandas as pd

    row = pd.read_csv(portfolio.documents, dtype=str).iloc[0]
    copy = tmp_path / Path(row["path"]).name
    shutil.copy(portfolio.root / row["path"], copy)
    a = ingest([DocumentSource(portfolio.root / row["path"], "X")], workers=0)
    b = ingest([DocumentSource(copy, "X")], workers=0)
    assert [c.chunk_id for c in a.chunks] == [c.chunk_id for c in b.chunks] and a.chunks


def test_pdf_chunks_carry_page_numbers(tmp_path: Path):
    from models.demo_data.pdf import render_pdf

    text = "\n".join(f"Line {i}: card volume was steady this week." for i in range(150))
    path = tmp_path / "long.pdf"
    path.write_bytes(render_pdf(text, "Statement"))
    result = ingest([DocumentSource(path, "P")], workers=0, max_tokens=100)
    pages = [c.page for c in result.chunks]
    assert pages[0] == 1 and max(p or 0 for p in pages) == 3 and pages == sorted(pages)  # type: ignore[type-var]


def test_too_small_token_budget_is_an_error():
    with pytest.raises(ValueError, match="at least 16"):
        chunk_text("text", "sha", max_tokens=4)
