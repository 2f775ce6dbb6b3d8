"""A small classifier on sentence embeddings for verdict-like sentences, in any phrasing.

Word lists catch ``should be approved``; they miss ``we'd greenlight this merchant``, ``the file
passes our bar`` or ``losses are all but certain``. This model reads the sentence's meaning: a
logistic regression on the embedded MiniLM's sentence vectors (float32, so every CPU gives the same
vector), trained by ``python -m assistant.memo.verdict_training`` on ``verdict/positives.txt``
(decisions, recommendations and judgements of credit quality), ``verdict/negatives.txt`` (facts
about businesses, including the words *approved*, *declined*, *fund* used as facts) and sentences
of real 10-K filings. None of its examples shares a four-word phrase with the crafted trust set
that measures it (the training refuses one that does).

The weights (384 coefficients, an intercept and the threshold chosen by cross-validation) live in
``verdict/weights.json``; the embedder is loaded on the first sentence scored, once per process.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from retrieval.documents.semantic_screen import Embeds

WEIGHTS = Path(__file__).with_name("verdict") / "weights.json"
CITATION = re.compile(r"\s*\[[A-Z]{1,2}\d{1,3}(?:\s*[,;]\s*[A-Z]{1,2}\d{1,3})*\]")


def load_minilm() -> Embeds:
    from models.backends.embedders import load_embedder

    return load_embedder("minilm", precision="float32")


@dataclass
class VerdictModel:
    coef: np.ndarray
    intercept: float
    threshold: float
    load: Callable[[], Embeds] = load_minilm
    _embedder: Embeds | None = None
    _seen: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_file(cls, path: Path = WEIGHTS, load: Callable[[], Embeds] = load_minilm) -> VerdictModel:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            np.asarray(data["coef"], dtype=np.float64), float(data["intercept"]), data["threshold"], load
        )

    def vectors(self, sentences: Sequence[str]) -> np.ndarray:
        if self._embedder is None:
            self._embedder = self.load()
        texts = [CITATION.sub("", s).strip() for s in sentences]
        return np.asarray(self._embedder.embed(texts), dtype=np.float64)

    def probabilities(self, sentences: Sequence[str]) -> np.ndarray:
        if not sentences:
            return np.zeros(0)
        logits = self.vectors(sentences) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-logits))

    def probability(self, sentence: str) -> float:
        """One sentence's probability of being a verdict (remembered: a memo re-checks its sentences)."""
        if sentence not in self._seen:
            if len(self._seen) > 10_000:
                self._seen.clear()
            self._seen[sentence] = float(self.probabilities([sentence])[0])
        return self._seen[sentence]


@lru_cache(maxsize=1)
def verdict_model() -> VerdictModel:
    return VerdictModel.from_file()


def verdict_reason(sentence: str) -> str | None:
    """Why ``sentence`` reads as a verdict, or ``None``."""
    model = verdict_model()
    p = model.probability(sentence)
    if p >= model.threshold:
        return f"reads as a verdict (classifier {p:.2f}); verdicts come from the model and policy"
    return None
