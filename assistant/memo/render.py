"""A memo as Markdown, JSON and HTML: pure functions of the memo, so replay reproduces the bytes."""

from __future__ import annotations

import html
import json
from typing import Any

from assistant.case.facts import pd_text
from assistant.memo.evidence_text import evidence_lines
from assistant.memo.schema import Memo, SectionText


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
    lines = _head(memo) + evidence_lines(memo.signals, memo.spread) + _findings(memo) + _similar(memo)
    lines += _closing(memo)
    return "\n".join(lines)


def _head(memo: Memo) -> list[str]:
    """Title, provenance, decision summary, key metrics, reason codes and the business summary."""
    d = memo.decision
    return [
        f"# Credit memo: {memo.name or memo.case_id} ({memo.case_id})",
        "",
        f"- Dataset: {memo.dataset}; decision date: {memo.as_of or '—'}; generated {memo.generated_at}",
        f"- Model: {memo.model['label']} (id {memo.model['model_id'][:16]}), policy {memo.model['policy']}",
        f"- Narrative by {memo.llm['model_id']}; prompts "
        + ", ".join(f"{p['name']} v{p['version']}" for p in memo.prompts),
        "- Request: " + (", ".join(f"{k} {_value(v)}" for k, v in memo.request.items()) or "—"),
        "",
        "## Decision summary",
        "",
        f"**Band: {d['band'].upper()}** · grade {d['grade']} · probability of default {pd_text(d['pd'])}",
        "",
        "Policy flags: " + (", ".join(d["policy_flags"]) or "none"),
        "",
        "## Key metrics",
        "",
        "| metric | value |",
        "|---|---|",
        *[f"| {f.name} | {_value(f.value)} |" for f in memo.metrics],
        "",
        "## Reason codes",
        "",
        *([f"- `{r['code']}` {r['text']}" for r in memo.reasons] or ["- none"]),
        "",
        "## Business summary",
        "",
        _section_text(memo.business_summary),
        "",
    ]


def _findings(memo: Memo) -> list[str]:
    lines: list[str] = ["## Document summaries", ""]
    for f in memo.findings:
        flag = " ⚠ injection attempt flagged" if f.flagged else ""
        lines += [
            f"**{f.title}** ({f.doc_type}, {', '.join(f.tags)}){flag}",
            "",
            _section_text(f.summary),
            "",
        ]
    return lines if memo.findings else [*lines, "No documents on file.", ""]


def _similar(memo: Memo) -> list[str]:
    lines = ["## Similar past cases", ""]
    if not memo.similar:
        return [*lines, "No similar-case library for this dataset.", ""]
    lines += [
        "| tag | case | decided | outcome | model PD | similarity | closest on |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in memo.similar:
        pd_text = f"{s.pd:.1%}" if s.pd is not None else "—"
        lines.append(
            f"| {s.tag} | {s.case_id} | {s.decided_at} | {_outcome(s.outcome)} | {pd_text} | "
            f"{s.similarity:.2f} | {', '.join(s.closest) or '—'} |"
        )
    return [*lines, "", _section_text(memo.comparison), ""]


def _closing(memo: Memo) -> list[str]:
    """Risks and mitigants, integrity warnings, the recommendation and the sources."""
    lines = ["## Risks and mitigants", "", *[f"- Risk: {r}" for r in memo.risks]]
    lines += [f"- Mitigant: {m}" for m in memo.mitigants]
    lines += ["", "## Integrity warnings", "", *([f"- {w}" for w in memo.integrity] or ["- none"]), ""]
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
