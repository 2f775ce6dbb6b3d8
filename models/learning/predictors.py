"""The three kinds of risk model behind one interface: a margin (log-odds) and its additive reasons.

- ``xgboost``: the booster's margin; contributions are exact TreeSHAP (``pred_contribs``).
- ``scorecard``: the WoE logistic regression's margin; contributions are log-odds below each
  feature's best attribute (:mod:`models.learning.scorecard`).
- ``blend``: ``w * (a1 * m_xgb + b1) + (1 - w) * (a2 * m_card + b2)``, a weighted mean of the two
  members' calibrated log-odds; contributions are the members' own, scaled the same way, so they
  still add up to the margin.

Every kind reads the same encoded matrix (``FeatureEncoder``), so contributions have the same
columns (features, then the reference point) whatever the kind, and the reason codes, the case
profile and the similar-case search work unchanged.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import xgboost as xgb
from tqdm import tqdm

from models.learning.features import FeatureEncoder
from models.learning.scorecard import Scorecard
from models.learning.text_signal import TextScore

CHUNK_ROWS = 20_000
THREADS_LOCK = threading.Lock()
KINDS = ("xgboost", "scorecard", "blend")


class Predictor(Protocol):
    @property
    def kind(self) -> str: ...

    def margin(self, x: np.ndarray, nthread: int = 0) -> np.ndarray: ...

    def contributions(self, x: np.ndarray, nthread: int = 0, progress: bool = False) -> np.ndarray: ...


@dataclass
class BoosterPredictor:
    booster: xgb.Booster
    encoder: FeatureEncoder
    kind: str = "xgboost"
    _threads: int | None = field(default=None, repr=False, compare=False)

    def _use_threads(self, nthread: int) -> None:
        """Set XGBoost's thread count only when it changes: ``set_param`` marks the booster for
        reconfiguration, and a prediction running on another thread meanwhile fails (the service
        predicts from many threads at once)."""
        if self._threads != nthread:
            with THREADS_LOCK:
                if self._threads != nthread:
                    self.booster.set_param({"nthread": nthread})
                    self._threads = nthread

    def margin(self, x: np.ndarray, nthread: int = 0) -> np.ndarray:
        self._use_threads(nthread)
        return np.asarray(self.booster.inplace_predict(x, predict_type="margin"), dtype=np.float64)

    def contributions(self, x: np.ndarray, nthread: int = 0, progress: bool = False) -> np.ndarray:
        """Exact TreeSHAP contributions in margin space, in chunks to bound memory."""
        self._use_threads(nthread)
        starts = range(0, len(x), CHUNK_ROWS)
        parts = [
            self.booster.predict(self._dmatrix(x[i : i + CHUNK_ROWS], nthread), pred_contribs=True)
            for i in tqdm(starts, desc="reason codes", unit="chunk", disable=not progress or len(starts) < 2)
        ]
        if not parts:
            return np.zeros((0, x.shape[1] + 1), dtype=np.float64)
        return np.vstack(parts).astype(np.float64)

    def _dmatrix(self, x: np.ndarray, nthread: int) -> xgb.DMatrix:
        return xgb.DMatrix(
            x,
            feature_names=self.encoder.feature_names,
            feature_types=self.encoder.feature_types,
            enable_categorical=True,
            nthread=nthread,
        )


@dataclass
class ScorecardPredictor:
    card: Scorecard
    kind: str = "scorecard"

    def margin(self, x: np.ndarray, nthread: int = 0) -> np.ndarray:
        return self.card.margin(x)

    def contributions(self, x: np.ndarray, nthread: int = 0, progress: bool = False) -> np.ndarray:
        return self.card.contributions(x)


@dataclass(frozen=True)
class BlendWeights:
    weight: float
    """Share of the booster's calibrated log-odds; the scorecard gets ``1 - weight``."""
    booster_a: float
    booster_b: float
    card_a: float
    card_b: float

    def to_dict(self) -> dict:
        return {"method": "logit-blend", **self.__dict__}

    @classmethod
    def from_dict(cls, data: dict) -> BlendWeights:
        if data.get("method") != "logit-blend":
            raise ValueError(f"unknown blend method {data.get('method')!r}")
        return cls(*(float(data[k]) for k in ("weight", "booster_a", "booster_b", "card_a", "card_b")))


@dataclass
class BlendPredictor:
    booster: BoosterPredictor
    card: ScorecardPredictor
    weights: BlendWeights
    kind: str = "blend"

    def combine(self, booster_value: np.ndarray, card_value: np.ndarray, *, offsets: bool) -> np.ndarray:
        w = self.weights
        out = w.weight * w.booster_a * booster_value + (1 - w.weight) * w.card_a * card_value
        return out + (w.weight * w.booster_b + (1 - w.weight) * w.card_b if offsets else 0.0)

    def margin(self, x: np.ndarray, nthread: int = 0) -> np.ndarray:
        return self.combine(self.booster.margin(x, nthread), self.card.margin(x), offsets=True)

    def contributions(self, x: np.ndarray, nthread: int = 0, progress: bool = False) -> np.ndarray:
        out = self.combine(
            self.booster.contributions(x, nthread, progress), self.card.contributions(x), offsets=False
        )
        out[:, -1] += self.combine(np.zeros(1), np.zeros(1), offsets=True)[0]
        return out


@dataclass
class TextStackedPredictor:
    """A model of any kind plus ``beta`` times the text score, the encoder's last column. Rows with no
    text (NaN) get nothing from it; its contribution is its own column, against a reference of 0."""

    inner: Predictor
    beta: float
    score: TextScore | None = None
    """The text model behind the column (kept with the encoder; here for training's bookkeeping)."""

    @property
    def kind(self) -> str:
        return self.inner.kind

    def _text(self, x: np.ndarray) -> np.ndarray:
        return self.beta * np.nan_to_num(x[:, -1].astype(np.float64), nan=0.0)

    def margin(self, x: np.ndarray, nthread: int = 0) -> np.ndarray:
        return self.inner.margin(np.ascontiguousarray(x[:, :-1]), nthread) + self._text(x)

    def contributions(self, x: np.ndarray, nthread: int = 0, progress: bool = False) -> np.ndarray:
        inner = self.inner.contributions(np.ascontiguousarray(x[:, :-1]), nthread, progress)
        return np.hstack([inner[:, :-1], self._text(x)[:, None], inner[:, -1:]])


def base_predictor(predictor: Predictor) -> Predictor:
    """The model under a stacked text score (the predictor itself when it has none)."""
    return predictor.inner if isinstance(predictor, TextStackedPredictor) else predictor
