"""The case page's notice panel: issue the adverse-action notice for the case in view (a decline, or a
counter-offer with its terms), recorded in the audit trail with the memo it rests on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from assistant.notice.issue import issue_notice
from assistant.ui.views.common import friendly
from assistant.ui.workbench import Workbench
from models.errors import UnderwriterError


def layout() -> dict[str, Any]:
    with gr.Accordion("Adverse-action notice", open=False, elem_id="notice"):
        offer = gr.Textbox(
            label="Counter-offer terms (leave empty for a decline notice)", elem_id="counter-offer"
        )
        button = gr.Button("Issue notice", elem_id="issue-notice")
        text = gr.Markdown(elem_id="notice-text")
        download = gr.File(label="Notice (HTML)", elem_id="notice-file")
    return {"notice_offer": offer, "notice_button": button, "notice_text": text, "notice_file": download}


def wire(bench: Workbench, parts: dict[str, Any], current: gr.State, session_of: Any) -> None:
    @friendly
    def issue(case_id: str, offer: str, request: gr.Request) -> tuple[str, str]:
        if not case_id:
            raise UnderwriterError("open a case before issuing a notice")
        ref = bench.desk.memo_id(case_id, session_of(request)) or case_id
        with bench.audit() as audit:
            issued = issue_notice(
                bench.settings,
                audit,
                bench.source,
                ref,
                kind="counter-offer" if offer.strip() else "decline",
                offer=offer or "",
            )
        folder = bench.workspace.ui_dir / "notices"
        folder.mkdir(parents=True, exist_ok=True)
        path = Path(folder / f"{issued.notice.notice_id}.html")
        path.write_text(issued.notice.html, encoding="utf-8")
        recorded = (
            f"\n\n_Recorded in the audit trail as {issued.notice.notice_id} (memo {issued.notice.memo_id})._"
        )
        return issued.notice.markdown + recorded, str(path)

    parts["notice_button"].click(
        issue,
        [current, parts["notice_offer"]],
        [parts["notice_text"], parts["notice_file"]],
        api_name="notice",
        concurrency_id="llm",
    )
