"""The portfolio view: grade and band mix, calibration on known outcomes, drift, and the actions they call for."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr
import pandas as pd

from assistant.ui import plots
from assistant.ui.portfolio_health import health
from assistant.ui.views.common import close_figure, friendly
from assistant.ui.workbench import Workbench


@dataclass
class PortfolioTab:
    portfolio_actions: Any
    mix_plot: Any
    calibration_plot: Any
    calibration_table: Any
    drift_table: Any


def layout() -> PortfolioTab:
    portfolio_actions = gr.Markdown(elem_id="portfolio-actions")
    mix_plot = gr.Plot(label="Grade and band mix (applicants)")
    with gr.Row():
        calibration_plot = gr.Plot(label="Calibration")
        calibration_table = gr.Dataframe(label="Calibration by grade", interactive=False)
    drift_table = gr.Dataframe(label="Drift against training (PSI)", interactive=False)
    return PortfolioTab(
        portfolio_actions=portfolio_actions,
        mix_plot=mix_plot,
        calibration_plot=calibration_plot,
        calibration_table=calibration_table,
        drift_table=drift_table,
    )


def wire(bench: Workbench, tab: PortfolioTab, portfolio_tab: Any) -> None:

    @friendly
    def show_portfolio() -> tuple[Any, ...]:
        h = health(bench)
        actions = h.actions()
        lines = [
            f"**Score drift** PSI {h.score_psi:.3f} against training: **{h.score_status}** "
            "(watch above 0.10, act above 0.25).",
            f"**Outcomes so far**: {h.outcomes:,} merchants with a known 12-month outcome; ECE {h.ece:.4f}."
            if h.ece is not None
            else "No known outcomes yet.",
            "",
        ]
        lines += (
            ["**Action needed:**", *[f"- {a}" for a in actions]] if actions else ["No threshold is crossed."]
        )
        known = [g for g in h.calibration if g.mean_pd is not None]
        cal_fig = (
            close_figure(
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
        return ("\n".join(lines), close_figure(plots.mix_bars(h.grade_mix, h.band_mix)), cal_fig, cal, drift)

    portfolio_outputs = [
        tab.portfolio_actions,
        tab.mix_plot,
        tab.calibration_plot,
        tab.calibration_table,
        tab.drift_table,
    ]
    portfolio_tab.select(
        show_portfolio, None, portfolio_outputs, api_name="portfolio", concurrency_id="pages"
    )
