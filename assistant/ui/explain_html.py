"""The case page's explanation panel: principal reasons and mitigants with their values and where they
stand among past applicants, and the recourse that would move the band (each checked by re-scoring)."""

from __future__ import annotations

import html

from assistant.case.schema import CaseFile


def explanation_html(case: CaseFile) -> str:
    s = case.score
    if s.pd is None:
        return '<p class="muted">No risk model scores this case.</p>'
    reasons = "".join(
        f"<li><code>{html.escape(r.code)}</code> {html.escape(r.stated())}</li>" for r in s.reasons
    )
    mitigants = "".join(f"<li>{html.escape(m.get('detail', m['name']))}</li>" for m in s.mitigants)
    parts = [
        f"<h4>Principal reasons</h4><ul>{reasons or '<li>none</li>'}</ul>",
        f"<h4>Mitigants</h4><ul>{mitigants or '<li>none material</li>'}</ul>",
        f'<h4>Recourse</h4><div id="recourse">{recourse_html(case)}</div>',
    ]
    return "".join(parts)


def recourse_html(case: CaseFile) -> str:
    s = case.score
    if s.band == "approve":
        return '<p class="muted">None needed: the case is in the best band.</p>'
    r = s.recourse
    if not r or not r.get("feasible"):
        return (
            '<p class="muted">No change in what the applicant can change, alone or in pairs, moves the band to '
            f"{html.escape(str(r.get('target') if r else 'a better band'))}.</p>"
        )
    items = "".join(f"<li>{html.escape(o['text'])}.</li>" for o in r["options"])
    return f"<p>Smallest changes that move the band to <b>{html.escape(r['target'])}</b>:</p><ul>{items}</ul>"
