"""Distributed training with ``xgboost.spark`` for data that does not fit one machine.

The steps follow the single-machine trainer (``models/training/fit.py``) with Spark doing the
heavy parts:

1. Every partition is parsed by the file rule (``parse_features``). Rows with bad cells or
   unknown labels are counted and left out.
2. The split is out of time, with the cut dates computed by Spark.
3. The category codes are fitted on the training rows' counts.
4. ``SparkXGBClassifier`` trains on ``num_workers`` tasks with the same parameters, with
   early stopping on the validation rows.
5. The margins are computed on the executors.

The Platt calibration, the metrics, the plots and the artifact (files, manifest, hashes)
are then the single-machine code's own (:func:`models.training.fit.finish_training`,
:func:`training_files`), so a model trained here loads, scores and explains exactly like
one trained by ``underwrite train``.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from assistant.jobs.runs import input_sha256, record_run
from assistant.settings import Settings
from assistant.spark.session import spark_session
from assistant.spark.train_steps import Fitted, Prepared, fit_booster, population_quantiles, prepare
from assistant.workspace import Workspace
from models.data.dataset import Dataset
from models.data.policy import Policy, load_policy
from models.data.population import Population
from models.data.spec import DatasetSpec, load_spec
from models.errors import UnderwriterError
from models.learning.predictors import BoosterPredictor
from models.store.artifacts import write_model_version
from models.store.versioned import MANIFEST
from models.training.config import TrainConfig
from models.training.files import training_files, training_manifest
from models.training.fit import (
    Split,
    TrainingResult,
    finish_training,
)

SPARK_MODELS = ("auto", "xgboost", "previous")


def train_with_spark(
    settings: Settings,
    *,
    spec: str | Path,
    data: str | Path,
    out: str | Path,
    policy: str | Path | None = None,
    test_from: date | None = None,
    master: str | None = None,
    num_workers: int | None = None,
    spark: Any | None = None,
    model: str = "auto",
    refit: bool = True,
    refit_until: date | None = None,
) -> tuple[Path, dict[str, Any]]:
    """Train on Spark; write a model version in the trainer's format. Returns (version folder, report).

    Spark trains the ``xgboost`` candidate (``model`` ``auto`` or ``xgboost``) and refits it on every
    labelled row, or the ``previous`` recipe (no refit). The scorecard, the blend and the choice among
    them by rolling-origin folds run with ``--engine local``: it is refused here, not ignored."""
    started = time.perf_counter()
    data = Path(data)
    _check_model(model)
    refit = refit and model != "previous"
    dataset_spec, chosen_policy = _spec_and_policy(spec, policy)
    config = settings.training.to_config(1)
    session = spark or spark_session(master or settings.spark.master, conf=dict(settings.spark.conf))
    workers = num_workers or session.sparkContext.defaultParallelism
    try:
        prepared = prepare(session, data, dataset_spec, config, test_from)
        fitted = fit_booster(prepared, dataset_spec, config, workers, refit, refit_until)
        population = population_quantiles(prepared, dataset_spec)
    finally:
        if spark is None:  # a session of our own
            session.stop()
    result = _finish(fitted, prepared, dataset_spec, chosen_policy, config, workers)
    result.metrics["shipped"] = _shipped_report(fitted, result, refit, refit_until)
    version_dir = _write_version(out, data, dataset_spec, result, prepared, population)
    record_run(
        Workspace(settings),
        run_id=f"spark-train-{version_dir.name}-{int(time.time())}",
        kind="train",
        engine=f"spark {master or settings.spark.master}",
        model_id=json.loads((version_dir / MANIFEST).read_text()).get("model_id", ""),
        input_sha256=input_sha256(data),
        rows_in=prepared.total,
        rows_out=prepared.labelled,
        rows_rejected=prepared.rejected,
        output=str(version_dir),
        params={"spec": dataset_spec.name, "workers": workers},
    )
    return version_dir, {
        "rows": prepared.total,
        "rejected": prepared.rejected,
        "skipped_unlabelled": prepared.skipped,
        **{k: result.metrics[k] for k in ("trees", "test")},
        "seconds": time.perf_counter() - started,
        "workers": workers,
    }


def _write_version(
    out: str | Path,
    data: Path,
    spec: DatasetSpec,
    result: TrainingResult,
    prepared: Prepared,
    population: Population,
) -> Path:
    """The model version in the single-machine trainer's files and manifest."""
    dataset = Dataset(  # stands for the distributed input: spec, source, hash and labelled row count
        spec=spec,
        source=str(data),
        sha256=input_sha256(data),
        frame=pd.DataFrame(index=range(prepared.labelled)),
        ids=pd.Series(dtype=str),
        labels=None,
        dates=None,
    )
    return write_model_version(
        out, training_files(result, dataset, population), training_manifest(result, dataset)
    )


def _spec_and_policy(spec: str | Path, policy: str | Path | None) -> tuple[DatasetSpec, Policy]:
    dataset_spec = load_spec(spec)
    if dataset_spec.date is None:
        raise UnderwriterError(
            f"spec {dataset_spec.name!r} has no date column; Spark training splits out of time"
        )
    chosen_policy = load_policy(policy or dataset_spec.policy)
    chosen_policy.check_columns(dataset_spec)
    return dataset_spec, chosen_policy


def _check_model(model: str) -> None:
    if model not in SPARK_MODELS:
        raise UnderwriterError(
            f"--engine spark trains {', '.join(SPARK_MODELS)} models; the scorecard, the blend and the "
            "choice among candidates by rolling-origin folds run with --engine local"
        )


def _shipped_report(fitted: Fitted, result: TrainingResult, refit: bool, refit_until: date | None) -> dict:
    return {
        "refit": refit,
        "kind": "xgboost",
        "rows": len(fitted.refit_margins) if fitted.refit_margins is not None else len(result.split.train),
        "through": str(refit_until) if refit_until else None,
        "includes_test_period": refit,
        "note": "Spark: the xgboost candidate with early stopping on the validation period"
        + (", refit on every labelled row with that tree count" if refit else " (no refit)"),
    }


def _finish(
    fitted: Fitted, prepared: Prepared, spec: DatasetSpec, policy: Policy, config: TrainConfig, workers: int
) -> TrainingResult:
    """Calibration, metrics and plots by the single-machine trainer's own code, on the Spark margins."""
    assert spec.date is not None
    margins = fitted.margins
    parts = {
        name: margins[margins["role"] == code] for name, code in (("train", 0), ("valid", 1), ("test", 2))
    }
    cut, valid_cut = prepared.cut, prepared.valid_cut
    split = Split(
        np.arange(len(parts["train"])),
        np.arange(len(parts["valid"])),
        np.arange(len(parts["test"])),
        f"out of time on {spec.date.column}: train before {_day(valid_cut)}, validation {_day(valid_cut)} "
        f"to {_day(cut)}, test from {_day(cut)} (Spark, {workers} workers)",
    )
    return finish_training(
        BoosterPredictor(fitted.shipped, fitted.encoder),
        fitted.encoder,
        policy,
        split,
        margins={k: v["margin"].to_numpy() for k, v in parts.items()},
        labels={k: v["label"].to_numpy() for k, v in parts.items()},
        test_frame=fitted.test_rows.drop(columns="row").reset_index(drop=True),
        params={**fitted.params, "engine": f"xgboost.spark, {workers} workers", "config": asdict(config)},
        skipped=prepared.skipped,
        reference_margin=fitted.refit_margins,
    )


def _day(epoch_days: int) -> str:
    return str(np.datetime64(int(epoch_days), "D"))
