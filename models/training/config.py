"""How a model is trained, as settings read it: no numerical library is imported here."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class TrainConfig:
    max_depth: int = 4
    """Depth 4 keeps exact TreeSHAP reasons ~5x cheaper than depth 6 (cost grows with leaves x depth^2)."""
    learning_rate: float = 0.05
    max_rounds: int = 1000
    early_stopping_rounds: int = 50
    min_child_weight: float = 2.0
    subsample: float = 0.8
    colsample_bytree: float = 0.8
    reg_lambda: float = 1.0
    balance_classes: bool = True
    test_fraction: float = 0.2
    valid_fraction: float = 0.2
    seed: int = 42
    nthread: int = 0


MODEL_CHOICES = ("auto", "xgboost", "scorecard", "blend", "previous")
