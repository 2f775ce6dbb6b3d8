"""Where a value stands among the applicants a model was trained on ("lower than 82% of past applicants").

Stored with each model version as ``population.json``: for every numeric feature, its 101 quantiles
over the training data's rows. A reason, a mitigant or a recourse states a value with its position,
so an officer can see at once whether a figure is ordinary or extreme. Models trained before this
file existed have no population; their explanations state the value without a position.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

POPULATION_FILE = "population.json"
QUANTILES = 101


@dataclass(frozen=True)
class Population:
    rows: int
    quantiles: dict[str, list[float]]

    @classmethod
    def fit(cls, frame: pd.DataFrame, numeric: list[str]) -> Population:
        quantiles = {}
        for column in (c for c in numeric if c in frame):
            values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=np.float64)
            finite = values[np.isfinite(values)]
            if len(finite):
                quantiles[column] = [float(q) for q in np.quantile(finite, np.linspace(0, 1, QUANTILES))]
        return cls(rows=len(frame), quantiles=quantiles)

    @classmethod
    def from_quantiles(cls, rows: int, quantiles: dict[str, list[float]]) -> Population:
        """From quantiles computed elsewhere (Spark's ``approxQuantile`` at these ``QUANTILES`` points)."""
        return cls(
            rows=rows,
            quantiles={k: [float(v) for v in qs] for k, qs in quantiles.items() if len(qs) == QUANTILES},
        )

    def position(self, feature: str, value: Any) -> float | None:
        """The share of past applicants below ``value`` (ties count half); None when unknown or missing."""
        qs = self.quantiles.get(feature)
        if qs is None or value is None or isinstance(value, str):
            return None
        x = float(value)
        if math.isnan(x):
            return None
        q = np.asarray(qs)
        mid = (np.searchsorted(q, x, "left") + np.searchsorted(q, x, "right")) / 2.0
        return float(np.clip((mid - 0.5) / (QUANTILES - 1), 0.0, 1.0))

    def standing(self, feature: str, value: Any) -> str | None:
        """``lower than 82% of past applicants``, ``higher than 97% ...``, or ``about the median ...``."""
        return standing_words(self.position(feature, value))

    def to_json(self) -> bytes:
        return json.dumps({"rows": self.rows, "quantiles": self.quantiles}, indent=1).encode()

    @classmethod
    def read(cls, version_dir: Path) -> Population | None:
        path = version_dir / POPULATION_FILE
        if not path.is_file():
            return None
        data = json.loads(path.read_text())
        return cls(rows=int(data["rows"]), quantiles={k: list(v) for k, v in data["quantiles"].items()})


def standing_words(position: float | None) -> str | None:
    """A share of past applicants below a value, in words (None for an unknown position)."""
    if position is None:
        return None
    if 0.45 <= position <= 0.55:
        return "about the median of past applicants"
    if position > 0.5:
        return f"higher than {min(math.floor(position * 100), 99)}% of past applicants"
    return f"lower than {min(math.floor((1 - position) * 100), 99)}% of past applicants"
