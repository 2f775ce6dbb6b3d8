"""HTML fragments for the case page: the memo with live citations, the evidence panel, warnings.

Every piece of text that came from a document or a model is escaped here; the only markup
is ours. A citation ``[C3]`` becomes a link to the element ``#src-C3`` of the evidence
panel, which holds the exact passage (the page script opens and highlights it).
"""

from __future__ import annotations

import html
import re

from assistant.case.facts import pd_text
from assistant.case.schema import CaseFile, similar_line
from assistant.memo.evidence_text import FIELD_NAMES, RATIO_NAMES, SEVERITY_ORDER, figure_text, ratio_text
from assistant.memo.render import html_body, to_markdown
from assistant.memo.schema import DocumentFinding, Memo, SectionText
from assistant.ui.explain_html import explanation_html

CITED = re.compile(r"\[((?:[A-Z]{1,2}\d{1,3})(?:\s*[,;]\s*[A-Z]{1,2}\d{1,3})*)\]")


def link_citations(escaped: str) -> str:
    """Turn ``[C3]`` / ``[C3, S1]`` in already-escaped HTML into links to their passages."""

    def anchors(match: re.Match[str]) -> str:
        tags = [t.strip() for t in re.split(r"[,;]", match.group(1))]
        links = ", ".join(f'<a class="cite" href="#src-{t}" data-tag="{t}">{t}</a>' for t in tags)
        return f"[{links}]"

    return CITED.sub(anchors, escaped)


def memo_html(memo: Memo) -> str:
    return f'<div class="memo">{link_citations(html_body(to_markdown(memo)))}</div>'


def _section(text: SectionText) -> str:
    if not text.sentences:
        return "<p><em>Nothing could be stated with support from the documents.</em></p>"
    note = (
        ' <span class="muted">(quoted: the LLM text failed validation)</span>'
        if text.source == "extractive"
        else ""
    )
    return f"<p>{link_citations(html.escape(' '.join(text.sentences)))}{note}</p>"


def memo_progress_html(case: CaseFile, findings: list[DocumentFinding], status: str) -> str:
    """The memo while it is written: the deterministic head at once, each document as it is done."""
    s = case.score
    parts = [
        f"<h1>Credit memo: {html.escape(case.name or case.case_id)} ({html.escape(case.case_id)})</h1>",
        f'<p class="status">{html.escape(status)}</p>',
        f"<h2>Decision summary</h2><p><b>Band: {html.escape(s.band.upper())}</b> · grade "
        f"{html.escape(s.grade)} · probability of default {pd_text(s.pd)}</p>",
        "<h2>Reason codes</h2><ul>"
        + "".join(f"<li><code>{html.escape(r.code)}</code> {html.escape(r.stated())}</li>" for r in s.reasons)
        + "</ul>",
        "<h2>Document findings</h2>",
    ]
    for f in findings:
        parts.append(f"<h3>{html.escape(f.title)}</h3>{_section(f.summary)}")
    waiting = len(case.documents) - len(findings)
    if waiting > 0:
        parts.append(f'<p class="muted">{waiting} document(s) still being read…</p>')
    return '<div class="memo">' + "\n".join(parts) + "</div>"


def _cite(tag: str) -> str:
    return f'[<a class="cite" href="#src-{html.escape(tag)}" data-tag="{html.escape(tag)}">{html.escape(tag)}</a>]'


def signals_html(case: CaseFile) -> str:
    """The risk signals found in the documents, most severe first, each opening its passage."""
    signals = sorted(case.evidence.signals, key=lambda s: SEVERITY_ORDER.get(s["severity"], 3))
    if not signals:
        return '<p class="muted">No risk signals found in the documents.</p>'
    items = "".join(
        f'<li class="signal {html.escape(s["severity"])}"><b>{html.escape(s["name"])}</b> '
        f'<span class="badge">{html.escape(s["severity"])}</span> “{html.escape(s["sentence"])}” {_cite(s["tag"])}</li>'
        for s in signals
    )
    return f'<ul class="signals">{items}</ul>'


def spread_html(case: CaseFile) -> str:
    """The financial spread: each figure with its period, unit and passage; ratios; tie warnings."""
    figures, ratios = case.evidence.figures(), case.evidence.ratios()
    if not figures:
        return '<p class="muted">No financial statement figures found in the documents.</p>'
    rows = "".join(
        f"<tr><td>{html.escape(FIELD_NAMES.get(k, k))}</td><td>{html.escape(figure_text(k, figures[k]['value']))}</td>"
        f"<td>{html.escape(figures[k]['period'] or '—')}</td><td>{html.escape(figures[k]['unit'])}</td>"
        f"<td>{_cite(figures[k]['tag'])}</td></tr>"
        for k in FIELD_NAMES
        if k in figures
    )
    ratio_rows = "".join(
        f"<tr><td>{html.escape(name)}</td><td>{html.escape(ratio_text(kind, ratios[k]))}</td></tr>"
        for k, (name, kind) in RATIO_NAMES.items()
        if k in ratios
    )
    warnings = "".join(
        f'<p class="warn">The spread does not tie: {html.escape(w)}.</p>'
        for w in case.evidence.spread.get("warnings", [])
    )
    return (
        '<table class="spread"><tr><th>item</th><th>value</th><th>period</th><th>stated in</th><th>source</th></tr>'
        f'{rows}</table><table class="ratios"><tr><th>ratio</th><th>value</th></tr>{ratio_rows}</table>{warnings}'
    )


def evidence_html(case: CaseFile) -> str:
    """The signals and the spread found in the documents, then every document passage (redacted) and similar
    case the memo may cite, each with its anchor."""
    parts = [
        '<div class="evidence">',
        f'<details class="doc" open id="doc-explanation"><summary><b>Reasons, mitigants and recourse</b>'
        f"</summary>{explanation_html(case)}</details>",
        f'<details class="doc" open id="doc-signals"><summary><b>Risk signals</b> <span class="muted">'
        f"{len(case.evidence.signals)} found</span></summary>{signals_html(case)}</details>",
        '<details class="doc" open id="doc-spread"><summary><b>Financial spread</b></summary>'
        f"{spread_html(case)}</details>",
    ]
    for doc in case.documents:
        badge = ' <span class="badge danger">instructions to an AI found</span>' if doc.flagged else ""
        tags = ", ".join(c.tag for c in doc.chunks)
        parts.append(
            f'<details class="doc" id="doc-{html.escape(doc.doc_id)}"><summary><b>{html.escape(doc.title)}</b> '
            f'<span class="muted">{html.escape(doc.doc_type)} · {tags}</span>{badge}</summary>'
        )
        for c in doc.chunks:
            flagged = " flagged" if c.injection_score >= 0.5 else ""
            parts.append(
                f'<div class="passage{flagged}" id="src-{c.tag}"><span class="tag">{c.tag}</span> '
                f'<span class="muted">{html.escape(c.citation)}</span><pre>{html.escape(c.text)}</pre></div>'
            )
        parts.append("</details>")
    if case.similar:
        parts.append('<details class="doc" id="doc-similar"><summary><b>Similar past cases</b></summary>')
        for s in case.similar:
            parts.append(
                f'<div class="passage" id="src-{s.tag}"><span class="tag">{s.tag}</span> '
                f"{html.escape(similar_line(s))}</div>"
            )
        parts.append("</details>")
    if not case.documents and not case.similar:
        parts.append('<p class="muted">No documents or similar cases for this case.</p>')
    parts.append("</div>")
    return "\n".join(parts)


def integrity_html(case: CaseFile, memo: Memo | None = None) -> str:
    """Injection attempts, contradictions and dropped LLM sentences, highlighted; empty when clean."""
    items = []
    if memo is not None:
        items = list(memo.integrity)
    else:
        items += [
            f"{d.title} ({d.doc_id}) contains instructions addressed to an AI "
            f"({', '.join(sorted({str(f.get('rule')) for f in d.injection_flags})) or 'screening score'}); "
            "it is treated as data, never obeyed"
            for d in case.documents
            if d.flagged
        ]
        items += [
            f"{c.name}: {c.doc_id} states {c.stated:,.4g}, the data records {c.recorded:,.4g} [{c.tag}]"
            for c in case.contradictions
        ]
    if not items:
        return '<div class="integrity ok">No integrity warnings.</div>'
    lis = "".join(f"<li>{link_citations(html.escape(i))}</li>" for i in items)
    return f'<div class="integrity warn"><b>Integrity warnings</b><ul>{lis}</ul></div>'


def header_html(case: CaseFile, percentile: float | None) -> str:
    s = case.score
    flags = ", ".join(f["text"] for f in s.policy_flags) or "none"
    where = f"riskier than {percentile:.0%} of the portfolio" if percentile is not None else ""
    shown = {f.key: f.text() for f in case.facts}
    request = ", ".join(
        f"{html.escape(k.replace('_', ' '))} {html.escape(shown.get(k) or str(v))}"
        for k, v in case.request.items()
    )
    return (
        f'<div class="score-head band-{html.escape(s.band)}">'
        f'<div class="kpi"><span class="label">PD</span><span class="value" id="case-pd">{s.pd:.2%}</span></div>'
        f'<div class="kpi"><span class="label">Grade</span><span class="value">{html.escape(s.grade)}</span></div>'
        f'<div class="kpi"><span class="label">Band</span><span class="value band">{html.escape(s.band)}</span></div>'
        f'<div class="who"><b>{html.escape(case.name or case.case_id)}</b> · {html.escape(case.case_id)}'
        f"<br>{request or '—'} · {where}<br>Policy flags: {html.escape(flags)}"
        f'<br><span class="muted">{html.escape(case.model["label"])}</span></div></div>'
    )
