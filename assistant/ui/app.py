"""The Gradio workbench: the page (header, tabs, style) over the five views in ``views/``.

Each view lays out its components and wires its events over the services in this package;
every handler turns a failure into a readable message, so one failing panel never takes the
page down. Importing this module forces ``GRADIO_ANALYTICS_ENABLED=False`` before Gradio
loads: the app makes no outbound connection, and the theme uses system fonts only.
"""

from __future__ import annotations

import os

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # forced: an inherited "True" must not turn it on
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from pathlib import Path
from typing import Any

import gradio as gr

from assistant.ui.views import alerts, batch, case_review, chat, evaluation, portfolio
from assistant.ui.workbench import Workbench

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


def build_app(bench: Workbench) -> gr.Blocks:
    settings = bench.settings
    with gr.Blocks(title="Underwriter workbench", fill_width=True) as app:
        current = gr.State("")  # the case in view (its id), shared by case review and chat
        sessions = gr.State({})
        with gr.Row():
            gr.HTML("<h2 style='margin:.2rem 0'>Underwriter · merchant credit workbench</h2>")
            with gr.Column():
                llm_status = gr.Markdown(bench.models.llm_status(), elem_id="llm-status")
                index_status = gr.Markdown(bench.indexing.status(), elem_id="index-status")
                resume = gr.Button("Resume the index build", size="sm", visible=False, elem_id="resume-build")
        status_timer = gr.Timer(2.0)
        with gr.Tabs(elem_id="views"):
            with gr.Tab("Case review", id="case", elem_id="tab-case"):
                case_tab = case_review.layout(bench)
            with gr.Tab("Chat", id="chat", elem_id="tab-chat"):
                chat_tab = chat.layout()
            with gr.Tab("Batch", id="batch", elem_id="tab-batch"):
                batch_tab = batch.layout(settings)
            with gr.Tab("Evaluation", id="eval", elem_id="tab-eval"):
                eval_tab = evaluation.layout(settings)
            with gr.Tab("Portfolio", id="portfolio", elem_id="tab-portfolio") as portfolio_page:
                portfolio_tab = portfolio.layout()
            with gr.Tab("Alerts", id="alerts", elem_id="tab-alerts") as alerts_page:
                alerts_tab = alerts.layout()

        def refresh_status() -> Any:
            text = bench.models.llm_status()
            state = bench.indexing.state()
            waiting = text.startswith("LLM loading") or (state is not None and state.active)
            resumable = state is not None and state.resumable
            return text, bench.indexing.status(state), gr.Button(visible=resumable), gr.Timer(active=waiting)

        status_timer.tick(
            refresh_status,
            outputs=[llm_status, index_status, resume, status_timer],
            show_progress="hidden",
            concurrency_id="status",
            concurrency_limit=None,
            api_visibility="private",
        )

        def resume_build() -> Any:
            return bench.indexing.start(), gr.Button(visible=False), gr.Timer(active=True)

        resume.click(
            resume_build, outputs=[index_status, resume, status_timer], api_name="resume_index_build"
        )
        app.load(
            refresh_status, outputs=[llm_status, index_status, resume, status_timer], api_visibility="private"
        )

        case_review.wire(app, bench, case_tab, current, chat_tab.chat_case, chat_tab.chatbot)
        chat.wire(bench, chat_tab, current, sessions)
        batch.wire(settings, batch_tab)
        evaluation.wire(app, settings, eval_tab)
        portfolio.wire(bench, portfolio_tab, portfolio_page)
        alerts.wire(bench, alerts_tab, alerts_page)
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
    from assistant.ui.exposure import check_exposure

    check_exposure(bench.settings)
    ui = bench.settings.ui
    app = build_app(bench)
    app.queue(max_size=ui.queue_size, default_concurrency_limit=ui.concurrency)
    app.launch(prevent_thread_lock=True, quiet=quiet, show_error=True, **launch_options(bench.settings))
    url = app.local_url or f"http://{ui.host}:{ui.port}/"
    if block:
        app.block_thread()
    return app, url
