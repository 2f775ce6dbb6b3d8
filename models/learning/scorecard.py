"""A points scorecard: binned weight-of-evidence logistic regression, the industry's explainable standard.

Fitting uses ``optbinning`` (optimal binning with monotonic trends from the spec's ``monotone``
map) and scikit-learn's logistic regression on the weight-of-evidence (WoE) of each bin. The
fitted card is stored as plain JSON (bin edges or category groups, WoE, coefficient, points),
never pickled, and scored here without optbinning: a bin lookup and a sum.

The margin is the log-odds of default: ``intercept + sum_j coefficient_j * woe_j(bin)``. Points
follow the usual scaling (``pdo`` points double the odds of *good*), so a higher score is safer.
A feature's contribution to a merchant's risk is how far its attribute sits *below the best
attribute* of that feature, in log-odds (points below the best attribute, divided by
``factor``); the reference point is the margin with every feature at its best attribute, so the
contributions add up to the margin exactly, as TreeSHAP's do.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from models.learning.features import FeatureEncoder

PDO = 20.0
"""Points to double the odds of good."""
BASE_POINTS = 600.0
BASE_ODDS = 50.0
"""A score of BASE_POINTS means good:bad odds of BASE_ODDS:1."""
MIN_INFORMATION_VALUE = 0.02
"""Features below this information value are 'not predictive' by the usual rule of thumb."""


@dataclass
class CardFeature:
    name: str
    kind: str
    """``numeric`` (bins between ``splits``) or ``categorical`` (bins are ``groups`` of values)."""
    woe: list[float]
    missing_woe: float
    coefficient: float
    splits: list[float] = field(default_factory=list)
    groups: list[list[str]] = field(default_factory=list)

    def bin_woe(self, column: np.ndarray, categories: list[str] | None) -> np.ndarray:
        """Each row's WoE for this feature; a value in no bin (unseen) gets 0, the population's."""
        values = np.asarray(column, dtype=np.float64)
        missing = np.isnan(values)
        out = np.zeros(len(values))
        if self.kind == "numeric":
            index = np.searchsorted(np.asarray(self.splits, dtype=np.float64), values, side="right")
            out = np.asarray(self.woe)[np.minimum(index, len(self.woe) - 1)]
        else:
            assert categories is not None
            group_of = {value: g for g, members in enumerate(self.groups) for value in members}
            codes = np.where(missing, -1, values).astype(int)
            lookup = np.array([self.woe[group_of[v]] if v in group_of else 0.0 for v in categories] + [0.0])
            out = lookup[np.where(codes < 0, len(categories), codes)]
        return np.where(missing, self.missing_woe, out)

    @property
    def best_term(self) -> float:
        """The lowest-risk attribute's term, ``coefficient * woe``."""
        return min(self.coefficient * w for w in [*self.woe, self.missing_woe])


@dataclass
class Scorecard:
    features: list[CardFeature]
    intercept: float
    categories: dict[str, list[str]]
    """Categorical feature -> the encoder's values in code order (codes index this list)."""

    @property
    def factor(self) -> float:
        return PDO / math.log(2)

    @property
    def offset(self) -> float:
        return BASE_POINTS - self.factor * math.log(BASE_ODDS)

    def terms(self, x: np.ndarray) -> np.ndarray:
        """(rows, features) coefficient x WoE for the encoded matrix ``x`` (the encoder's column order)."""
        columns = [
            f.coefficient * f.bin_woe(x[:, j], self.categories.get(f.name))
            for j, f in enumerate(self.features)
        ]
        return np.column_stack(columns) if columns else np.zeros((len(x), 0))

    def margin(self, x: np.ndarray) -> np.ndarray:
        return self.intercept + self.terms(x).sum(axis=1)

    def contributions(self, x: np.ndarray) -> np.ndarray:
        """(rows, features + 1): each feature's log-odds above its best attribute, then the reference
        point (the margin at every best attribute). Rows sum to the margin."""
        best = np.array([f.best_term for f in self.features])
        above = self.terms(x) - best
        reference = np.full((len(x), 1), self.intercept + best.sum())
        return np.hstack([above, reference])

    def score_points(self, x: np.ndarray) -> np.ndarray:
        return self.offset - self.factor * self.margin(x)

    def points_table(self) -> list[dict]:
        """One row per attribute: feature, bin, WoE and points (higher is safer)."""
        n = max(len(self.features), 1)
        base = (self.offset - self.factor * self.intercept) / n
        rows = []
        for f in self.features:
            labels = _bin_labels(f)
            for label, woe in [*zip(labels, f.woe, strict=True), ("missing", f.missing_woe)]:
                points = base - self.factor * f.coefficient * woe
                rows.append(
                    {"feature": f.name, "bin": label, "woe": round(woe, 4), "points": round(points, 1)}
                )
        return rows

    def to_dict(self) -> dict:
        return {
            "method": "woe-logistic",
            "intercept": self.intercept,
            "pdo": PDO,
            "base_points": BASE_POINTS,
            "base_odds": BASE_ODDS,
            "categories": self.categories,
            "features": [f.__dict__ for f in self.features],
        }

    @classmethod
    def from_dict(cls, data: dict) -> Scorecard:
        if data.get("method") != "woe-logistic":
            raise ValueError(f"unknown scorecard method {data.get('method')!r}")
        return cls(
            features=[CardFeature(**f) for f in data["features"]],
            intercept=float(data["intercept"]),
            categories={k: list(v) for k, v in data["categories"].items()},
        )


def _bin_labels(feature: CardFeature) -> list[str]:
    if feature.kind == "categorical":
        return [", ".join(group) for group in feature.groups]
    edges = [-math.inf, *feature.splits, math.inf]
    return [f"[{lo:.6g}, {hi:.6g})" for lo, hi in itertools.pairwise(edges)]


def _frame(x: np.ndarray, encoder: FeatureEncoder) -> pd.DataFrame:
    """The encoded matrix as optbinning reads it: numbers, and category names (not codes)."""
    data: dict[str, object] = {}
    for j, name in enumerate(encoder.feature_names):
        column = x[:, j].astype(np.float64)
        if name in encoder.categories:
            names = np.array(encoder.categories[name], dtype=object)
            present = ~np.isnan(column)
            values = np.full(len(column), None, dtype=object)
            values[present] = names[column[present].astype(int)]
            data[name] = values
        else:
            data[name] = column
    return pd.DataFrame(data)


def fit_scorecard(
    x: np.ndarray,
    y: np.ndarray,
    encoder: FeatureEncoder,
    monotone: Mapping[str, int],
    c: float = 1.0,
    min_information_value: float = MIN_INFORMATION_VALUE,
) -> Scorecard:
    """Bin every feature (optimal binning, monotonic where the spec says so), keep those whose
    information value reaches ``min_information_value`` (the usual screen; the others score 0
    points), then fit the logistic regression on the kept bins' WoE. ``x`` is the encoder's matrix
    for the training rows only."""
    from optbinning import BinningProcess
    from sklearn.linear_model import LogisticRegression

    frame = _frame(x, encoder)
    trends = {1: "ascending", -1: "descending"}
    process = BinningProcess(
        variable_names=list(encoder.feature_names),
        categorical_variables=list(encoder.categories),
        binning_fit_params={f: {"monotonic_trend": trends[m]} for f, m in monotone.items() if m in trends},
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        process.fit(frame, y)
        woe = process.transform(frame, metric="woe", metric_missing="empirical").to_numpy(dtype=np.float64)
        tables = [process.get_binned_variable(name).binning_table.build() for name in encoder.feature_names]
    information = np.array([float(t["IV"].iloc[-1]) for t in tables])
    selected = information >= min_information_value
    if not selected.any():
        selected = information == information.max()
    regression = LogisticRegression(C=c, max_iter=2000).fit(woe[:, selected], y)
    coefficients = np.zeros(len(selected))
    coefficients[selected] = regression.coef_[0]
    features = []
    for j, name in enumerate(encoder.feature_names):
        binned, table = process.get_binned_variable(name), tables[j]
        bins, missing_row = table.iloc[:-3], table.iloc[-2]  # rows: bins..., Special, Missing, Totals
        values = bins["WoE"].astype(float).tolist()
        features.append(
            CardFeature(
                name=name,
                kind="categorical" if name in encoder.categories else "numeric",
                woe=values or [0.0],
                missing_woe=float(missing_row["WoE"]) if int(missing_row["Count"]) else 0.0,
                coefficient=float(coefficients[j]),
                splits=[] if name in encoder.categories else [float(s) for s in binned.splits],
                groups=[[str(v) for v in g] for g in binned.splits] if name in encoder.categories else [],
            )
        )
    return Scorecard(features, float(regression.intercept_[0]), dict(encoder.categories))
