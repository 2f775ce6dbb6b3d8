"""The demo workspace: a seeded synthetic portfolio, a model trained on it, every merchant scored.

:func:`ensure_portfolio_and_model` builds what is missing (first run only); :func:`run_demo`
is the main job's data (the portfolio, the model's metrics, the scores) for the summary.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from assistant.jobs.modeling import score_file, train_model
from assistant.settings import Settings
from assistant.workspace import PORTFOLIO_SPEC, Workspace
from models.demo_data.generate import PortfolioFiles, generate_portfolio
from models.store.artifacts import RiskModel


def build_demo_portfolio(
    settings: Settings,
    *,
    merchants: int | None = None,
    seed: int | None = None,
    out: Path | None = None,
    force: bool = False,
    progress: bool = True,
) -> PortfolioFiles:
    return generate_portfolio(
        out or Workspace(settings).portfolio_dir,
        merchants=merchants or settings.demo.merchants,
        seed=settings.demo.seed if seed is None else seed,
        force=force,
        progress=progress,
    )


def ensure_portfolio_and_model(
    settings: Settings, *, retrain: bool = False, progress: bool = True
) -> tuple[PortfolioFiles, dict[str, float]]:
    """The demo portfolio and its model, each built when missing (the model also with ``retrain``);
    returns the portfolio and how long each build took."""
    workspace = Workspace(settings)
    timings: dict[str, float] = {}
    if not workspace.has_portfolio():
        t = time.perf_counter()
        build_demo_portfolio(settings, progress=progress)
        timings["generate portfolio"] = time.perf_counter() - t
    if retrain or not workspace.has_model():
        t = time.perf_counter()
        train_model(
            settings,
            spec=PORTFOLIO_SPEC,
            data=workspace.portfolio.merchants,
            out=workspace.model_dir,
            progress=progress,
        )
        timings["train model"] = time.perf_counter() - t
    return workspace.portfolio, timings


@dataclass
class DemoReport:
    portfolio: PortfolioFiles
    portfolio_meta: dict
    model: RiskModel
    training_metrics: dict
    scored: pd.DataFrame
    merchants: pd.DataFrame
    trained_now: bool
    timings: dict[str, float]


def run_demo(settings: Settings, *, retrain: bool = False, progress: bool = True) -> DemoReport:
    """The main job: portfolio (built on first use), model (trained on first use), scores, summary data."""
    workspace = Workspace(settings)
    trained_now = retrain or not workspace.has_model()
    files, timings = ensure_portfolio_and_model(settings, retrain=retrain, progress=progress)
    t = time.perf_counter()
    outcome = score_file(
        settings, model=workspace.model_dir, data=files.merchants, out=workspace.scores_path, force=True
    )
    timings["score portfolio"] = time.perf_counter() - t
    return DemoReport(
        portfolio=files,
        portfolio_meta=json.loads(files.manifest.read_text()),
        model=outcome.model,
        training_metrics=json.loads((outcome.model.path / "metrics.json").read_text()),
        scored=outcome.batch.frame,
        merchants=pd.read_csv(files.merchants, dtype={"mcc": str}),
        trained_now=trained_now,
        timings=timings,
    )


def grade_distribution(scored: pd.DataFrame, grades: list[str]) -> pd.Series:
    return scored["grade"].value_counts().reindex(grades, fill_value=0)


def highest_risk(report: DemoReport, status: str = "applicant", count: int = 5) -> pd.DataFrame:
    frame = report.scored.merge(report.merchants, left_on="id", right_on="merchant_id")
    frame = frame[frame["status"] == status] if (frame["status"] == status).any() else frame
    return frame.sort_values("pd", ascending=False, kind="stable").head(count)
