"""The case review view: work queue, new application, case page, memo with live citations, decision."""

from __future__ import annotations

import html
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from assistant.ui import plots
from assistant.ui.evidence_html import (
    evidence_html,
    header_html,
    integrity_html,
    memo_html,
    memo_progress_html,
)
from assistant.ui.views.common import HIDDEN, close_figure, friendly, readable
from assistant.ui.workbench import CaseView, Workbench
from models.errors import UnderwriterError
from models.policy import BANDS

QUEUE_COLUMNS = [
    "merchant",
    "name",
    "PD",
    "grade",
    "band",
    "requested",
    "flags",
    "industry",
    "country",
    "reasons",
]


def _metrics_table(view: CaseView) -> pd.DataFrame:
    return pd.DataFrame(
        [{"metric": f.name, "value": f.value} for f in view.case.facts] or [{"metric": "—", "value": ""}]
    ).astype(str)


def _similar_table(view: CaseView) -> pd.DataFrame:
    outcome = {None: "not yet known", 1: "defaulted", 0: "performed"}
    rows = [
        {
            "tag": s.tag,
            "case": s.case_id,
            "decided": s.decided_at,
            "outcome": outcome[s.outcome],
            "PD": "—" if s.pd is None else f"{s.pd:.2%}",
            "grade": s.grade or "—",
            "similarity": f"{s.similarity:.3f}",
            "matches on": ", ".join(s.closest),
        }
        for s in view.case.similar
    ]
    return pd.DataFrame(
        rows
        or [
            {
                "tag": "",
                "case": "no similar-case library",
                "decided": "",
                "outcome": "",
                "PD": "",
                "grade": "",
                "similarity": "",
                "matches on": "",
            }
        ]
    )


def _decision_history(history: list[tuple[str, Any]]) -> pd.DataFrame:
    rows = [
        {
            "recorded": at,
            "decision": d.decision + (" (override)" if d.is_override else ""),
            "underwriter": d.underwriter,
            "conditions": "; ".join(d.conditions),
            "note": d.note,
            "override reason": d.override_reason,
            "memo": d.memo_id,
        }
        for at, d in history
    ]
    columns = ["recorded", "decision", "underwriter", "conditions", "note", "override reason", "memo"]
    return pd.DataFrame(rows, columns=columns)


@dataclass
class CaseTab:
    status: Any
    search: Any
    sort_by: Any
    queue: Any
    case_box: Any
    open_button: Any
    new_name: Any
    new_fields: Any
    uploads: Any
    new_button: Any
    head: Any
    notes: Any
    integrity: Any
    attribution: Any
    position: Any
    sparks: Any
    metrics: Any
    similar: Any
    memo_button: Any
    memo: Any
    evidence: Any
    decision: Any
    underwriter: Any
    conditions: Any
    decision_note: Any
    override: Any
    decide_button: Any
    decision_result: Any
    history: Any
    form_spec: Any


def layout(bench: Workbench) -> CaseTab:
    settings = bench.settings
    try:
        spec_model = bench.source.model
        form_spec = spec_model.spec
        categories = spec_model.encoder.categories
    except UnderwriterError:
        form_spec, categories = None, {}
    with gr.Row():
        with gr.Column(scale=3):
            with gr.Row():
                status = gr.Radio(["applicant", "historical", "all"], value="applicant", label="Queue")
                search = gr.Textbox(label="Search (id, name, industry, flag)", scale=2)
                sort_by = gr.Dropdown(
                    ["PD", "requested", "grade", "merchant", "name"], value="PD", label="Sort by"
                )
            queue = gr.Dataframe(
                headers=QUEUE_COLUMNS,
                interactive=False,
                max_height=300,
                elem_id="queue",
                label="Work queue: click a row to open the case",
            )
        with gr.Column(scale=1):
            case_box = gr.Textbox(label="Merchant id", elem_id="case-id")
            open_button = gr.Button("Open case", variant="primary", elem_id="open-case")
            with gr.Accordion("New application", open=False, elem_id="new-application"):
                new_name = gr.Textbox(label="Legal name")
                new_fields: list[gr.components.Component] = []
                if form_spec is not None:
                    for feature in form_spec.features:
                        label = form_spec.display_name(feature)
                        if feature in form_spec.numeric:
                            new_fields.append(gr.Number(label=label))
                        else:
                            choices = [c for c in categories.get(feature, []) if c != "__other__"]
                            new_fields.append(gr.Dropdown(choices, label=label, allow_custom_value=True))
                uploads = gr.File(
                    label=f"Documents (txt, md, html, pdf, docx, json, zip; ≤ {settings.ui.max_upload_mb:g} MB each)",
                    file_count="multiple",
                    file_types=[".txt", ".md", ".html", ".htm", ".pdf", ".docx", ".json", ".zip"],
                )
                new_button = gr.Button("Score new application")
    head = gr.HTML(elem_id="case-head")
    notes = gr.Markdown()
    integrity = gr.HTML(elem_id="integrity")
    with gr.Row():
        attribution = gr.Plot(label="What moved the score", elem_id="attribution")
        position = gr.Plot(label="Position in the portfolio", elem_id="position")
    sparks = gr.Plot(label="Monthly volume, refunds, disputes", elem_id="sparklines")
    with gr.Row():
        metrics = gr.Dataframe(label="Key metrics", interactive=False, max_height=300)
        similar = gr.Dataframe(
            label="Similar past cases (as of the decision date)",
            interactive=False,
            max_height=300,
        )
    with gr.Row():
        with gr.Column(scale=3):
            with gr.Row():
                memo_button = gr.Button("Rewrite memo", size="sm", elem_id="write-memo")
            memo = gr.HTML(elem_id="memo")
        with gr.Column(scale=2):
            gr.Markdown("**Evidence**: click a citation in the memo to open its passage.")
            evidence = gr.HTML(elem_id="evidence")
    with gr.Accordion("Record the decision", open=True, elem_id="decision"):
        with gr.Row():
            decision = gr.Radio(list(BANDS), label="Decision", elem_id="decision-choice")
            underwriter = gr.Textbox(label="Underwriter", elem_id="underwriter")
        conditions = gr.Textbox(label="Conditions (one per line)", lines=2, elem_id="conditions")
        decision_note = gr.Textbox(label="Note", lines=2, elem_id="decision-note")
        override = gr.Textbox(
            label="Override reason (required when the decision differs from the model's band)",
            elem_id="override-reason",
        )
        decide_button = gr.Button("Record decision", variant="primary", elem_id="record-decision")
        decision_result = gr.Markdown(elem_id="decision-result")
        history = gr.Dataframe(label="Decisions on this case (audit trail)", interactive=False)
    return CaseTab(
        status=status,
        search=search,
        sort_by=sort_by,
        queue=queue,
        case_box=case_box,
        open_button=open_button,
        new_name=new_name,
        new_fields=new_fields,
        uploads=uploads,
        new_button=new_button,
        head=head,
        notes=notes,
        integrity=integrity,
        attribution=attribution,
        position=position,
        sparks=sparks,
        metrics=metrics,
        similar=similar,
        memo_button=memo_button,
        memo=memo,
        evidence=evidence,
        decision=decision,
        underwriter=underwriter,
        conditions=conditions,
        decision_note=decision_note,
        override=override,
        decide_button=decide_button,
        decision_result=decision_result,
        history=history,
        form_spec=form_spec,
    )


def wire(
    app: gr.Blocks, bench: Workbench, tab: CaseTab, current: gr.State, chat_case: Any, chatbot: Any
) -> None:
    settings = bench.settings

    @friendly
    def load_queue(queue_status: str, text: str, sort: str) -> pd.DataFrame:
        return bench.queue(queue_status, text, sort)[QUEUE_COLUMNS]

    for trigger in (tab.status.change, tab.sort_by.change, tab.search.submit, app.load):
        trigger(
            load_queue,
            [tab.status, tab.search, tab.sort_by],
            tab.queue,
            api_name="queue" if trigger == app.load else None,
            api_visibility="public" if trigger == app.load else "private",
        )

    def pick_row(frame: pd.DataFrame, evt: gr.SelectData) -> str:
        row = evt.index[0] if isinstance(evt.index, list | tuple) else evt.index
        return str(frame.iloc[int(row)]["merchant"])

    case_outputs = [
        current,
        tab.head,
        tab.notes,
        tab.integrity,
        tab.attribution,
        tab.position,
        tab.sparks,
        tab.metrics,
        tab.similar,
        tab.memo,
        tab.evidence,
        tab.history,
        chat_case,
        chatbot,
    ]

    def show(view: CaseView) -> list[Any]:
        case = view.case
        months = view.monthly
        spark = None
        if months is not None and len(months):
            spark = close_figure(
                plots.sparklines(
                    list(months["month"].astype(str)),
                    {k: list(months[k]) for k in ("volume", "refunds", "disputes") if k in months},
                )
            )
        grade_edges = list(bench.source.model.policy.grades.values())[:-1]
        portfolio_pd = bench.queue_frame()["PD"].to_numpy(dtype=float)
        note = "\n".join(f"- {n}" for n in view.notes)
        return [
            case.case_id,
            header_html(case, view.percentile),
            note,
            integrity_html(case),
            close_figure(plots.attribution_waterfall(view.base_margin, view.attribution, view.pd_of_margin)),
            close_figure(plots.score_position(portfolio_pd, case.score.pd, grade_edges)),
            spark,
            _metrics_table(view),
            _similar_table(view),
            memo_progress_html(case, [], "The memo is being written…"),
            evidence_html(case),
            _decision_history(bench.decisions(case.case_id)),
            f"Case in view: **{html.escape(case.name or case.case_id)}** ({case.case_id}), PD {case.score.pd:.2%}, "
            f"grade {case.score.grade}, band {case.score.band}.",
            [],
        ]

    @friendly
    def open_case(case_id: str) -> list[Any]:
        return show(bench.open_case(case_id))

    @friendly
    def new_case(name: str, files: list[Any] | None, *values: Any) -> list[Any]:
        if tab.form_spec is None:
            raise UnderwriterError("no model is loaded; run `underwrite demo` first")
        fields = dict(zip(tab.form_spec.features, values, strict=True))
        paths = [Path(f if isinstance(f, str) else f.name) for f in (files or [])]
        return show(bench.new_case(fields, paths, name=name))

    def write_memo(case_id: str) -> Iterator[tuple[str, str]]:
        if not case_id:
            yield "<p class='muted'>Open a case first.</p>", gr.skip()
            return
        case = None
        try:
            case, _ = bench.case(case_id)
            for findings, done, line in bench.memo_stream(case_id):
                if done is None:
                    yield memo_progress_html(case, findings, line), gr.skip()
                else:
                    yield (
                        f"<p class='status muted'>{html.escape(line)}</p>" + memo_html(done),
                        integrity_html(case, done),
                    )
        except Exception as exc:  # the LLM backend down: say so here, keep the rest of the page
            message = (
                f"The memo could not be written: {readable(exc)}. Scores, evidence and decisions still work."
            )
            body = memo_progress_html(case, [], message) if case else f"<p>{html.escape(message)}</p>"
            yield body, gr.skip()

    opened = tab.open_button.click(
        open_case,
        tab.case_box,
        case_outputs,
        api_name="open_case",
        concurrency_id="pages",
        concurrency_limit=settings.ui.concurrency,
    )
    memo_args: dict[str, Any] = {"concurrency_id": "llm", **HIDDEN}
    opened.success(
        write_memo,
        current,
        [tab.memo, tab.integrity],
        concurrency_limit=settings.ui.llm_concurrency,
        **memo_args,
    )
    tab.case_box.submit(open_case, tab.case_box, case_outputs, concurrency_id="pages", **HIDDEN).success(
        write_memo, current, [tab.memo, tab.integrity], **memo_args
    )
    tab.queue.select(pick_row, tab.queue, tab.case_box, **HIDDEN).success(
        open_case, tab.case_box, case_outputs, concurrency_id="pages", **HIDDEN
    ).success(write_memo, current, [tab.memo, tab.integrity], **memo_args)
    tab.new_button.click(
        new_case,
        [tab.new_name, tab.uploads, *tab.new_fields],
        case_outputs,
        api_name="new_case",
        concurrency_id="pages",
    ).success(write_memo, current, [tab.memo, tab.integrity], **memo_args)
    tab.memo_button.click(
        write_memo, current, [tab.memo, tab.integrity], api_name="memo", concurrency_id="llm"
    )

    @friendly
    def record(
        case_id: str,
        choice: str | None,
        name: str,
        conds: str,
        note: str,
        reason: str,
        request: gr.Request,
    ) -> tuple[str, pd.DataFrame]:
        if not case_id:
            raise UnderwriterError("open a case before recording a decision")
        if not choice:
            raise UnderwriterError("decision: choose approve, refer or decline")
        who = (name or "").strip() or (getattr(request, "username", None) or "")
        made, past = bench.decide(
            case_id,
            choice,
            who,
            conditions=conds or "",
            note=note or "",
            override_reason=reason or "",
        )
        overridden = f" — overrides the model's **{made.model_band}**" if made.is_override else ""
        memo_ref = f" on memo `{made.memo_id}`" if made.memo_id else " (no memo written yet)"
        return (
            f"Recorded **{made.decision}**{overridden} by {made.underwriter}{memo_ref}.",
            _decision_history(past),
        )

    tab.decide_button.click(
        record,
        [current, tab.decision, tab.underwriter, tab.conditions, tab.decision_note, tab.override],
        [tab.decision_result, tab.history],
        api_name="decide",
        concurrency_id="pages",
    )
