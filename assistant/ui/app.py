"""The Gradio workbench: case review, chat, batch, evaluation and portfolio views.

Thin over the services in this package: each handler turns a service's data into
components and turns every failure into a readable message, so one failing panel never
takes the page down. Importing this module sets ``GRADIO_ANALYTICS_ENABLED=False`` before
Gradio loads: the app makes no outbound connection, and the theme uses system fonts only.
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import functools
import html
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gradio as gr
import matplotlib.pyplot as plt
import pandas as pd

from assistant.decisions import parse_conditions
from assistant.ui import plots
from assistant.ui.batch_jobs import BatchJob, ledger_rows, plan_batch, write_downloads
from assistant.ui.eval_runs import case_ids, drill_down, run_folders, side_by_side
from assistant.ui.evidence_html import (
    evidence_html,
    header_html,
    integrity_html,
    memo_html,
    memo_progress_html,
)
from assistant.ui.portfolio import health
from assistant.ui.workbench import CaseView, Workbench
from models.errors import UnderwriterError
from models.policy import BANDS

CSS = """
.score-head{display:flex;gap:1.2rem;align-items:center;padding:.8rem 1rem;border-radius:8px;background:#f4f6f8}
.score-head .kpi{display:flex;flex-direction:column;min-width:6rem}
.score-head .label{font-size:.75rem;color:#5b6b7b;text-transform:uppercase;letter-spacing:.04em}
.score-head .value{font-size:1.9rem;font-weight:700;color:#1f3b57}
.band-approve .band{color:#1f7a4d}.band-refer .band{color:#b9770e}.band-decline .band{color:#c0392b}
.score-head .who{font-size:.9rem;line-height:1.4}
.muted{color:#6b7b8b;font-size:.85em}
.integrity{padding:.6rem .9rem;border-radius:6px;margin:.3rem 0}
.integrity.warn{background:#fdecea;border-left:5px solid #c0392b}
.integrity.ok{background:#edf7f0;border-left:5px solid #1f7a4d}
.memo h1{font-size:1.25rem}.memo h2{font-size:1.05rem;margin-top:1rem}.memo h3{font-size:.95rem}
.memo table{border-collapse:collapse;font-size:.85rem}.memo td,.memo th{border:1px solid #ddd;padding:.15rem .4rem}
.memo .status{color:#1f3b57;font-style:italic}
a.cite{font-weight:600;color:#1f5fa8;text-decoration:none;border-bottom:1px dotted #1f5fa8}
.evidence{max-height:38rem;overflow:auto;font-size:.85rem}
.evidence .passage{padding:.3rem .5rem;margin:.3rem 0;border-radius:4px;border:1px solid #e3e8ee}
.evidence .passage pre{white-space:pre-wrap;font-family:inherit;margin:.3rem 0 0}
.evidence .passage.flagged{border-color:#c0392b}
.evidence .passage.active{background:#fff6d6;border-color:#d4a017;box-shadow:0 0 0 2px #d4a017}
.evidence .tag{display:inline-block;background:#1f3b57;color:#fff;border-radius:3px;padding:0 .35rem;font-size:.75rem}
.badge.danger{background:#c0392b;color:#fff;border-radius:3px;padding:0 .35rem;font-size:.75rem}
.bar{height:14px;background:#e3e8ee;border-radius:7px;overflow:hidden}
.bar > div{height:100%;background:#1f5fa8}
"""

# Citations open their passage: the evidence panel's <details> opens, the passage is highlighted
# and scrolled into view. Event delegation, so it works for memo HTML that arrives later.
HEAD = """
<script>
document.addEventListener('click', function (event) {
  var link = event.target.closest ? event.target.closest('a.cite') : null;
  if (!link) { return; }
  event.preventDefault();
  var passage = document.getElementById('src-' + link.dataset.tag);
  if (!passage) { return; }
  var box = passage.closest('details');
  if (box) { box.open = true; }
  document.querySelectorAll('.passage.active').forEach(function (p) { p.classList.remove('active'); });
  passage.classList.add('active');
  passage.scrollIntoView({behavior: 'instant', block: 'center'});
});
</script>
"""

THEME_FONTS = ["ui-sans-serif", "system-ui", "sans-serif"]
MONO_FONTS = ["ui-monospace", "monospace"]
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


def readable(error: BaseException) -> str:
    if isinstance(error, UnderwriterError):
        return str(error)
    return f"{type(error).__name__}: {error}"


def friendly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Any failure becomes a message in a toast; the page and its other panels keep working."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except Exception as exc:
            raise gr.Error(readable(exc), duration=None) from None

    return wrapper


def _close(fig: Any) -> Any:
    plt.close(fig)
    return fig


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


def build_app(bench: Workbench) -> gr.Blocks:
    settings = bench.settings
    try:
        spec_model = bench.source.model
        form_spec = spec_model.spec
        categories = spec_model.encoder.categories
    except UnderwriterError:
        form_spec, categories = None, {}

    with gr.Blocks(title="Underwriter workbench", fill_width=True) as app:
        current = gr.State("")
        sessions = gr.State({})
        with gr.Row():
            gr.HTML("<h2 style='margin:.2rem 0'>Underwriter · merchant credit workbench</h2>")
            llm_status = gr.Markdown(bench.llm_status(), elem_id="llm-status")
        status_timer = gr.Timer(2.0)

        with gr.Tabs(elem_id="views") as tabs:
            # ---- case review -----------------------------------------------------------------------
            with gr.Tab("Case review", id="case", elem_id="tab-case"):
                with gr.Row():
                    with gr.Column(scale=3):
                        with gr.Row():
                            status = gr.Radio(
                                ["applicant", "historical", "all"], value="applicant", label="Queue"
                            )
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
                                        new_fields.append(
                                            gr.Dropdown(choices, label=label, allow_custom_value=True)
                                        )
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

            # ---- chat ------------------------------------------------------------------------------
            with gr.Tab("Chat", id="chat", elem_id="tab-chat"):
                chat_case = gr.Markdown("Open a case in **Case review** first.")
                chatbot = gr.Chatbot(
                    height=460, elem_id="chatbot", label="Conversation about the case in view"
                )
                with gr.Row():
                    question = gr.Textbox(
                        placeholder="Ask: why this score? / what if the refund rate was 2%? / similar cases / anything in the documents",
                        show_label=False,
                        scale=5,
                        elem_id="question",
                    )
                    ask = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
                gr.Examples(
                    [
                        "/score",
                        "/similar",
                        "what if the refund rate was 2%",
                        "what do the bank statements say about disputes?",
                    ],
                    inputs=question,
                )

            # ---- batch -----------------------------------------------------------------------------
            with gr.Tab("Batch", id="batch", elem_id="tab-batch"):
                gr.Markdown(
                    "Memos for many merchants at once, written in separate processes and recorded in the audit "
                    "trail. Run the same selection again and it resumes: finished memos are kept."
                )
                with gr.Row():
                    batch_source = gr.Radio(
                        ["demo applicants", "demo historical", "uploaded file"],
                        value="demo applicants",
                        label="Portfolio",
                    )
                    batch_file = gr.File(
                        label="Portfolio CSV (merchant_id column, or full records)",
                        file_types=[".csv"],
                        elem_id="batch-file",
                    )
                    with gr.Column():
                        batch_limit = gr.Slider(
                            1,
                            min(settings.ui.batch_max_cases, 200),
                            value=5,
                            step=1,
                            label="Cases",
                            elem_id="batch-limit",
                        )
                        batch_workers = gr.Slider(
                            1,
                            max(settings.ui.batch_workers, 2),
                            value=settings.ui.batch_workers,
                            step=1,
                            label="Worker processes",
                        )
                batch_button = gr.Button("Run batch", variant="primary", elem_id="run-batch")
                batch_progress = gr.HTML(elem_id="batch-progress")
                batch_table = gr.Dataframe(label="Run ledger", interactive=False, max_height=300)
                batch_files = gr.File(
                    label="Downloads", file_count="multiple", interactive=False, elem_id="batch-downloads"
                )

            # ---- evaluation ------------------------------------------------------------------------
            with gr.Tab("Evaluation", id="eval", elem_id="tab-eval"):
                with gr.Row():
                    run_choice = gr.Dropdown(
                        label="Evaluation run",
                        choices=list(run_folders(settings)),
                        allow_custom_value=True,
                        elem_id="eval-run",
                    )
                    refresh_runs = gr.Button("Refresh", size="sm")
                eval_table = gr.Dataframe(
                    label="Variants x metrics: mean [95% bootstrap interval]", interactive=False
                )
                eval_plot = gr.Plot(label="Means with intervals")
                eval_case = gr.Dropdown(
                    label="Drill down to a case", choices=[], allow_custom_value=True, elem_id="eval-case"
                )
                eval_scores = gr.Dataframe(label="Scores on this case", interactive=False)
                eval_outputs = gr.Markdown()

            # ---- portfolio -------------------------------------------------------------------------
            with gr.Tab("Portfolio", id="portfolio", elem_id="tab-portfolio") as portfolio_tab:
                portfolio_actions = gr.Markdown(elem_id="portfolio-actions")
                mix_plot = gr.Plot(label="Grade and band mix (applicants)")
                with gr.Row():
                    calibration_plot = gr.Plot(label="Calibration")
                    calibration_table = gr.Dataframe(label="Calibration by grade", interactive=False)
                drift_table = gr.Dataframe(label="Drift against training (PSI)", interactive=False)

        # ---- handlers ------------------------------------------------------------------------------

        def refresh_status() -> Any:
            text = bench.llm_status()
            return text, gr.Timer(active=text.startswith("LLM loading"))

        status_timer.tick(
            refresh_status,
            outputs=[llm_status, status_timer],
            show_progress="hidden",
            concurrency_id="status",
            concurrency_limit=None,
            api_visibility="private",
        )

        @friendly
        def load_queue(queue_status: str, text: str, sort: str) -> pd.DataFrame:
            return bench.queue(queue_status, text, sort)[QUEUE_COLUMNS]

        for trigger in (status.change, sort_by.change, search.submit, app.load):
            trigger(
                load_queue,
                [status, search, sort_by],
                queue,
                api_name="queue" if trigger == app.load else None,
                api_visibility="public" if trigger == app.load else "private",
            )

        def pick_row(frame: pd.DataFrame, evt: gr.SelectData) -> str:
            row = evt.index[0] if isinstance(evt.index, list | tuple) else evt.index
            return str(frame.iloc[int(row)]["merchant"])

        case_outputs = [
            current,
            head,
            notes,
            integrity,
            attribution,
            position,
            sparks,
            metrics,
            similar,
            memo,
            evidence,
            history,
            chat_case,
            chatbot,
        ]

        def show(view: CaseView) -> list[Any]:
            case = view.case
            months = view.monthly
            spark = None
            if months is not None and len(months):
                spark = _close(
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
                _close(plots.attribution_waterfall(view.base_margin, view.attribution, view.pd_of_margin)),
                _close(plots.score_position(portfolio_pd, case.score.pd, grade_edges)),
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
            if form_spec is None:
                raise UnderwriterError("no model is loaded; run `underwrite demo` first")
            fields = dict(zip(form_spec.features, values, strict=True))
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
                message = f"The memo could not be written: {readable(exc)}. Scores, evidence and decisions still work."
                body = memo_progress_html(case, [], message) if case else f"<p>{html.escape(message)}</p>"
                yield body, gr.skip()

        opened = open_button.click(
            open_case,
            case_box,
            case_outputs,
            api_name="open_case",
            concurrency_id="pages",
            concurrency_limit=settings.ui.concurrency,
        )
        hidden: dict[str, Any] = {"api_visibility": "private"}
        memo_args: dict[str, Any] = {"concurrency_id": "llm", **hidden}
        opened.success(
            write_memo, current, [memo, integrity], concurrency_limit=settings.ui.llm_concurrency, **memo_args
        )
        case_box.submit(open_case, case_box, case_outputs, concurrency_id="pages", **hidden).success(
            write_memo, current, [memo, integrity], **memo_args
        )
        queue.select(pick_row, queue, case_box, **hidden).success(
            open_case, case_box, case_outputs, concurrency_id="pages", **hidden
        ).success(write_memo, current, [memo, integrity], **memo_args)
        new_button.click(
            new_case,
            [new_name, uploads, *new_fields],
            case_outputs,
            api_name="new_case",
            concurrency_id="pages",
        ).success(write_memo, current, [memo, integrity], **memo_args)
        memo_button.click(write_memo, current, [memo, integrity], api_name="memo", concurrency_id="llm")

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
                conditions=parse_conditions(conds or ""),
                note=note or "",
                override_reason=reason or "",
            )
            override = f" — overrides the model's **{made.model_band}**" if made.is_override else ""
            memo_ref = f" on memo `{made.memo_id}`" if made.memo_id else " (no memo written yet)"
            return (
                f"Recorded **{made.decision}**{override} by {made.underwriter}{memo_ref}.",
                _decision_history(past),
            )

        decide_button.click(
            record,
            [current, decision, underwriter, conditions, decision_note, override],
            [decision_result, history],
            api_name="decide",
            concurrency_id="pages",
        )

        # ---- chat handlers ---------------------------------------------------------------------------

        def chat(
            case_id: str, text: str, messages: list[dict[str, Any]], open_sessions: dict[str, Any]
        ) -> Iterator[Any]:
            messages = list(messages or [])
            if not text.strip():
                yield messages, "", open_sessions
                return
            messages.append({"role": "user", "content": text})
            if not case_id:
                messages.append({"role": "assistant", "content": "Open a case in **Case review** first."})
                yield messages, "", open_sessions
                return
            try:
                session = open_sessions.get(case_id) or bench.chat_session(case_id)
                open_sessions = {**open_sessions, case_id: session}
                tool = session.route(text)
                names = {
                    "score": "score and reasons",
                    "whatif": "what-if (model re-score)",
                    "similar": "similar cases",
                    "search": "document search + LLM answer",
                }
                messages.append(
                    {
                        "role": "assistant",
                        "content": f"Ran **{names[tool]}**.",
                        "metadata": {"title": f"Tool: {tool}"},
                    }
                )
                messages.append({"role": "assistant", "content": ""})
                yield messages, "", open_sessions
                with bench.llm_lock, bench.audit() as audit:
                    session.audit = audit
                    for piece in session.ask(text):
                        messages[-1] = {"role": "assistant", "content": messages[-1]["content"] + piece}
                        yield messages, "", open_sessions
                    session.audit = None
                answer = session.history[-1]
                sources = {c.tag: c.citation for d in session.case.documents for c in d.chunks}
                sources |= {s.tag: s.case_id for s in session.case.similar}
                cited = (
                    answer.citations
                )  # what the answer itself cites; the passages line lists what was searched
                if cited:
                    lines = "\n".join(f"- **{t}** {sources.get(t, '')}" for t in cited)
                    messages.append(
                        {"role": "assistant", "content": lines, "metadata": {"title": "Citations"}}
                    )
                if answer.dropped:
                    messages.append(
                        {
                            "role": "assistant",
                            "content": "\n".join(
                                f"- {d['sentence']} — {'; '.join(d['reasons'])}" for d in answer.dropped
                            ),
                            "metadata": {
                                "title": f"Withheld by validation: {len(answer.dropped)} sentence(s)"
                            },
                        }
                    )
                yield messages, "", open_sessions
            except Exception as exc:
                messages.append({"role": "assistant", "content": f"Error: {readable(exc)}"})
                yield messages, "", open_sessions

        ask.click(
            chat,
            [current, question, chatbot, sessions],
            [chatbot, question, sessions],
            api_name="chat",
            concurrency_id="llm",
        )
        question.submit(
            chat,
            [current, question, chatbot, sessions],
            [chatbot, question, sessions],
            concurrency_id="llm",
            **hidden,
        )

        # ---- batch handlers --------------------------------------------------------------------------

        def run_batch_view(kind: str, upload: Any, limit: float, workers: float) -> Iterator[Any]:
            try:
                path = None
                if kind == "uploaded file":
                    if upload is None:
                        raise UnderwriterError("choose a portfolio CSV to upload, or a demo portfolio")
                    path = Path(upload if isinstance(upload, str) else upload.name)
                status_name = "historical" if kind == "demo historical" else "applicant"
                plan = plan_batch(settings, upload=path, status=status_name, limit=int(limit))
                job = BatchJob(plan, settings, workers=int(workers)).start()
            except Exception as exc:
                yield f"<p class='integrity warn'>{html.escape(readable(exc))}</p>", gr.skip(), gr.skip()
                return
            total = len(plan.case_ids)
            resumed = (
                f" Resumed: {job.already_done} already done in an earlier run." if job.already_done else ""
            )
            while True:
                rows = ledger_rows(plan.out)
                done = int((rows["status"] == "done").sum()) if len(rows) else 0
                failed = int((rows["status"] == "failed").sum()) if len(rows) else 0
                share = done / total if total else 1.0
                bar = (
                    f"<div class='bar'><div style='width:{share:.0%}'></div></div>"
                    f"<p id='batch-count'>{done} of {total} memos done, {failed} failed.{html.escape(resumed)}</p>"
                )
                if not job.running:
                    break
                yield bar, rows, gr.skip()
                time.sleep(1.0)
            zip_path, csv_path = write_downloads(plan.out)
            s = job.summary
            tail = (
                (
                    f"<p>Finished: {s.done} written, {s.skipped} skipped (done before), {s.recovered} recovered, "
                    f"{s.failed} failed in {s.seconds:.1f} s.</p>"
                )
                if s
                else ""
            )
            if job.error:
                tail += f"<p class='integrity warn'>{html.escape(job.error)}</p>"
            yield bar + tail, ledger_rows(plan.out), [str(zip_path), str(csv_path)]

        batch_button.click(
            run_batch_view,
            [batch_source, batch_file, batch_limit, batch_workers],
            [batch_progress, batch_table, batch_files],
            api_name="batch",
            concurrency_id="batch",
            concurrency_limit=1,
        )

        # ---- evaluation handlers -----------------------------------------------------------------------

        def list_runs() -> Any:
            runs = list(run_folders(settings))
            return gr.Dropdown(choices=runs, value=runs[0] if runs else None)

        def _run_folder(label: str) -> Path:
            runs = run_folders(settings)
            if label not in runs:
                raise UnderwriterError(f"no evaluation run {label!r}; runs: {', '.join(runs) or 'none yet'}")
            return runs[label]

        @friendly
        def show_run(label: str | None) -> tuple[Any, Any, Any]:
            if not label:
                return (
                    pd.DataFrame([{"run": "no evaluation run yet: `underwrite eval run`"}]),
                    None,
                    gr.Dropdown(choices=[]),
                )
            folder = _run_folder(label)
            table, points = side_by_side(folder)
            ids = case_ids(folder)
            figure = _close(plots.metric_intervals(points)) if points else None
            return table, figure, gr.Dropdown(choices=ids, value=ids[0] if ids else None)

        @friendly
        def show_eval_case(label: str | None, case_id: str | None) -> tuple[pd.DataFrame, str]:
            if not label or not case_id:
                return pd.DataFrame(), ""
            return drill_down(_run_folder(label), case_id)

        # A value set by a handler fires no change event, so each step chains the next explicitly.
        run_outputs = [eval_table, eval_plot, eval_case]
        case_outputs_eval = [eval_scores, eval_outputs]
        for trigger in (app.load, refresh_runs.click):
            trigger(list_runs, None, run_choice, **hidden).then(
                show_run, run_choice, run_outputs, **hidden
            ).then(show_eval_case, [run_choice, eval_case], case_outputs_eval, **hidden)
        run_choice.input(show_run, run_choice, run_outputs, api_name="eval_run").then(
            show_eval_case, [run_choice, eval_case], case_outputs_eval, **hidden
        )
        eval_case.input(show_eval_case, [run_choice, eval_case], case_outputs_eval, api_name="eval_case")

        # ---- portfolio handlers ------------------------------------------------------------------------

        @friendly
        def show_portfolio() -> tuple[Any, ...]:
            h = health(bench)
            actions = h.actions()
            lines = [
                f"**Score drift** PSI {h.score_psi:.3f} against training: **{h.score_status}** "
                "(watch above 0.10, act above 0.25).",
                f"**Outcomes so far**: {h.outcomes:,} merchants with a known 12-month outcome; "
                f"ECE {h.ece:.4f}."
                if h.ece is not None
                else "No known outcomes yet.",
                "",
            ]
            lines += (
                ["**Action needed:**", *[f"- {a}" for a in actions]]
                if actions
                else ["No threshold is crossed."]
            )
            known = [g for g in h.calibration if g.mean_pd is not None]
            cal_fig = (
                _close(
                    plots.calibration_by_grade(
                        [g.grade for g in known],
                        [g.mean_pd or 0 for g in known],
                        [g.observed or 0 for g in known],
                    )
                )
                if known
                else None
            )
            cal = pd.DataFrame(
                [
                    {
                        "grade": g.grade,
                        "cases": g.count,
                        "defaults": g.defaults,
                        "mean PD": None if g.mean_pd is None else round(g.mean_pd, 4),
                        "observed": None if g.observed is None else round(g.observed, 4),
                        "obs/exp": None if g.ratio is None else round(g.ratio, 2),
                        "p": None if g.p_value is None else round(g.p_value, 4),
                        "status": g.status,
                    }
                    for g in h.calibration
                ]
            )
            drift = pd.DataFrame(
                [{"input": d.feature, "PSI": round(d.psi, 4), "status": d.status} for d in h.feature_drift]
            )
            return ("\n".join(lines), _close(plots.mix_bars(h.grade_mix, h.band_mix)), cal_fig, cal, drift)

        portfolio_outputs = [portfolio_actions, mix_plot, calibration_plot, calibration_table, drift_table]
        portfolio_tab.select(
            show_portfolio, None, portfolio_outputs, api_name="portfolio", concurrency_id="pages"
        )
        _ = tabs
    return app


def launch_options(settings: Any) -> dict[str, Any]:
    """Everything ``launch`` needs besides the app: where it listens, who may log in, the limits."""
    from assistant.ui.auth import login_checker

    ui = settings.ui
    return {
        "server_name": ui.host,
        "server_port": ui.port or None,
        "auth": login_checker(Path(ui.auth_file)) if ui.auth_file else None,
        "auth_message": "Underwriter workbench: sign in with the account your administrator created.",
        "max_file_size": int(ui.max_upload_mb * 1024 * 1024),
        "share": False,
        "footer_links": [],
        "enable_monitoring": False,
        "ssr_mode": False,
        "pwa": False,
        "mcp_server": False,
        "theme": gr.themes.Default(font=THEME_FONTS, font_mono=MONO_FONTS),
        "css": CSS,
        "head": HEAD,
    }


def serve(bench: Workbench, *, block: bool = True, quiet: bool = False) -> tuple[gr.Blocks, str]:
    """Build, queue and launch; returns the app and its local URL."""
    ui = bench.settings.ui
    app = build_app(bench)
    app.queue(max_size=ui.queue_size, default_concurrency_limit=ui.concurrency)
    app.launch(prevent_thread_lock=True, quiet=quiet, show_error=True, **launch_options(bench.settings))
    url = app.local_url or f"http://{ui.host}:{ui.port}/"
    if block:
        app.block_thread()
    return app, url
