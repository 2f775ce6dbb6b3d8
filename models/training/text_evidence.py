"""The borrower's text in training: measured in the folds, stacked on the model only when it earns it.

``--text auto`` (the default) tries the spec's text columns when the file has at most
``AUTO_TEXT_ROWS`` labelled rows (embedding costs about 45 texts a second on an AVX2 laptop);
``on`` always tries them; ``off`` never. When the folds keep the text (:func:`text_lift`), the
model ships as :class:`~models.learning.predictors.TextStackedPredictor` with the encoder's ``text_score``
column, and the calibrator is refitted on the stacked fold margins; otherwise nothing changes and
the report says what was measured.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from models.data.dataset import Dataset
from models.errors import UnderwriterError
from models.learning.calibration import PlattCalibrator
from models.learning.features import FeatureEncoder
from models.learning.folds import Fold
from models.learning.predictors import Predictor, TextStackedPredictor
from models.learning.text_signal import (
    TextScore,
    embed_texts,
    fit_text_score,
    joined_texts,
    text_column,
    text_lift,
)
from models.training.choice import Choice

TEXT_MODES = ("auto", "on", "off")
AUTO_TEXT_ROWS = 5_000


@dataclass
class TextEvidence:
    report: dict | None = None
    embeddings: np.ndarray | None = None
    texts: list[str] | None = None
    y: np.ndarray | None = None
    beta: float = 0.0

    @property
    def kept(self) -> bool:
        return bool(self.report and self.report["kept"])

    @classmethod
    def gather(
        cls, dataset: Dataset, y: np.ndarray, folds: list[Fold], choice: Choice, mode: str, progress: bool
    ) -> TextEvidence:
        """Measure the text in the folds; when kept, recalibrate ``choice`` on the stacked margins."""
        if mode not in TEXT_MODES:
            raise UnderwriterError(f"--text must be one of {', '.join(TEXT_MODES)}, not {mode!r}")
        columns = dataset.spec.text
        if not columns or mode == "off":
            return cls()
        if mode == "auto" and len(dataset) > AUTO_TEXT_ROWS:
            return cls(
                {
                    "kept": False,
                    "columns": columns,
                    "verdict": f"not tried: {len(dataset):,} rows is more "
                    f"than --text auto embeds ({AUTO_TEXT_ROWS:,}); pass --text on to measure it",
                }
            )
        texts = joined_texts(dataset.frame, columns)
        embeddings = embed_texts(texts, progress=progress)
        lift = text_lift(embeddings, texts, y, folds, choice.fold_margins)
        stacked = lift.pop("stacked")
        report = {**lift, "columns": columns, "embedder": "minilm"}
        if lift["kept"]:
            last, pooled = stacked[-1], np.concatenate(stacked)
            latest = dataset.dates is not None
            choice.calibrator = PlattCalibrator.fit(
                last if latest else pooled,
                y[folds[-1].valid] if latest else np.concatenate([y[f.valid] for f in folds]),
            )
            choice.oof_margin = pooled
        return cls(report, embeddings, texts, y, float(lift["beta"]))

    def _score(self, rows: np.ndarray, columns: list[str]) -> TextScore:
        assert self.embeddings is not None and self.texts is not None and self.y is not None
        return fit_text_score(self.embeddings, self.texts, self.y, rows, columns, self.beta)

    def stack(self, predictor: Predictor, rows: np.ndarray) -> Predictor:
        """The predictor with the text score fitted on ``rows`` stacked on it (unchanged when not kept)."""
        if not self.kept:
            return predictor
        assert self.report is not None
        return TextStackedPredictor(predictor, self.beta, self._score(rows, list(self.report["columns"])))

    def with_column(self, x: np.ndarray, predictor: Predictor) -> np.ndarray:
        """``x`` with the predictor's text score as its last column, when it has one."""
        score = predictor.score if isinstance(predictor, TextStackedPredictor) else None
        if score is None:
            return x
        assert self.embeddings is not None and self.texts is not None
        column = text_column(score, self.embeddings, self.texts, np.arange(len(x)))
        return np.column_stack([x, column.astype(np.float32)])

    def encoder(self, base: FeatureEncoder, predictor: Predictor) -> FeatureEncoder:
        score = predictor.score if isinstance(predictor, TextStackedPredictor) else None
        return replace(base, text=score) if score is not None else base
