"""The evaluation view: the harness's runs side by side with intervals, and one case's outputs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from assistant.settings import Settings
from assistant.ui import plots
from assistant.ui.eval_runs import case_ids, drill_down, run_folders, side_by_side
from assistant.ui.views.common import HIDDEN, close_figure, friendly
from models.errors import UnderwriterError


@dataclass
class EvaluationTab:
    run_choice: Any
    refresh_runs: Any
    eval_table: Any
    eval_plot: Any
    eval_case: Any
    eval_scores: Any
    eval_outputs: Any


def layout(settings: Settings) -> EvaluationTab:
    with gr.Row():
        run_choice = gr.Dropdown(
            label="Evaluation run",
            choices=list(run_folders(settings)),
            allow_custom_value=True,
            elem_id="eval-run",
        )
        refresh_runs = gr.Button("Refresh", size="sm")
    eval_table = gr.Dataframe(label="Variants x metrics: mean [95% bootstrap interval]", interactive=False)
    eval_plot = gr.Plot(label="Means with intervals")
    eval_case = gr.Dropdown(
        label="Drill down to a case", choices=[], allow_custom_value=True, elem_id="eval-case"
    )
    eval_scores = gr.Dataframe(label="Scores on this case", interactive=False)
    eval_outputs = gr.Markdown()
    return EvaluationTab(
        run_choice=run_choice,
        refresh_runs=refresh_runs,
        eval_table=eval_table,
        eval_plot=eval_plot,
        eval_case=eval_case,
        eval_scores=eval_scores,
        eval_outputs=eval_outputs,
    )


def wire(app: gr.Blocks, settings: Settings, tab: EvaluationTab) -> None:

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
        figure = close_figure(plots.metric_intervals(points)) if points else None
        return table, figure, gr.Dropdown(choices=ids, value=ids[0] if ids else None)

    @friendly
    def show_eval_case(label: str | None, case_id: str | None) -> tuple[pd.DataFrame, str]:
        if not label or not case_id:
            return pd.DataFrame(), ""
        return drill_down(_run_folder(label), case_id)

    # A value set by a handler fires no change event, so each step chains the next explicitly.
    run_outputs = [tab.eval_table, tab.eval_plot, tab.eval_case]
    case_outputs_eval = [tab.eval_scores, tab.eval_outputs]
    for trigger in (app.load, tab.refresh_runs.click):
        trigger(list_runs, None, tab.run_choice, **HIDDEN).then(
            show_run, tab.run_choice, run_outputs, **HIDDEN
        ).then(show_eval_case, [tab.run_choice, tab.eval_case], case_outputs_eval, **HIDDEN)
    tab.run_choice.input(show_run, tab.run_choice, run_outputs, api_name="eval_run").then(
        show_eval_case, [tab.run_choice, tab.eval_case], case_outputs_eval, **HIDDEN
    )
    tab.eval_case.input(
        show_eval_case, [tab.run_choice, tab.eval_case], case_outputs_eval, api_name="eval_case"
    )
