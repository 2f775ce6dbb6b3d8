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

import numpy as np

from models.calibration import sigmoid
from models.folds import Fold, paired_gain

BETAS = (0.0, 0.25, 0.5, 1.0)
TEXT_C = 0.3


def joined_texts(frame, columns: Sequence[str]) -> list[str]:  # type: ignore[no-untyped-def]
    parts = frame[list(columns)].fillna("").astype(str)
    return [" ".join(v for v in row if v.strip()) for row in parts.itertuples(index=False, name=None)]


def text_lift(
    embeddings: np.ndarray, y: np.ndarray, folds: list[Fold], base_margins: list[np.ndarray]
) -> dict:
    """The text score's measured gain over ``base_margins`` (the chosen model's fold margins)."""
    from sklearn.linear_model import LogisticRegression

    ys = [y[f.valid] for f in folds]
    text = []
    for fold in folds:
        regression = LogisticRegression(C=TEXT_C, max_iter=2000).fit(embeddings[fold.train], y[fold.train])
        text.append(regression.decision_function(embeddings[fold.valid]))

    def loss(beta: float) -> float:
        out = []
        for yk, m, t in zip(ys, base_margins, text, strict=True):
            p = np.clip(sigmoid(m + beta * t), 1e-12, 1 - 1e-12)
            out.append(-np.mean(yk * np.log(p) + (1 - yk) * np.log(1 - p)))
        return float(np.mean(out))

    beta = min(BETAS, key=loss)
    stacked = [m + beta * t for m, t in zip(base_margins, text, strict=True)]
    gain = paired_gain(ys, base_margins, stacked)
    alone = paired_gain(ys, [np.zeros_like(t) + 0.5 for t in text], text)
    kept = beta > 0 and gain["low"] > 0
    alone_auc = round(0.5 + alone["gain"], 4)
    return {
        "beta": beta,
        "gain_auc": gain,
        "text_alone_auc": alone_auc,
        "kept": kept,
        "verdict": (
            f"the text score adds {gain['gain']:+.4f} fold AUC [{gain['low']:+.4f}, {gain['high']:+.4f}]"
            + (" and earns its place" if kept else "; not kept (the interval reaches zero or below)")
            + f"; the text score alone ranks at fold AUC {alone_auc:.3f}"
        ),
    }
