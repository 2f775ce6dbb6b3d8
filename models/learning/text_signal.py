"""Does the borrower's own text add to the chosen model? Measured in the same folds, never assumed.

The text columns of each row are joined and embedded (MiniLM, the retrieval layer's own model).
In every fold a ridge logistic regression learns defaults from the embeddings of that fold's
training rows only; its log-odds on the validation rows are stacked on the chosen model's margin,
``margin + beta * text``, with ``beta`` chosen by mean fold log loss. The gain is the paired
difference in fold AUC with a 90% bootstrap interval; the text earns its place only when the whole
interval is above zero. (``beta`` is chosen on the same folds, so the gain leans optimistic: a
text that fails this test does not help.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from models.learning.calibration import sigmoid
from models.learning.folds import Fold, paired_gain
from models.learning.metrics import auc

BETAS = (0.0, 0.25, 0.5, 1.0)
TEXT_C = 0.3
TEXT_FEATURE = "text_score"
EMBEDDER = "minilm"


def joined_texts(frame: pd.DataFrame, columns: Sequence[str]) -> list[str]:
    """Each row's text columns joined; a column absent from the file reads as empty."""
    present = [c for c in columns if c in frame.columns]
    if not present:
        return [""] * len(frame)
    parts = frame[present].fillna("").astype(str)
    return [" ".join(v for v in row if v.strip()) for row in parts.itertuples(index=False, name=None)]


@cache
def _embedder(name: str) -> Any:
    from models.backends.embedders import load_embedder

    return load_embedder(name)


def embed_texts(texts: list[str], embedder: str = EMBEDDER, progress: bool = False) -> np.ndarray:
    return np.asarray(_embedder(embedder).embed(texts, progress=progress), dtype=np.float64)


@dataclass
class TextScore:
    """A logistic regression on the embedded text: its log-odds, less their training mean, are the
    ``text_score`` column. Rows with no text get NaN: no evidence either way, nothing added."""

    columns: list[str]
    embedder: str
    coefficients: list[float]
    intercept: float
    center: float
    beta: float
    """The weight the folds chose for stacking the text score on the model's margin."""

    def logit_of(self, embeddings: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        out = embeddings @ np.asarray(self.coefficients) + self.intercept - self.center
        return np.where([bool(t.strip()) for t in texts], out, np.nan)

    def logit(self, frame: pd.DataFrame) -> np.ndarray:
        texts = joined_texts(frame, self.columns)
        if not any(t.strip() for t in texts):
            return np.full(len(texts), np.nan)
        return self.logit_of(embed_texts(texts, self.embedder), texts)

    def to_dict(self) -> dict:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict) -> TextScore:
        return cls(**data)


def fit_text_score(
    embeddings: np.ndarray,
    texts: Sequence[str],
    y: np.ndarray,
    rows: np.ndarray,
    columns: Sequence[str],
    beta: float = 1.0,
) -> TextScore:
    """Fit on those of ``rows`` that have text."""
    from sklearn.linear_model import LogisticRegression

    with_text = rows[[bool(texts[i].strip()) for i in rows]]
    regression = LogisticRegression(C=TEXT_C, max_iter=2000).fit(embeddings[with_text], y[with_text])
    raw = regression.decision_function(embeddings[with_text])
    return TextScore(
        list(columns),
        EMBEDDER,
        regression.coef_[0].tolist(),
        float(regression.intercept_[0]),
        float(raw.mean()),
        beta,
    )


def text_column(
    score: TextScore, embeddings: np.ndarray, texts: Sequence[str], rows: np.ndarray
) -> np.ndarray:
    """The ``text_score`` column for ``rows`` (NaN where a row has no text)."""
    return score.logit_of(embeddings[rows], [texts[i] for i in rows])


def text_lift(
    embeddings: np.ndarray,
    texts: Sequence[str],
    y: np.ndarray,
    folds: list[Fold],
    base_margins: list[np.ndarray],
) -> dict:
    """The text score's measured gain over ``base_margins`` (the chosen model's fold margins), and the
    stacked fold margins (``stacked``) that calibrate the model when the text is kept."""
    ys = [y[f.valid] for f in folds]
    text = [
        np.nan_to_num(
            text_column(fit_text_score(embeddings, texts, y, f.train, []), embeddings, texts, f.valid)
        )
        for f in folds
    ]

    def loss(beta: float) -> float:
        out = []
        for yk, m, t in zip(ys, base_margins, text, strict=True):
            p = np.clip(sigmoid(m + beta * t), 1e-12, 1 - 1e-12)
            out.append(-np.mean(yk * np.log(p) + (1 - yk) * np.log(1 - p)))
        return float(np.mean(out))

    beta = min(BETAS, key=loss)
    stacked = [m + beta * t for m, t in zip(base_margins, text, strict=True)]
    gain = paired_gain(ys, base_margins, stacked)
    kept = beta > 0 and gain["low"] > 0
    alone_auc = round(float(np.mean([auc(yk, t) for yk, t in zip(ys, text, strict=True)])), 4)
    return {
        "beta": beta,
        "gain_auc": gain,
        "text_alone_auc": alone_auc,
        "kept": kept,
        "stacked": stacked,
        "verdict": (
            f"the text score adds {gain['gain']:+.4f} fold AUC [{gain['low']:+.4f}, {gain['high']:+.4f}]"
            + (" and earns its place" if kept else "; not kept (the interval reaches zero or below)")
            + f"; the text score alone ranks at fold AUC {alone_auc:.3f}"
        ),
    }
