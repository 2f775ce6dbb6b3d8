"""The jobs behind the CLI commands: each takes settings and paths, returns results.

Kept apart from argument parsing so the app, batch runners and tests call
the same functions the command line does.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from assistant.settings import Settings
from models import metrics
from models.artifacts import RiskModel, load_model, write_model_version
from models.dataset import Dataset, load_dataset
from models.demo_data.generate import PortfolioFiles, generate_portfolio
from models.errors import UnderwriterError
from models.policy import BANDS, load_policy
from models.scoring import ScoredBatch, score_dataset
from models.spec import load_spec
from models.training import TrainingResult, train, training_files, training_manifest

PORTFOLIO_SPEC = "merchant_portfolio"


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
        out or settings.portfolio_dir,
        merchants=merchants or settings.demo.merchants,
        seed=settings.demo.seed if seed is None else seed,
        force=force,
        progress=progress,
    )


@dataclass
class TrainOutcome:
    version_dir: Path
    result: TrainingResult
    dataset: Dataset
    seconds: float


def train_model(
    settings: Settings,
    *,
    spec: str | Path,
    data: str | Path,
    out: str | Path,
    policy: str | Path | None = None,
    test_from: date | None = None,
    progress: bool = True,
) -> TrainOutcome:
    started = time.perf_counter()
    dataset_spec = load_spec(spec)
    dataset = load_dataset(data, dataset_spec, require_label=True)
    chosen_policy = load_policy(policy or dataset_spec.policy)
    result = train(
        dataset,
        chosen_policy,
        settings.training.to_config(settings.threads),
        test_from=test_from,
        progress=progress,
    )
    version_dir = write_model_version(
        out, training_files(result, dataset), training_manifest(result, dataset)
    )
    return TrainOutcome(version_dir, result, dataset, time.perf_counter() - started)


def write_table_atomically(frame: pd.DataFrame, out: Path, force: bool) -> None:
    """Write CSV, or Parquet for a ``.parquet`` name; the file appears whole or not at all."""
    if out.exists() and not force:
        raise UnderwriterError(f"{out} already exists; pass --force to replace it (nothing was changed)")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    try:
        if out.suffix.lower() in {".parquet", ".pq"}:
            frame.to_parquet(staging, index=False)
        else:
            frame.to_csv(staging, index=False)
        os.replace(staging, out)
    finally:
        staging.unlink(missing_ok=True)


@dataclass
class ScoreOutcome:
    model: RiskModel
    dataset: Dataset
    batch: ScoredBatch
    seconds: float


def score_file(
    settings: Settings,
    *,
    model: str | Path,
    data: str | Path,
    out: str | Path | None,
    force: bool = False,
    reasons: str = "all",
    progress: bool = False,
) -> ScoreOutcome:
    started = time.perf_counter()
    risk_model = load_model(model, nthread=settings.threads)
    dataset = load_dataset(data, risk_model.spec, require_label=False)
    batch = score_dataset(risk_model, dataset, nthread=settings.threads, reasons=reasons, progress=progress)
    if out is not None:
        write_table_atomically(batch.frame, Path(out), force)
    return ScoreOutcome(risk_model, dataset, batch, time.perf_counter() - started)


def evaluate_model(settings: Settings, *, model: str | Path, data: str | Path) -> dict:
    """Metrics of a saved model on a labelled file (e.g. a later period), plus drift against training."""
    risk_model = load_model(model, nthread=settings.threads)
    dataset = load_dataset(data, risk_model.spec, require_label=True)
    batch = score_dataset(risk_model, dataset, nthread=settings.threads, reasons="none")
    y, p = dataset.labels.astype(int), batch.frame["pd"].to_numpy()  # type: ignore[union-attr]
    grades = batch.frame["grade"].to_numpy()
    bands = batch.frame["band"].to_numpy()
    training_metrics = json.loads((risk_model.path / "metrics.json").read_text())
    return {
        "model": risk_model.label,
        "model_id": risk_model.model_id,
        "data": str(data),
        "data_sha256": dataset.sha256,
        **metrics.summary(y, p),
        "psi_vs_training": round(metrics.psi_against(training_metrics["train_pd_reference"], p), 5),
        "calibration_by_grade": metrics.calibration_by_grade(y, p, grades, list(risk_model.policy.grades)),
        "band_mix": {b: int((bands == b).sum()) for b in BANDS},
        "unseen_categories": batch.unseen_categories,
    }


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
    timings: dict[str, float] = {}
    files = PortfolioFiles(settings.portfolio_dir)
    if not files.exists():
        t = time.perf_counter()
        build_demo_portfolio(settings, progress=progress)
        timings["generate portfolio"] = time.perf_counter() - t
    trained_now = retrain or not (settings.model_dir / "CURRENT").is_file()
    if trained_now:
        t = time.perf_counter()
        train_model(
            settings,
            spec=PORTFOLIO_SPEC,
            data=files.merchants,
            out=settings.model_dir,
            progress=progress,
        )
        timings["train model"] = time.perf_counter() - t
    t = time.perf_counter()
    outcome = score_file(
        settings,
        model=settings.model_dir,
        data=files.merchants,
        out=settings.scores_path,
        force=True,
    )
    timings["score portfolio"] = time.perf_counter() - t
    merchants = pd.read_csv(files.merchants, dtype={"mcc": str})
    return DemoReport(
        portfolio=files,
        portfolio_meta=json.loads(files.manifest.read_text()),
        model=outcome.model,
        training_metrics=json.loads((outcome.model.path / "metrics.json").read_text()),
        scored=outcome.batch.frame,
        merchants=merchants,
        trained_now=trained_now,
        timings=timings,
    )


def grade_distribution(scored: pd.DataFrame, grades: list[str]) -> pd.Series:
    return scored["grade"].value_counts().reindex(grades, fill_value=0)


def highest_risk(report: DemoReport, status: str = "applicant", count: int = 5) -> pd.DataFrame:
    frame = report.scored.merge(report.merchants, left_on="id", right_on="merchant_id")
    frame = frame[frame["status"] == status] if (frame["status"] == status).any() else frame
    return frame.sort_values("pd", ascending=False, kind="stable").head(count)
