"""Train with the chosen recipe: the one entry point (``models.training.recipe`` by default,
``models.training.fit.train_previous`` for ``--model previous``), with the benchmark column's AUC
added where the dataset has one."""

from __future__ import annotations

from datetime import date

import numpy as np

from models.data.dataset import Dataset
from models.data.policy import Policy
from models.errors import UnderwriterError
from models.learning import metrics
from models.training.config import MODEL_CHOICES, TrainConfig
from models.training.fit import TrainingResult, train_previous
from models.training.recipe import train_chosen


def train(
    dataset: Dataset,
    policy: Policy,
    config: TrainConfig | None = None,
    *,
    test_from: date | None = None,
    progress: bool = False,
    model: str = "auto",
    refit: bool = True,
    refit_until: date | None = None,
    text: str = "auto",
) -> TrainingResult:
    """Train with the chosen recipe. ``model``: ``auto`` chooses among the candidates by the folds; a
    candidate's name forces it (still tuned in the folds); ``previous`` is the earlier recipe."""
    if model not in MODEL_CHOICES:
        raise UnderwriterError(f"--model must be one of {', '.join(MODEL_CHOICES)}, not {model!r}")
    if model == "previous":
        if refit_until is not None:
            raise UnderwriterError("--refit-until applies to the chosen-model recipe, not --model previous")
        result = train_previous(dataset, policy, config, test_from=test_from, progress=progress)
    else:
        candidates = None if model == "auto" else (model,)
        result = train_chosen(
            dataset,
            policy,
            config or TrainConfig(),
            test_from=test_from,
            candidates=candidates,
            refit=refit,
            refit_until=refit_until,
            text=text,
            progress=progress,
        )
    column = dataset.spec.benchmark
    if column is not None:
        values = dataset.frame[column].iloc[result.split.test].to_numpy(dtype=np.float64)
        known = ~np.isnan(values)
        result.metrics["test"]["benchmark"] = {
            "column": column,
            "auc": round(metrics.auc(result.test_y[known], values[known]), 5),
            "rows": int(known.sum()),
        }
    return result
