"""A memo as Markdown, JSON and HTML: pure functions of the memo, so replay reproduces the bytes."""

from __future__ import annotations

import html
import json
from typing import Any

from assistant.case.facts import pd_text
from assistant.memo.evidence_text import financial_lines, repayment_lines, signal_lines
from assistant.memo.explain_text import recourse_lines, risk_factor_lines, risk_rating_lines
from assistant.memo.schema import Memo, SectionText

PURPOSE_FIELDS = ("title", "purpose")
"""Facts that state what the money is for (a loan title)."""


def _value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1 else f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "—" if value is None else str(value)


def _outcome(outcome: int | None) -> str:
    return {None: "not yet known", 1: "defaulted", 0: "performed"}[outcome]


def _section_text(text: SectionText) -> str:
    if not text.sentences:
        return "_Nothing could be stated with support from the documents._"
    note = " _(extractive: quoted from the documents because the LLM text failed validation)_"
    return " ".join(text.sentences) + (note if text.source == "extractive" else "")


def to_markdown(memo: Memo) -> str:
    """The memo in the order credit memos use: request and purpose, borrower overview, risk rating,
    repayment capacity, financial analysis (when a spread exists), risk factors with mitigants,
    precedents, recourse, integrity warnings, recommendation with conditions, sources."""
    lines = _title(memo) + _request(memo) + _overview(memo) + risk_rating_lines(memo)
    lines += ["## Repayment capacity", "", *repayment_lines(memo.spread), *financial_lines(memo.spread)]
    lines += risk_factor_lines(memo, signal_lines(memo.signals)) + _precedents(memo)
    lines += recourse_lines(memo.recourse, memo.decision["band"]) + _closing(memo)
    return "\n".join(lines)


def _title(memo: Memo) -> list[str]:
    return [
        f"# Credit memo: {memo.name or memo.case_id} ({memo.case_id})",
        "",
        f"- Dataset: {memo.dataset}; decision date: {memo.as_of or '—'}; generated {memo.generated_at}",
        f"- Model: {memo.model['label']} (id {memo.model['model_id'][:16]}), policy {memo.model['policy']}",
        f"- Narrative by {memo.llm['model_id']}; prompts "
        + ", ".join(f"{p['name']} v{p['version']}" for p in memo.prompts),
        "",
    ]


def _request(memo: Memo) -> list[str]:
    """What is asked for, each value as the spec's format reads it, and the stated purpose if any."""
    shown = {f.key: f.text() for f in memo.metrics}
    asked = [f"- {_label(k)}: {shown.get(k) or _value(v)}" for k, v in memo.request.items()]
    purpose = [f"- Purpose: {f.text()}" for f in memo.metrics if f.key in PURPOSE_FIELDS]
    return ["## Request and purpose", "", *(asked or ["- No request recorded."]), *purpose, ""]


def _label(key: str) -> str:
    return key.replace("_", " ").capitalize()


def _overview(memo: Memo) -> list[str]:
    """Who the borrower is: the business summary, the key metrics and what each document says."""
    return [
        "## Borrower overview",
        "",
        _section_text(memo.business_summary),
        "",
        "| metric | value |",
        "|---|---|",
        *[f"| {f.name} | {f.text() if f.shown else _value(f.value)} |" for f in memo.metrics],
        "",
        *_findings(memo),
    ]


def _findings(memo: Memo) -> list[str]:
    lines: list[str] = ["### Document summaries", ""]
    for f in memo.findings:
        flag = " ⚠ injection attempt flagged" if f.flagged else ""
        lines += [
            f"**{f.title}** ({f.doc_type}, {', '.join(f.tags)}){flag}",
            "",
            _section_text(f.summary),
            "",
        ]
    return lines if memo.findings else [*lines, "No documents on file.", ""]


def _precedents(memo: Memo) -> list[str]:
    lines = ["## Precedents", ""]
    if not memo.similar:
        return [*lines, "No similar-case library for this dataset.", ""]
    lines += [
        "| tag | case | decided | outcome | model PD | similarity | closest on |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in memo.similar:
        pd_shown = f"{s.pd:.1%}" if s.pd is not None else "—"
        lines.append(
            f"| {s.tag} | {s.case_id} | {s.decided_at} | {_outcome(s.outcome)} | {pd_shown} | "
            f"{s.similarity:.2f} | {', '.join(s.closest) or '—'} |"
        )
    return [*lines, "", _section_text(memo.comparison), ""]


def _closing(memo: Memo) -> list[str]:
    """Integrity warnings, the recommendation with its conditions, and the sources."""
    lines = ["## Integrity warnings", "", *([f"- {w}" for w in memo.integrity] or ["- none"]), ""]
    r = memo.recommendation
    return [
        *lines,
        "## Recommendation",
        "",
        f"**{r['band'].upper()}** (grade {r['grade']}, PD {pd_text(r['pd'])}). {r['text']}",
        "",
        *[f"- {c}" for c in r["conditions"]],
        "",
        "## Sources",
        "",
        *[f"- [{s['tag']}] {s['citation']}" for s in memo.sources],
        "",
    ]


def to_json(memo: Memo) -> str:
    return json.dumps(memo.model_dump(mode="json"), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def to_html(memo: Memo) -> str:
    """A self-contained page (no scripts, no remote assets) from the Markdown's structure."""
    style = (
        "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;line-height:1.45}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left}"
    )
    title = html.escape(f"Credit memo {memo.case_id}")
    return (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{style}</style></head><body>\n" + html_body(to_markdown(memo)) + "\n</body></html>\n"
    )


def html_body(markdown: str) -> str:
    """The memo Markdown's subset (headings, lists, tables, bold, code) as escaped HTML elements."""
    body: list[str] = []
    table: list[str] = []
    for line in markdown.splitlines():
        if line.startswith("|"):
            if set(line.replace("|", "").strip()) <= {"-"}:
                continue
            cells = [html.escape(c.strip()) for c in line.strip("|").split("|")]
            tag = "th" if not table else "td"
            table.append("<tr>" + "".join(f"<{tag}>{c}</{tag}>" for c in cells) + "</tr>")
            continue
        if table:
            body.append("<table>" + "".join(table) + "</table>")
            table = []
        text = html.escape(line)
        text = _inline(text)
        if line.startswith("# "):
            body.append(f"<h1>{text[2:]}</h1>")
        elif line.startswith("## "):
            body.append(f"<h2>{text[3:]}</h2>")
        elif line.startswith("- "):
            body.append(f"<li>{text[2:]}</li>")
        elif line.strip():
            body.append(f"<p>{text}</p>")
    if table:
        body.append("<table>" + "".join(table) + "</table>")
    return "\n".join(body)


def _inline(text: str) -> str:
    import re

    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
    text = re.sub(r"`(.+?)`", r"<code>\1</code>", text)
    return re.sub(r"(?<!\w)_(.+?)_(?!\w)", r"<em>\1</em>", text)
