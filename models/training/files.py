"""The files and manifest of a training run: the model's own kind files, reports and plots."""

from __future__ import annotations

import json

from models.data.dataset import Dataset
from models.data.population import POPULATION_FILE, Population
from models.learning.predictors import (
    BlendPredictor,
    BoosterPredictor,
    Predictor,
    ScorecardPredictor,
    base_predictor,
)
from models.training.fit import TrainingResult


def training_files(
    result: TrainingResult, dataset: Dataset, population: Population | None = None
) -> dict[str, bytes]:
    """The artifact files of a training run (plots and model card included); ``population`` when the
    data is not in ``dataset.frame`` (a distributed run computes it where the data is)."""
    from models.training.card import model_card
    from models.training.plots import calibration_plot, model_choice_plot, roc_plot, score_distribution_plot

    m = result.metrics
    choice = (
        {
            "plots/model_choice.png": model_choice_plot(
                m["model_choice"], m["test"]["auc"], m["test"].get("benchmark")
            )
        }
        if "model_choice" in m
        else {}
    )
    return {
        **choice,
        **predictor_files(result.predictor),
        "calibrator.json": json.dumps(result.calibrator.to_dict(), indent=2).encode(),
        "features.json": json.dumps(result.encoder.to_dict(), indent=2).encode(),
        "spec.yaml": _spec_yaml(dataset).encode(),
        "policy.yaml": result.policy.to_yaml().encode(),
        "metrics.json": json.dumps(result.metrics, indent=2).encode(),
        POPULATION_FILE: (population or Population.fit(dataset.frame, dataset.spec.numeric)).to_json(),
        "model_card.md": model_card(result, dataset).encode(),
        "plots/roc.png": roc_plot(result.test_y, result.test_pd),
        "plots/calibration.png": calibration_plot(result.test_y, result.test_pd),
        "plots/score_distribution.png": score_distribution_plot(
            result.test_y, result.test_pd, result.train_pd
        ),
    }


def predictor_files(predictor: Predictor) -> dict[str, bytes]:
    """The files of the model's own kind (see ``models.store.artifacts.KIND_FILES``)."""
    files: dict[str, bytes] = {}
    predictor = base_predictor(predictor)  # a text score travels in features.json
    booster = predictor if isinstance(predictor, BoosterPredictor) else getattr(predictor, "booster", None)
    if isinstance(booster, BoosterPredictor):
        files["booster.ubj"] = bytes(booster.booster.save_raw("ubj"))
    card = predictor if isinstance(predictor, ScorecardPredictor) else getattr(predictor, "card", None)
    if isinstance(card, ScorecardPredictor):
        files["scorecard.json"] = json.dumps(card.card.to_dict(), indent=1).encode()
    if isinstance(predictor, BlendPredictor):
        files["blend.json"] = json.dumps(predictor.weights.to_dict(), indent=2).encode()
    return files


def _spec_yaml(dataset: Dataset) -> str:
    import yaml

    return yaml.safe_dump(dataset.spec.model_dump(mode="json", exclude_none=True), sort_keys=False)


def training_manifest(result: TrainingResult, dataset: Dataset) -> dict:
    return {
        "dataset": {
            "spec": dataset.spec.name,
            "spec_version": dataset.spec.version,
            "source": dataset.source,
            "sha256": dataset.sha256,
            "rows": len(dataset),
        },
        "policy": result.policy.label,
        "model_kind": result.predictor.kind,
        "params": result.params,
        "trees": result.metrics["trees"],
        "test_auc": result.metrics["test"]["auc"],
    }
