"""Choose the risk model by time-ordered validation, never by the test rows.

Candidates, each fitted inside every fold on that fold's past only:

- ``xgboost``: gradient-boosted trees with small-data settings (shallow trees, strong
  regularisation, a low learning rate, subsampling, the spec's monotone constraints), tuned
  lightly: a small grid of depth and regularisation, and the tree count, all chosen by the mean
  validation log loss over the folds;
- ``scorecard``: a binned weight-of-evidence logistic regression with points per attribute
  (:mod:`models.learning.scorecard`);
- ``blend``: a weighted mean of the two calibrated log-odds, the weight chosen in the folds.

The chosen candidate has the best mean fold AUC; a more complex one must beat a simpler one by
``MIN_GAIN`` (order: scorecard, xgboost, blend). Every candidate's fold figures (AUC, Brier, log
loss with 90% intervals) are kept for the model card.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import xgboost as xgb

from models.data.spec import DatasetSpec
from models.learning.calibration import PlattCalibrator, sigmoid
from models.learning.features import FeatureEncoder
from models.learning.folds import Fold, fold_figures
from models.learning.predictors import (
    BlendPredictor,
    BlendWeights,
    BoosterPredictor,
    Predictor,
    ScorecardPredictor,
)
from models.learning.scorecard import MIN_INFORMATION_VALUE, fit_scorecard

CANDIDATES = ("scorecard", "xgboost", "blend")
"""Simplest first: on a tie the simpler one is chosen."""
MIN_GAIN = 0.002
BLEND_WEIGHTS = (0.2, 0.35, 0.5, 0.65, 0.8)
MAX_ROUNDS = 1000
SMALL_DATA_ETA, LARGE_DATA_ETA, LARGE_DATA_ROWS = 0.03, 0.08, 5000
"""A low learning rate where rows are few; a faster one where 1,000 slow trees would not reach the optimum."""
PATIENCE = 100
MIN_ROUNDS = 10
XGB_GRID = (
    {"max_depth": 1, "min_child_weight": 5.0, "lambda": 5.0},
    {"max_depth": 2, "min_child_weight": 5.0, "lambda": 5.0},
    {"max_depth": 3, "min_child_weight": 5.0, "lambda": 5.0},
    {"max_depth": 3, "min_child_weight": 20.0, "lambda": 10.0},
    {"max_depth": 4, "min_child_weight": 10.0, "lambda": 10.0},
)
"""Small-data settings: a light grid, scored inside the folds."""
CARD_SCREENS = (0.02, 0.1)
"""Information-value screens tried for the scorecard: 'weak or better' and 'medium or better'."""


@dataclass
class Recipe:
    """Everything needed to fit the chosen candidate again on other rows (the test recipe, the refit)."""

    kind: str
    xgb_params: dict = field(default_factory=dict)
    rounds: int = 0
    blend_weight: float = 0.5
    card_screen: float = MIN_INFORMATION_VALUE
    member_calibration: dict[str, PlattCalibrator] = field(default_factory=dict)


@dataclass
class Choice:
    recipe: Recipe
    calibrator: PlattCalibrator
    """Platt scaling on the chosen candidate's out-of-fold margins: with dates, the last fold's only
    (the period closest to the one the model will score, so the PD level follows the latest default
    rate); without, every fold's."""
    oof_margin: np.ndarray
    oof_y: np.ndarray
    figures: dict[str, dict]
    """Candidate -> fold figures (see :func:`models.learning.folds.fold_figures`) and its settings."""
    fold_margins: list[np.ndarray] = field(default_factory=list)
    """The chosen candidate's margins on each fold's validation rows."""


@dataclass
class Matrix:
    """The encoded data the candidates read, shared by every fold."""

    x: np.ndarray
    y: np.ndarray
    spec: DatasetSpec
    encoder: FeatureEncoder
    seed: int = 42
    nthread: int = 0

    def dmatrix(self, rows: np.ndarray, labelled: bool = True) -> xgb.DMatrix:
        return xgb.DMatrix(
            self.x[rows],
            label=self.y[rows] if labelled else None,
            feature_names=self.encoder.feature_names,
            feature_types=self.encoder.feature_types,
            enable_categorical=True,
            nthread=self.nthread,
        )

    def xgb_params(self, grid_point: dict) -> dict:
        monotone = ",".join(str(self.spec.monotone.get(f, 0)) for f in self.encoder.feature_names)
        return {
            "objective": "binary:logistic",
            "eval_metric": "logloss",
            "tree_method": "hist",
            "eta": SMALL_DATA_ETA if self.y.size < LARGE_DATA_ROWS else LARGE_DATA_ETA,
            "subsample": 0.8,
            "colsample_bytree": 0.8,
            "max_bin": 128,
            "monotone_constraints": f"({monotone})",
            "seed": self.seed,
            "nthread": self.nthread,
            **grid_point,
        }


def fit_booster(data: Matrix, rows: np.ndarray, params: dict, rounds: int) -> BoosterPredictor:
    booster = xgb.train(params, data.dmatrix(rows), num_boost_round=rounds, verbose_eval=False)
    return BoosterPredictor(booster, data.encoder)


def fit_card(data: Matrix, rows: np.ndarray, screen: float = MIN_INFORMATION_VALUE) -> ScorecardPredictor:
    return ScorecardPredictor(
        fit_scorecard(
            data.x[rows], data.y[rows], data.encoder, data.spec.monotone, min_information_value=screen
        )
    )


def fit_recipe(data: Matrix, rows: np.ndarray, recipe: Recipe) -> Predictor:
    """Fit the chosen candidate on ``rows`` with the settings the folds chose."""
    if recipe.kind == "scorecard":
        return fit_card(data, rows, recipe.card_screen)
    booster = fit_booster(data, rows, recipe.xgb_params, recipe.rounds)
    if recipe.kind == "xgboost":
        return booster
    xc, cc = recipe.member_calibration["xgboost"], recipe.member_calibration["scorecard"]
    weights = BlendWeights(recipe.blend_weight, xc.a, xc.b, cc.a, cc.b)
    return BlendPredictor(booster, fit_card(data, rows, recipe.card_screen), weights)


def _tune_booster(data: Matrix, folds: list[Fold]) -> tuple[dict, int, list[np.ndarray], dict]:
    """The grid point and tree count with the lowest mean fold log loss; that setting's fold margins."""
    best: tuple[float, dict, int, list[xgb.Booster]] | None = None
    tried = {}
    for point in XGB_GRID:
        params = data.xgb_params(point)
        curves, boosters = [], []
        for fold in folds:
            history: dict = {}
            boosters.append(
                xgb.train(
                    params,
                    data.dmatrix(fold.train),
                    num_boost_round=MAX_ROUNDS,
                    evals=[(data.dmatrix(fold.valid), "valid")],
                    evals_result=history,
                    early_stopping_rounds=PATIENCE,
                    verbose_eval=False,
                )
            )
            curve = np.asarray(history["valid"]["logloss"])
            curves.append(np.pad(curve, (0, MAX_ROUNDS - len(curve)), mode="edge"))
        mean_curve = np.mean(curves, axis=0)
        rounds = max(int(np.argmin(mean_curve)) + 1, MIN_ROUNDS)
        tried[_point_label(point)] = {"rounds": rounds, "log_loss": round(float(mean_curve[rounds - 1]), 4)}
        if best is None or mean_curve[rounds - 1] < best[0]:
            best = (float(mean_curve[rounds - 1]), params, rounds, boosters)
    assert best is not None
    _, params, rounds, boosters = best
    fold_margins = [
        b.predict(
            data.dmatrix(f.valid, labelled=False),
            output_margin=True,
            # a fold that stopped early (its loss rose for PATIENCE rounds) keeps the trees it has
            iteration_range=(0, min(rounds, b.num_boosted_rounds())),
        ).astype(np.float64)
        for b, f in zip(boosters, folds, strict=True)
    ]
    return params, rounds, fold_margins, tried


def _tune_card(data: Matrix, folds: list[Fold]) -> tuple[float, list[np.ndarray], dict]:
    """The information-value screen with the lowest mean fold log loss, and its fold margins."""
    tried, best = {}, None
    for screen in CARD_SCREENS:
        fold_margins = [fit_card(data, f.train, screen).margin(data.x[f.valid]) for f in folds]
        loss = float(
            np.mean([_log_loss(data.y[f.valid], m) for f, m in zip(folds, fold_margins, strict=True)])
        )
        tried[f"{screen:g}"] = round(loss, 4)
        if best is None or loss < best[0]:
            best = (loss, screen, fold_margins)
    assert best is not None
    return best[1], best[2], tried


def _point_label(point: dict) -> str:
    return ", ".join(f"{k}={v:g}" for k, v in point.items())


def choose_model(
    data: Matrix,
    folds: list[Fold],
    candidates: tuple[str, ...] = CANDIDATES,
    *,
    latest_calibration: bool = False,
) -> Choice:
    """Score every candidate in the folds and choose (see the module's docstring)."""
    ys = [data.y[f.valid] for f in folds]
    margins: dict[str, list[np.ndarray]] = {}
    settings: dict[str, dict] = {}
    recipes: dict[str, Recipe] = {}
    if {"xgboost", "blend"} & set(candidates):
        params, rounds, margins["xgboost"], tried = _tune_booster(data, folds)
        recipes["xgboost"] = Recipe("xgboost", params, rounds)
        settings["xgboost"] = {
            "rounds": rounds,
            "grid": tried,
            "chosen": _point_label({k: params[k] for k in XGB_GRID[0]}),
        }
    if {"scorecard", "blend"} & set(candidates):
        screen, margins["scorecard"], tried_screens = _tune_card(data, folds)
        recipes["scorecard"] = Recipe("scorecard", card_screen=screen)
        settings["scorecard"] = {
            "bins": "optimal binning, monotone per spec",
            "regression": "L2, C=1",
            "min_information_value": screen,
            "screens": tried_screens,
        }
    if "blend" in candidates:
        recipes["blend"], margins["blend"] = _blend(
            recipes["xgboost"], recipes["scorecard"].card_screen, margins, ys
        )
        settings["blend"] = {"weight_of_xgboost": recipes["blend"].blend_weight}
    figures = {
        kind: {**fold_figures(ys, [sigmoid(m) for m in margins[kind]]), "settings": settings[kind]}
        for kind in candidates
    }
    chosen = candidates[0]
    for kind in candidates[1:]:
        if figures[kind]["auc"]["mean"] >= figures[chosen]["auc"]["mean"] + MIN_GAIN:
            chosen = kind
    oof_margin, oof_y = np.concatenate(margins[chosen]), np.concatenate(ys)
    return Choice(
        recipe=recipes[chosen],
        calibrator=(
            PlattCalibrator.fit(margins[chosen][-1], ys[-1])
            if latest_calibration
            else PlattCalibrator.fit(oof_margin, oof_y)
        ),
        oof_margin=oof_margin,
        oof_y=oof_y,
        figures=figures,
        fold_margins=margins[chosen],
    )


def _blend(
    booster_recipe: Recipe, card_screen: float, margins: dict[str, list[np.ndarray]], ys: list[np.ndarray]
) -> tuple[Recipe, list[np.ndarray]]:
    """Calibrate each member on its pooled out-of-fold margins, then choose the weight by mean fold log loss."""
    y = np.concatenate(ys)
    calibration = {k: PlattCalibrator.fit(np.concatenate(margins[k]), y) for k in ("xgboost", "scorecard")}

    def blended(weight: float) -> list[np.ndarray]:
        xc, cc = calibration["xgboost"], calibration["scorecard"]
        return [
            weight * (xc.a * mx + xc.b) + (1 - weight) * (cc.a * mc + cc.b)
            for mx, mc in zip(margins["xgboost"], margins["scorecard"], strict=True)
        ]

    def loss(weight: float) -> float:
        return float(np.mean([_log_loss(yk, m) for yk, m in zip(ys, blended(weight), strict=True)]))

    weight = min(BLEND_WEIGHTS, key=loss)
    recipe = Recipe(
        "blend", booster_recipe.xgb_params, booster_recipe.rounds, weight, card_screen, calibration
    )
    return recipe, blended(weight)


def _log_loss(y: np.ndarray, margin: np.ndarray) -> float:
    p = np.clip(sigmoid(margin), 1e-12, 1 - 1e-12)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
