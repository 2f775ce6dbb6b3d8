"""The case review view: work queue, new application, case page, memo with live citations, decision."""

from __future__ import annotations

import html
from collections.abc import Iterator, Sequence
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
from assistant.ui.views import notice_panel
from assistant.ui.views.case_tables import QUEUE_COLUMNS, decision_history, metrics_table, similar_table
from assistant.ui.views.common import HIDDEN, close_figure, friendly, readable
from assistant.ui.workbench import CaseView, Workbench
from models.data.policy import BANDS
from models.data.spec import DatasetSpec
from models.errors import UnderwriterError


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
    notice_offer: Any
    notice_button: Any
    notice_text: Any
    notice_file: Any


# ---- layout ---------------------------------------------------------------------------------------


def layout(bench: Workbench) -> CaseTab:
    try:
        model = bench.source.risk_model()
        form_spec: DatasetSpec | None = model.spec
        categories = model.encoder.categories
    except UnderwriterError:
        form_spec, categories = None, {}
    parts: dict[str, Any] = {"form_spec": form_spec}
    with gr.Row():
        with gr.Column(scale=3):
            parts |= _queue_panel()
        with gr.Column(scale=1):
            parts["case_box"] = gr.Textbox(label="Merchant id", elem_id="case-id")
            parts["open_button"] = gr.Button("Open case", variant="primary", elem_id="open-case")
            with gr.Accordion("New application", open=False, elem_id="new-application"):
                parts |= _application_form(form_spec, categories, bench.settings.ui.max_upload_mb)
    parts |= _case_page()
    with gr.Accordion("Record the decision", open=True, elem_id="decision"):
        parts |= _decision_form()
    parts |= notice_panel.layout()
    return CaseTab(**parts)


def _queue_panel() -> dict[str, Any]:
    with gr.Row():
        status = gr.Radio(["applicant", "historical", "all"], value="applicant", label="Queue")
        search = gr.Textbox(label="Search (id, name, industry, flag)", scale=2)
        sort_by = gr.Dropdown(["PD", "requested", "grade", "merchant", "name"], value="PD", label="Sort by")
    queue = gr.Dataframe(
        headers=QUEUE_COLUMNS,
        interactive=False,
        max_height=300,
        elem_id="queue",
        label="Work queue: click a row to open the case",
    )
    return {"status": status, "search": search, "sort_by": sort_by, "queue": queue}


def _application_form(
    form_spec: DatasetSpec | None, categories: dict[str, list[str]], max_upload_mb: float
) -> dict[str, Any]:
    """A field per feature of the model's spec (its known categories offered), and document uploads."""
    new_name = gr.Textbox(label="Legal name")
    new_fields: list[gr.components.Component] = []
    for feature in form_spec.features if form_spec is not None else []:
        label = form_spec.display_name(feature)  # type: ignore[union-attr]
        if feature in form_spec.numeric:  # type: ignore[union-attr]
            new_fields.append(gr.Number(label=label))
        else:
            choices = [c for c in categories.get(feature, []) if c != "__other__"]
            new_fields.append(gr.Dropdown(choices, label=label, allow_custom_value=True))
    uploads = gr.File(
        label=f"Documents (txt, md, html, pdf, docx, json, zip; ≤ {max_upload_mb:g} MB each)",
        file_count="multiple",
        file_types=[".txt", ".md", ".html", ".htm", ".pdf", ".docx", ".json", ".zip"],
    )
    new_button = gr.Button("Score new application")
    return {"new_name": new_name, "new_fields": new_fields, "uploads": uploads, "new_button": new_button}


def _case_page() -> dict[str, Any]:
    parts: dict[str, Any] = {
        "head": gr.HTML(elem_id="case-head"),
        "notes": gr.Markdown(elem_id="case-notes"),
        "integrity": gr.HTML(elem_id="integrity"),
    }
    with gr.Row():
        parts["attribution"] = gr.Plot(label="What moved the score", elem_id="attribution")
        parts["position"] = gr.Plot(label="Position in the portfolio", elem_id="position")
    parts["sparks"] = gr.Plot(label="Monthly volume, refunds, disputes", elem_id="sparklines")
    with gr.Row():
        parts["metrics"] = gr.Dataframe(label="Key metrics", interactive=False, max_height=300)
        parts["similar"] = gr.Dataframe(
            label="Similar past cases (as of the decision date)",
            interactive=False,
            max_height=300,
            elem_id="similar",
        )
    with gr.Row():
        with gr.Column(scale=3):
            with gr.Row():
                parts["memo_button"] = gr.Button("Rewrite memo", size="sm", elem_id="write-memo")
            parts["memo"] = gr.HTML(elem_id="memo")
        with gr.Column(scale=2):
            gr.Markdown("**Evidence**: click a citation in the memo to open its passage.")
            parts["evidence"] = gr.HTML(elem_id="evidence")
    return parts


def _decision_form() -> dict[str, Any]:
    with gr.Row():
        decision = gr.Radio(list(BANDS), label="Decision", elem_id="decision-choice")
        underwriter = gr.Textbox(label="Underwriter", elem_id="underwriter")
    return {
        "decision": decision,
        "underwriter": underwriter,
        "conditions": gr.Textbox(label="Conditions (one per line)", lines=2, elem_id="conditions"),
        "decision_note": gr.Textbox(label="Note", lines=2, elem_id="decision-note"),
        "override": gr.Textbox(
            label="Override reason (required when the decision differs from the model's band)",
            elem_id="override-reason",
        ),
        "decide_button": gr.Button("Record decision", variant="primary", elem_id="record-decision"),
        "decision_result": gr.Markdown(elem_id="decision-result"),
        "history": gr.Dataframe(label="Decisions on this case (audit trail)", interactive=False),
    }


# ---- events ---------------------------------------------------------------------------------------


def wire(
    app: gr.Blocks, bench: Workbench, tab: CaseTab, current: gr.State, chat_case: Any, chatbot: Any
) -> None:
    _wire_queue(app, bench, tab)
    _wire_case(bench, tab, current, chat_case, chatbot)
    _wire_decision(app, bench, tab, current)
    notice_parts = {
        k: getattr(tab, k) for k in ("notice_offer", "notice_button", "notice_text", "notice_file")
    }
    notice_panel.wire(bench, notice_parts, current, session_of)


def _wire_queue(app: gr.Blocks, bench: Workbench, tab: CaseTab) -> None:
    @friendly
    def load_queue(queue_status: str, text: str, sort: str) -> pd.DataFrame:
        return bench.work_queue.rows(queue_status, text, sort)[QUEUE_COLUMNS]

    for trigger in (tab.status.change, tab.sort_by.change, tab.search.submit, app.load):
        trigger(
            load_queue,
            [tab.status, tab.search, tab.sort_by],
            tab.queue,
            api_name="queue" if trigger == app.load else None,
            api_visibility="public" if trigger == app.load else "private",
        )


def case_page(bench: Workbench, view: CaseView) -> list[Any]:
    """Every output of the case page, in the order of the case outputs, for one opened case."""
    case = view.case
    months = view.monthly
    spark = None
    if months is not None and len(months):
        series: dict[str, Sequence[float]] = {
            k: list(months[k]) for k in ("volume", "refunds", "disputes") if k in months
        }
        spark = close_figure(plots.sparklines(list(months["month"].astype(str)), series))
    grade_edges = list(bench.source.risk_model().policy.grades.values())[:-1]
    portfolio_pd = bench.work_queue.frame()["PD"].to_numpy(dtype=float)
    return [
        case.case_id,
        header_html(case, view.percentile),
        "\n".join(f"- {n}" for n in view.notes),
        integrity_html(case),
        close_figure(plots.attribution_waterfall(view.base_margin, view.attribution, view.pd_of_margin)),
        close_figure(plots.score_position(portfolio_pd, case.scored_pd(), grade_edges)),
        spark,
        metrics_table(view),
        similar_table(view),
        memo_progress_html(case, [], "The memo is being written…"),
        evidence_html(case),
        decision_history(bench.desk.decisions(case.case_id)),
        f"Case in view: **{html.escape(case.name or case.case_id)}** ({case.case_id}), PD {case.scored_pd():.2%}, "
        f"grade {case.score.grade}, band {case.score.band}.",
        [],
    ]


def session_of(request: gr.Request | None) -> str:
    """The browser session a request comes from (memo ids are kept per session)."""
    return str(getattr(request, "session_hash", None) or "")


def memo_updates(bench: Workbench, case_id: str, session: str = "") -> Iterator[tuple[Any, Any]]:
    """(memo panel, integrity panel) as the memo is written; a failing LLM is said in the memo panel."""
    if not case_id:
        yield "<p class='muted'>Open a case first.</p>", gr.skip()
        return
    case = None
    try:
        case, _ = bench.case(case_id)
        for findings, done, line in bench.memo_stream(case_id, session):
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
        yield (memo_progress_html(case, [], message) if case else f"<p>{html.escape(message)}</p>"), gr.skip()


def _case_outputs(tab: CaseTab, current: gr.State, chat_case: Any, chatbot: Any) -> list[Any]:
    """The components :func:`case_page` fills, in its order."""
    return [
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


def _wire_case(bench: Workbench, tab: CaseTab, current: gr.State, chat_case: Any, chatbot: Any) -> None:
    settings = bench.settings
    outputs = _case_outputs(tab, current, chat_case, chatbot)
    pending = gr.State("")  # the case whose memo to write next: empty when nothing was opened

    def open_case(case_id: str) -> list[Any]:
        if not (case_id or "").strip():  # a hint, not a failure: no panel of the page turns red
            gr.Warning("Type a merchant id, or pick a case from the queue, to open it.")
            return [gr.skip()] * len(outputs) + [""]
        page = friendly(lambda: case_page(bench, bench.open_case(case_id)))()
        return [*page, page[0]]

    @friendly
    def new_case(name: str, files: list[Any] | None, *values: Any) -> list[Any]:
        if tab.form_spec is None:
            raise UnderwriterError("no model is loaded; run `underwrite demo` first")
        fields = dict(zip(tab.form_spec.features, values, strict=True))
        paths = [Path(f if isinstance(f, str) else f.name) for f in (files or [])]
        return case_page(bench, bench.new_case(fields, paths, name=name))

    def write_memo(case_id: str, request: gr.Request) -> Iterator[tuple[Any, Any]]:
        yield from memo_updates(bench, case_id, session_of(request))

    def write_opened(case_id: str, request: gr.Request) -> Iterator[tuple[Any, Any]]:
        yield from (
            memo_updates(bench, case_id, session_of(request)) if case_id else iter([(gr.skip(), gr.skip())])
        )

    def pick_row(frame: pd.DataFrame, evt: gr.SelectData) -> str:
        row = evt.index[0] if isinstance(evt.index, list | tuple) else evt.index
        return str(frame.iloc[int(row)]["merchant"])

    memo_out = [tab.memo, tab.integrity]
    memo_args: dict[str, Any] = {"concurrency_id": "llm", **HIDDEN}
    pages: dict[str, Any] = {"concurrency_id": "pages"}
    opened_outputs = [*outputs, pending]
    opened = tab.open_button.click(
        open_case,
        tab.case_box,
        opened_outputs,
        api_name="open_case",
        concurrency_limit=settings.ui.concurrency,
        **pages,
    )
    opened.success(
        write_opened, pending, memo_out, concurrency_limit=settings.ui.llm_concurrency, **memo_args
    )
    tab.case_box.submit(open_case, tab.case_box, opened_outputs, **pages, **HIDDEN).success(
        write_opened, pending, memo_out, **memo_args
    )
    tab.queue.select(pick_row, tab.queue, tab.case_box, **HIDDEN).success(
        open_case, tab.case_box, opened_outputs, **pages, **HIDDEN
    ).success(write_opened, pending, memo_out, **memo_args)
    new_inputs = [tab.new_name, tab.uploads, *tab.new_fields]
    tab.new_button.click(new_case, new_inputs, outputs, api_name="new_case", **pages).success(
        write_memo, current, memo_out, **memo_args
    )
    tab.memo_button.click(write_memo, current, memo_out, api_name="memo", concurrency_id="llm")


def _wire_decision(app: gr.Blocks, bench: Workbench, tab: CaseTab, current: gr.State) -> None:
    @friendly
    def record(
        case_id: str, choice: str | None, name: str, conds: str, note: str, reason: str, request: gr.Request
    ) -> tuple[str, pd.DataFrame]:
        if not case_id:
            raise UnderwriterError("open a case before recording a decision")
        if not choice:
            raise UnderwriterError("decision: choose approve, refer or decline")
        made, past = bench.desk.decide(
            bench.case(case_id)[0],
            choice,
            bench.desk.identity(name, getattr(request, "username", None)),
            session=session_of(request),
            conditions=conds or "",
            note=note or "",
            override_reason=reason or "",
        )
        overridden = f" — overrides the model's **{made.model_band}**" if made.is_override else ""
        memo_ref = f" on memo `{made.memo_id}`" if made.memo_id else " (no memo written yet)"
        who = made.underwriter + ("" if made.authenticated else " (not authenticated: sign-in is off)")
        return f"Recorded **{made.decision}**{overridden} by {who}{memo_ref}.", decision_history(past)

    def signed_in(request: gr.Request) -> Any:
        """With sign-in on, the form shows who will be recorded, and cannot be changed."""
        user = getattr(request, "username", None)
        if user:
            return gr.Textbox(value=user, interactive=False, label="Underwriter (signed in)")
        return gr.Textbox(label="Underwriter (required; recorded as not authenticated)")

    app.load(signed_in, None, tab.underwriter, api_visibility="private")
    tab.decide_button.click(
        record,
        [current, tab.decision, tab.underwriter, tab.conditions, tab.decision_note, tab.override],
        [tab.decision_result, tab.history],
        api_name="decide",
        concurrency_id="pages",
    )
