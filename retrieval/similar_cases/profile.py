"""The case profile: what a case looked like on paper at decision time, as one vector.

A case is found by what it looked like on paper at decision time, through one
vector per case that blends two views with documented weights:

* **tabular** (weight ``tabular``, default 0.6): each feature as its quantile
  position in the library (centred; ties at mid-rank), categories one-hot (a
  mismatch counts ``CATEGORY_MISMATCH`` = 1/3), a missing-value indicator where a
  feature has gaps. Alternatively
  (``representation="contributions"``) the trained model's own per-feature
  contributions (SHAP, log-odds), scaled per feature: cases that are risky for
  the same reasons; or (``representation="risk"``, the default when a model is
  given) those contributions plus the case's total (its risk level: the margin
  without the base), counted as ``RISK_LEVEL_WEIGHT`` features: cases risky for
  the same reasons *and* about as risky (docs/retrieval.md measures the three);
* **narrative** (weight ``text``, default 0.4): the embedding of the case's
  documents or text fields (unit length).

The parts are scaled so that the squared L2 distance between two case vectors
is ``tabular * mean per-feature squared difference (each in [0, 1]) +
text * (1 - cosine)``; similarity is ``1 - distance``, 1 for identical cases.
FAISS (L2) searches these vectors.

Point in time: a search "as of" a date returns only cases decided strictly
before it, and shows a case's outcome only once it was observable
(decision date + ``outcome_window_days``); a merchant is never its own
neighbour. Each hit names the features on which it is closest to and furthest
from the case under review, with both values, so an underwriter can judge the match.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from retrieval.similar_cases.weights import CaseWeights

MAX_CATEGORIES = 32
QUANTILES = 101
MISSING_SCALE = math.sqrt(0.75) / 2
"""A missing-indicator dimension at +-this: missing vs present differs by at most 1 in total."""
CATEGORY_MISMATCH = 1 / 3
"""Squared distance of two different categories: twice the expected squared difference (1/6) of two
random quantile positions. At 1 (a mismatch as far apart as opposite extremes) industry and country
swamped every numeric signal; chosen among 1, 1/3 and 1/6 on the Lending Club and portfolio
evaluations (docs/retrieval.md), so those figures carry that small selection."""


@dataclass
class ProfileScaler:
    """Feature values -> quantile positions and the tabular part of the case vector, fitted on the library."""

    numeric: list[str]
    categorical: list[str]
    quantiles: dict[str, list[float]]
    categories: dict[str, list[str]]
    has_missing: dict[str, bool]

    @classmethod
    def fit(cls, frame: pd.DataFrame, numeric: Sequence[str], categorical: Sequence[str]) -> ProfileScaler:
        quantiles, has_missing, categories = {}, {}, {}
        for col in numeric:
            values = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=np.float64)
            finite = values[np.isfinite(values)]
            qs = np.quantile(finite, np.linspace(0, 1, QUANTILES)) if len(finite) else np.zeros(QUANTILES)
            quantiles[col] = [float(q) for q in qs]
            has_missing[col] = bool(len(finite) < len(values))
        for col in categorical:
            counts = frame[col].dropna().astype(str).value_counts()
            ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
            categories[col] = [str(v) for v, _ in ordered[:MAX_CATEGORIES]]
            has_missing[col] = bool(frame[col].isna().any())
        return cls(list(numeric), list(categorical), quantiles, categories, has_missing)

    @property
    def features(self) -> list[str]:
        return [*self.numeric, *self.categorical]

    def positions(self, frame: pd.DataFrame) -> np.ndarray:
        """Per feature: quantile position in [0, 1] (numeric) or category code (categorical); NaN if missing."""
        out = np.full((len(frame), len(self.features)), np.nan, dtype=np.float64)
        for j, col in enumerate(self.numeric):
            x = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=np.float64)
            q = np.asarray(self.quantiles[col])
            mid = (np.searchsorted(q, x, "left") + np.searchsorted(q, x, "right")) / 2.0
            pos = np.clip((mid - 0.5) / (QUANTILES - 1), 0.0, 1.0)
            out[:, j] = np.where(np.isfinite(x), pos, np.nan)
        for j, col in enumerate(self.categorical, start=len(self.numeric)):
            known = self.categories[col]
            values = frame[col]
            codes = pd.Index(known).get_indexer(pd.Index(values.astype(str)))
            codes = np.where(codes < 0, len(known), codes).astype(np.float64)
            out[:, j] = np.where(values.notna().to_numpy(), codes, np.nan)
        return out

    def tabular_vectors(self, positions: np.ndarray) -> np.ndarray:
        """Unscaled tabular vectors: the squared difference per feature is in [0, 1]."""
        blocks = []
        for j, col in enumerate(self.numeric):
            p = positions[:, j]
            blocks.append(np.where(np.isnan(p), 0.0, p - 0.5)[:, None])
            if self.has_missing[col]:
                blocks.append(np.where(np.isnan(p), MISSING_SCALE, -MISSING_SCALE)[:, None])
        for j, col in enumerate(self.categorical, start=len(self.numeric)):
            width = len(self.categories[col]) + 1
            onehot = np.zeros((len(positions), width))
            codes = positions[:, j]
            present = ~np.isnan(codes)
            onehot[np.flatnonzero(present), codes[present].astype(int)] = math.sqrt(CATEGORY_MISMATCH / 2)
            blocks.append(onehot)
        return np.hstack(blocks) if blocks else np.zeros((len(positions), 0))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


RISK_LEVEL_WEIGHT = 3
"""In a ``risk`` profile the total contribution is repeated this many times (as many features): at 0, the
riskiest cases' neighbours were as far from them in PD as with the feature profile (docs/retrieval.md)."""


def with_risk_level(contributions: np.ndarray) -> np.ndarray:
    """Per-feature contributions, then their total ``RISK_LEVEL_WEIGHT`` times (the ``risk`` profile)."""
    total = contributions.sum(axis=1, keepdims=True)
    return np.hstack([contributions, *([total] * RISK_LEVEL_WEIGHT)])


def shown_value(value: Any) -> str:
    """A feature value as a person reads it in a match explanation (``missing`` when absent)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "missing"
    if isinstance(value, float):
        if value != 0 and abs(value) < 0.1:
            return f"{value:.4g}"
        return f"{value:,.2f}".rstrip("0").rstrip(".") if abs(value) < 1e6 else f"{value:,.0f}"
    return str(value)


def raw_values(frame: pd.DataFrame, scaler: ProfileScaler) -> np.ndarray:
    """Numeric raw values (float32, NaN when missing); categoricals are shown from their codes."""
    raw = np.full((len(frame), len(scaler.numeric)), np.nan, dtype=np.float32)
    for j, col in enumerate(scaler.numeric):
        raw[:, j] = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=np.float64)
    return raw


def case_vectors(
    scaler: ProfileScaler,
    weights: CaseWeights,
    positions: np.ndarray,
    text_vectors: np.ndarray | None,
    contributions: np.ndarray | None,
    scale: np.ndarray | None,
    representation: str = "features",
) -> np.ndarray:
    """The blended case vectors FAISS searches (see the module's docstring for the scaling)."""
    features = max(len(scaler.features), 1)
    if representation == "features" or contributions is None or scale is None:
        tab = scaler.tabular_vectors(positions)
    else:  # contributions, or (risk) contributions and their total, already stacked by the caller
        tab = np.clip(contributions / scale, -0.5, 0.5)
    parts = [tab * math.sqrt(weights.tabular / features)]
    if text_vectors is not None and text_vectors.shape[1]:
        parts.append(text_vectors * math.sqrt(weights.text / 2))
    return np.ascontiguousarray(np.hstack(parts), dtype=np.float32)
