"""Turn a validated dataset into the float matrix XGBoost sees.

Numeric columns pass through as float32 (missing stays NaN, which XGBoost
routes by its learned default). Categorical columns become integer codes over
the categories seen in training, most frequent first; rare and unseen values
share one ``__other__`` code, so a new industry code at scoring time is
handled, and counted, rather than crashing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from models.data.spec import DatasetSpec
from models.learning.text_signal import TEXT_FEATURE, TextScore

OTHER = "__other__"
MAX_CATEGORIES = 64


@dataclass
class FeatureEncoder:
    numeric: list[str]
    categories: dict[str, list[str]] = field(default_factory=dict)
    """Categorical column -> known values in code order; the last is ``__other__``."""
    text: TextScore | None = None
    """The borrower's-text score, a last numeric column ``text_score``, when training kept it
    (:mod:`models.learning.text_signal`)."""

    @classmethod
    def fit(
        cls, spec: DatasetSpec, frame: pd.DataFrame, max_categories: int = MAX_CATEGORIES
    ) -> FeatureEncoder:
        categories = {}
        for column in spec.categorical:
            counts = frame[column].dropna().value_counts()
            ordered = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
            categories[column] = [str(v) for v, _ in ordered[:max_categories]] + [OTHER]
        return cls(numeric=list(spec.numeric), categories=categories)

    @property
    def feature_names(self) -> list[str]:
        return [*self.numeric, *self.categories, *([TEXT_FEATURE] if self.text else [])]

    @property
    def feature_types(self) -> list[str]:
        return ["q"] * len(self.numeric) + ["c"] * len(self.categories) + (["q"] if self.text else [])

    def transform(self, frame: pd.DataFrame) -> tuple[np.ndarray, dict[str, int]]:
        """Return the float32 matrix and, per categorical column, how many values were unseen."""
        matrix = np.empty((len(frame), len(self.feature_names)), dtype=np.float32)
        for j, column in enumerate(self.numeric):
            matrix[:, j] = frame[column].to_numpy(dtype=np.float64)
        unseen: dict[str, int] = {}
        for k, (column, known) in enumerate(self.categories.items()):
            values = frame[column]
            present = values.notna().to_numpy()
            codes = pd.Index(known[:-1]).get_indexer(
                pd.Index(values.astype(object).where(values.notna(), None))
            )
            unseen_mask = present & (codes == -1)
            column_codes = codes.astype(np.float32)
            column_codes[unseen_mask] = len(known) - 1  # the __other__ code
            column_codes[~present] = np.nan
            matrix[:, len(self.numeric) + k] = column_codes
            if unseen_mask.any():
                unseen[column] = int(unseen_mask.sum())
        if self.text is not None:
            matrix[:, -1] = self.text.logit(frame)
        return matrix, unseen

    def to_dict(self) -> dict:
        return {
            "numeric": self.numeric,
            "categories": self.categories,
            **({"text": self.text.to_dict()} if self.text else {}),
        }

    @classmethod
    def from_dict(cls, data: dict) -> FeatureEncoder:
        return cls(
            numeric=list(data["numeric"]),
            categories={k: list(v) for k, v in data["categories"].items()},
            text=TextScore.from_dict(data["text"]) if data.get("text") else None,
        )
