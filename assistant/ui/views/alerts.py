"""The alert queue: the book monitor's alerts ranked, a merchant's trend, and a one-click memo refresh."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr
import pandas as pd

from assistant.ui import plots
from assistant.ui.alert_queue import alert_months, alert_queue, refresh_memo, trend
from assistant.ui.views.common import close_figure, friendly
from assistant.ui.workbench import Workbench

EMPTY = "No alerts yet: monitor a month of the book with `underwrite monitor --data MONTH.csv`."


@dataclass
class AlertsTab:
    month: Any
    summary: Any
    queue: Any
    merchant: Any
    trend_plot: Any
    refresh: Any
    memo: Any


def layout() -> AlertsTab:
    with gr.Row():
        month = gr.Dropdown(label="Month", choices=[], elem_id="alert-month")
        summary = gr.Markdown(EMPTY, elem_id="alert-summary")
    queue = gr.Dataframe(
        label="Alerts, highest risk first", interactive=False, elem_id="alert-queue", wrap=True
    )
    with gr.Row():
        merchant = gr.Textbox(label="Merchant (click a row)", elem_id="alert-merchant")
        refresh = gr.Button("Refresh the memo from the latest month", elem_id="alert-refresh")
    trend_plot = gr.Plot(label="Trend across monitored months")
    memo = gr.Markdown(elem_id="alert-memo")
    return AlertsTab(month, summary, queue, merchant, trend_plot, refresh, memo)


def wire(bench: Workbench, tab: AlertsTab, page: Any) -> None:
    @friendly
    def show(month: str | None) -> tuple[Any, ...]:
        months = alert_months(bench)
        frame = alert_queue(bench, month or None)
        if frame.empty:
            return gr.Dropdown(choices=months), EMPTY, frame
        chosen = frame["month"].iloc[0]
        text = f"**{len(frame):,} merchants alerted in {chosen}**; ranked by PD after the month and checks tripped."
        return gr.Dropdown(choices=months, value=chosen), text, frame

    @friendly
    def pick(frame: pd.DataFrame, event: gr.SelectData) -> tuple[Any, ...]:
        merchant = str(frame.iloc[event.index[0]]["merchant"])
        return merchant, _trend_figure(merchant)

    @friendly
    def refresh(merchant: str) -> str:
        memo_id, markdown = refresh_memo(bench, merchant.strip())
        return f"*Memo {memo_id} recorded in the audit trail.*\n\n{markdown}"

    def _trend_figure(merchant: str) -> Any:
        return close_figure(plots.alert_trend(merchant, trend(bench, merchant)))

    page.select(
        show, tab.month, [tab.month, tab.summary, tab.queue], api_name="alerts", concurrency_id="pages"
    )
    tab.month.change(show, tab.month, [tab.month, tab.summary, tab.queue], api_visibility="private")
    tab.queue.select(pick, tab.queue, [tab.merchant, tab.trend_plot], api_visibility="private")
    tab.merchant.submit(_trend_figure, tab.merchant, tab.trend_plot, api_name="alert_trend")
    tab.refresh.click(refresh, tab.merchant, tab.memo, api_name="alert_memo_refresh", concurrency_id="llm")
