"""Score merchants: PD, grade, band, policy flags and reason codes.

The PD is the calibrated probability of the model's margin. Reason codes
are the features whose contribution pushed this merchant's margin *above the
reference point*, largest first, at most ``MAX_REASONS``: for trees the exact
TreeSHAP contribution (XGBoost's ``pred_contribs``) against the model's expected
margin; for a scorecard the points below the feature's best attribute
(:mod:`models.learning.predictors`). Their texts are fixed per feature in the dataset spec; no
LLM writes them. Categorical features are single columns, so each feature is
one reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.data.dataset import Dataset
from models.store.artifacts import RiskModel

MAX_REASONS = 4
MIN_CONTRIBUTION = 1e-6
"""Contributions at or below this (in log-odds) are not reasons: they did not push risk up."""


def reason_code(feature: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "_", feature.upper()).strip("_")


@dataclass
class ScoredBatch:
    frame: pd.DataFrame
    contributions: np.ndarray | None
    """(rows, features + 1) margin contributions, last column the reference point; NaN where not explained."""
    unseen_categories: dict[str, int]


def margins(model: RiskModel, x: np.ndarray, nthread: int = 0) -> np.ndarray:
    return model.predictor.margin(x, nthread)


def contributions(model: RiskModel, x: np.ndarray, nthread: int = 0, progress: bool = False) -> np.ndarray:
    """Additive margin contributions (features, then the reference point): exact TreeSHAP for trees,
    log-odds below the best attribute for a scorecard, both scaled for a blend."""
    return model.predictor.contributions(x, nthread, progress)


def top_reasons(contrib: np.ndarray, max_reasons: int = MAX_REASONS) -> np.ndarray:
    """Indices of up to ``max_reasons`` features with the largest positive contribution, -1 padded.

    Ties break by feature order, so the result is deterministic.
    """
    features = contrib[:, :-1]
    order = np.argsort(-features, axis=1, kind="stable")[:, :max_reasons]
    chosen = np.take_along_axis(features, order, axis=1)
    return np.where(chosen > MIN_CONTRIBUTION, order, -1)


REASON_SCOPES = ("all", "adverse", "none")


def score_matrix(
    model: RiskModel,
    x: np.ndarray,
    frame: pd.DataFrame,
    *,
    nthread: int = 0,
    reasons: str = "all",
    progress: bool = False,
) -> tuple[pd.DataFrame, np.ndarray | None]:
    """Score an encoded matrix. ``reasons``: ``all`` rows, only ``adverse`` ones (refer or
    decline: the cases that need a stated reason, often a fraction of the book), or ``none``.
    A row's reasons never depend on which other rows were explained."""
    if reasons not in REASON_SCOPES:
        raise ValueError(f"reasons must be one of {REASON_SCOPES}, got {reasons!r}")
    margin = margins(model, x, nthread)
    pd_ = model.calibrator(margin)
    grades, bands, flags = model.policy.apply(pd_, frame)
    out = pd.DataFrame({"pd": np.round(pd_, 6), "grade": grades, "band": bands, "policy_flags": flags})
    contrib = None
    if reasons != "none":
        if reasons == "all":
            contrib = contributions(model, x, nthread, progress)
            chosen = top_reasons(contrib)
        else:  # explain adverse rows only; the others keep NaN contributions and no reasons
            rows = np.flatnonzero(bands != "approve")
            explained = contributions(model, x[rows], nthread, progress)
            contrib = np.full((len(x), x.shape[1] + 1), np.nan)
            contrib[rows] = explained
            chosen = np.full((len(x), MAX_REASONS), -1)
            chosen[rows] = top_reasons(explained)
        names = model.encoder.feature_names
        codes = np.array([reason_code(f) for f in names] + [""], dtype=object)
        texts = np.array([model.spec.reason_text(f) for f in names] + [""], dtype=object)
        out["reason_codes"] = [";".join(c for c in row if c) for row in codes[chosen]]
        for k in range(MAX_REASONS):
            out[f"reason_{k + 1}"] = texts[chosen[:, k]]
    return out, contrib


def score_dataset(
    model: RiskModel, dataset: Dataset, *, nthread: int = 0, reasons: str = "all", progress: bool = False
) -> ScoredBatch:
    """Score every row of a validated dataset (its spec must match the model's features)."""
    x, unseen = model.encoder.transform(dataset.frame)
    scored, contrib = score_matrix(
        model, x, dataset.frame, nthread=nthread, reasons=reasons, progress=progress
    )
    scored.insert(0, "id", dataset.ids.to_numpy())
    scored["model_version"] = model.label
    scored["model_id"] = model.model_id[:16]
    return ScoredBatch(scored, contrib, unseen)
