"""The batch view: a portfolio file or the demo one, a resumable memo run with live progress, downloads."""

from __future__ import annotations

import html
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.jobs.batch_downloads import write_downloads
from assistant.jobs.batch_plan import plan_batch
from assistant.jobs.memo_batch import ledger_rows
from assistant.settings import Settings
from assistant.ui.background import BackgroundIndex
from assistant.ui.batch_jobs import start_job
from assistant.ui.views.common import readable
from models.errors import UnderwriterError


@dataclass
class BatchTab:
    batch_source: Any
    batch_file: Any
    batch_limit: Any
    batch_workers: Any
    batch_button: Any
    batch_progress: Any
    batch_table: Any
    batch_files: Any


def layout(settings: Settings) -> BatchTab:
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
    return BatchTab(
        batch_source=batch_source,
        batch_file=batch_file,
        batch_limit=batch_limit,
        batch_workers=batch_workers,
        batch_button=batch_button,
        batch_progress=batch_progress,
        batch_table=batch_table,
        batch_files=batch_files,
    )


def _resumed_note(already_done: int, started: bool) -> str:
    if not started:
        return " This selection was already running (started earlier): showing that run, not a second one."
    return f" Resumed: {already_done} already done in an earlier run." if already_done else ""


def wire(settings: Settings, tab: BatchTab) -> None:
    def run_batch_view(kind: str, upload: Any, limit: float, workers: float) -> Iterator[Any]:
        try:
            path = None
            if kind == "uploaded file":
                if upload is None:
                    raise UnderwriterError("choose a portfolio CSV to upload, or a demo portfolio")
                path = Path(upload if isinstance(upload, str) else upload.name)
            status_name = "historical" if kind == "demo historical" else "applicant"
            plan = plan_batch(settings, upload=path, status=status_name, limit=int(limit))
            job, started = start_job(plan, settings, workers=int(workers))
        except Exception as exc:
            yield f"<p class='integrity warn'>{html.escape(readable(exc))}</p>", gr.skip(), gr.skip()
            return
        total = len(plan.case_ids)
        resumed = f" Resumed: {job.already_done} already done in an earlier run." if job.already_done else ""
        if not started:
            resumed = (
                " This selection was already running (started earlier): showing that run, not a second one."
            )
        if BackgroundIndex(settings).building():
            resumed += (
                " The document index is still being built: these memos read each merchant's files and have "
                "no similar past cases yet."
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

    tab.batch_button.click(
        run_batch_view,
        [tab.batch_source, tab.batch_file, tab.batch_limit, tab.batch_workers],
        [tab.batch_progress, tab.batch_table, tab.batch_files],
        api_name="batch",
        concurrency_id="batch",
        concurrency_limit=1,
    )
