"""The default training recipe: choose by time-ordered folds, measure out of time, refit to ship.

1. The training period is every row before the test period (the split of
   :func:`models.training.fit.make_split`). Category codes are fitted on it.
2. Rolling-origin folds over the training period (stratified folds without a date) score the
   candidates and choose one, with its settings and tree count (:mod:`models.training.choice`).
   A Platt calibrator is fitted on the chosen candidate's out-of-fold margins (with dates, the
   latest fold's: the PD level should follow the most recent default rate).
3. The *recipe* (the chosen candidate and settings) is fitted on the whole training period and
   measured on the test period: these are the test figures ``train`` reports.
4. The *shipped* model is the same recipe refit on every labelled row up to ``refit_until``
   (default: every labelled row, so the most recent vintage is used), with the same tree count
   and calibrator: nothing about it is chosen on the test rows. ``refit=False`` ships the model
   measured in step 3 instead.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

import numpy as np

from models.data.dataset import Dataset
from models.data.policy import Policy
from models.errors import UnderwriterError
from models.learning.features import FeatureEncoder
from models.learning.folds import stratified_folds, time_folds, usable
from models.learning.predictors import Predictor
from models.training.choice import CANDIDATES, Choice, Matrix, choose_model, fit_recipe
from models.training.config import TrainConfig
from models.training.fit import (
    Split,
    TrainingResult,
    finish_training,
    make_split,
    training_labels,
)
from models.training.text_evidence import TextEvidence

MIN_FOLDS = 2


def training_folds(dataset: Dataset, split: Split, seed: int) -> list:
    """The validation folds of the training period (never the test rows)."""
    assert dataset.labels is not None
    y = dataset.labels.astype(int)
    period = np.sort(np.concatenate([split.train, split.valid]))
    if dataset.dates is not None:
        folds = time_folds(dataset.dates.to_numpy(dtype="datetime64[D]"), period)
    else:
        folds = stratified_folds(y, period, seed=seed)
    folds = usable(folds, y)
    if len(folds) < MIN_FOLDS:
        raise UnderwriterError(
            f"the training period ({len(period)} rows, {int(y[period].sum())} defaults) is too small for "
            f"{MIN_FOLDS} validation folds with defaults in each; use more data or --model previous"
        )
    return folds


def refit_rows(dataset: Dataset, refit_until: date | None) -> np.ndarray:
    """Every labelled row, or those dated on or before ``refit_until``."""
    if refit_until is None:
        return np.arange(len(dataset))
    if dataset.dates is None:
        raise UnderwriterError(f"--refit-until needs a date column, and spec {dataset.spec.name!r} has none")
    days = dataset.dates.to_numpy(dtype="datetime64[D]")
    return np.flatnonzero(days <= np.datetime64(refit_until))


def train_chosen(
    dataset: Dataset,
    policy: Policy,
    config: TrainConfig,
    *,
    test_from: date | None = None,
    candidates: tuple[str, ...] | None = None,
    refit: bool = True,
    refit_until: date | None = None,
    text: str = "auto",
    progress: bool = False,
) -> TrainingResult:
    y = training_labels(dataset, policy)
    split = make_split(dataset, config, test_from)
    period = np.sort(np.concatenate([split.train, split.valid]))
    folds = training_folds(dataset, split, config.seed)
    encoder = FeatureEncoder.fit(dataset.spec, dataset.frame.iloc[period])
    data = Matrix(encoder.transform(dataset.frame)[0], y, dataset.spec, encoder, config.seed, config.nthread)
    choice = choose_model(data, folds, candidates or CANDIDATES, latest_calibration=dataset.dates is not None)
    evidence = TextEvidence.gather(dataset, y, folds, choice, text, progress)
    measured = evidence.stack(fit_recipe(data, period, choice.recipe), period)
    x_measured = evidence.with_column(data.x, measured)
    shipped, shipped_encoder, shipped_rows, x_shipped = (
        _refit(dataset, config, choice, evidence, refit_until)
        if refit
        else (measured, evidence.encoder(encoder, measured), period, x_measured)
    )
    result = finish_training(
        shipped,
        shipped_encoder,
        policy,
        split,
        margins={
            "train": measured.margin(x_measured[period], config.nthread),
            "valid": choice.oof_margin,
            "test": measured.margin(x_measured[split.test], config.nthread),
        },
        labels={"train": y[period], "valid": choice.oof_y, "test": y[split.test]},
        test_frame=dataset.frame.iloc[split.test].reset_index(drop=True),
        params={**choice.recipe.xgb_params, "config": asdict(config)},
        skipped=dataset.skipped_unlabelled,
        calibrator=choice.calibrator,
        reference_margin=shipped.margin(x_shipped[shipped_rows], config.nthread),
    )
    result.metrics["split"] = _split_description(dataset, split, folds)
    result.metrics["rows"].update(train=len(period), valid=len(choice.oof_y))
    result.metrics["model_choice"] = choice_report(choice, folds)
    if evidence.report is not None:
        result.metrics["text_feature"] = evidence.report
    result.metrics["shipped"] = shipped_report(dataset, shipped_rows, refit, result)
    return result


def _refit(
    dataset: Dataset, config: TrainConfig, choice: Choice, evidence: TextEvidence, refit_until: date | None
) -> tuple[Predictor, FeatureEncoder, np.ndarray, np.ndarray]:
    """The chosen recipe fitted again on every labelled row (through ``refit_until``): the shipped model,
    its encoder (categories from those rows), the rows, and the matrix it reads."""
    assert dataset.labels is not None
    y = dataset.labels.astype(int)
    rows = refit_rows(dataset, refit_until)
    _check_refit_rows(y[rows], refit_until)
    encoder = FeatureEncoder.fit(dataset.spec, dataset.frame.iloc[rows])
    data = Matrix(encoder.transform(dataset.frame)[0], y, dataset.spec, encoder, config.seed, config.nthread)
    shipped = evidence.stack(fit_recipe(data, rows, choice.recipe), rows)
    return shipped, evidence.encoder(encoder, shipped), rows, evidence.with_column(data.x, shipped)


def _split_description(dataset: Dataset, split: Split, folds: list) -> str:
    """The split as this recipe uses it: a training period with folds inside it, then the test rows."""
    n = len(split.train) + len(split.valid)
    kind = "rolling-origin" if dataset.dates is not None else "stratified"
    head = split.description.split(":")[0] if dataset.dates is not None else "stratified random"
    test = (
        split.description.rsplit(", ", 1)[-1] if dataset.dates is not None else f"{len(split.test)} test rows"
    )
    return f"{head}: training period of {n} rows with {len(folds)} {kind} validation folds inside it, {test}"


def _check_refit_rows(y: np.ndarray, refit_until: date | None) -> None:
    if len(np.unique(y)) < 2:
        raise UnderwriterError(
            f"the refit rows (through {refit_until}) hold {len(y)} rows and not both defaults and "
            "non-defaults; choose a later --refit-until"
        )


def choice_report(choice: Choice, folds: list) -> dict:
    return {
        "chosen": choice.recipe.kind,
        "folds": [f.label for f in folds],
        "fold_rows": [len(f.valid) for f in folds],
        "candidates": choice.figures,
        "calibration": {
            "method": "platt on out-of-fold margins (the last fold's where folds are by date)",
            "a": choice.calibrator.a,
            "b": choice.calibrator.b,
        },
    }


def shipped_report(dataset: Dataset, rows: np.ndarray, refit: bool, result: TrainingResult) -> dict:
    through = None
    if dataset.dates is not None and len(rows):
        through = str(dataset.dates.iloc[rows].max().date())
    return {
        "refit": refit,
        "kind": result.predictor.kind,
        "rows": len(rows),
        "through": through,
        "includes_test_period": bool(refit and np.isin(result.split.test, rows).any()),
        "note": (
            "the shipped model is the chosen recipe refit on these rows; the test figures are the "
            "recipe's, measured before the refit"
            if refit
            else "the shipped model is the one measured on the test rows (--no-refit)"
        ),
    }
