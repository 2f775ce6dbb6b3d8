"""Modelling jobs: train a model version, score a file, evaluate a model on labelled data.

Each takes settings and paths and returns results; the CLI, the workbench, the Spark jobs and
the tests call the same functions.
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
from models.data.dataset import Dataset, load_dataset
from models.data.policy import BANDS, load_policy
from models.data.spec import load_spec
from models.errors import UnderwriterError
from models.learning import metrics
from models.scoring.score import ScoredBatch, score_dataset
from models.store.artifacts import RiskModel, load_model, write_model_version
from models.training.files import training_files, training_manifest
from models.training.fit import TrainingResult
from models.training.train import train


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
    model: str = "auto",
    refit: bool = True,
    refit_until: date | None = None,
    text: str = "auto",
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
        model=model,
        refit=refit,
        refit_until=refit_until,
        text=text,
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
