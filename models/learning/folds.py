"""Validation folds inside the training period, and fold figures with intervals.

With a date, folds are rolling-origin: the training period is cut by date into an initial
block and ``n_folds`` later blocks; fold k trains on everything before block k and validates
on block k, so every fold predicts a period it has not seen, as the model will in use.
Without a date, folds are stratified. Folds are built from the training-period rows the
caller passes, so the test rows cannot enter them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.learning import metrics

BOOTSTRAP_DRAWS = 200
INTERVAL = 0.9


@dataclass(frozen=True)
class Fold:
    train: np.ndarray
    valid: np.ndarray
    label: str


def time_folds(
    days: np.ndarray, rows: np.ndarray, n_folds: int = 3, initial_share: float = 0.4
) -> list[Fold]:
    """Rolling-origin folds over ``rows`` (indices into ``days``). Rows on one day stay in one block."""
    period = days[rows].astype("int64")
    shares = initial_share + (1 - initial_share) * np.arange(n_folds + 1) / n_folds
    cuts = np.unique(np.quantile(period, shares[:-1], method="lower"))
    folds = []
    for k in range(len(cuts)):
        start, end = cuts[k], (cuts[k + 1] if k + 1 < len(cuts) else period.max() + 1)
        train, valid = rows[period < start], rows[(period >= start) & (period < end)]
        if len(train) and len(valid):
            folds.append(
                Fold(
                    train,
                    valid,
                    f"{_day(period[period < start].min())}..{_day(start - 1)} -> "
                    f"{_day(start)}..{_day(end - 1)}",
                )
            )
    return folds


def stratified_folds(y: np.ndarray, rows: np.ndarray, n_folds: int = 5, seed: int = 42) -> list[Fold]:
    from sklearn.model_selection import StratifiedKFold

    splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    return [
        Fold(rows[train], rows[valid], f"stratified {k + 1}/{n_folds}")
        for k, (train, valid) in enumerate(splitter.split(rows, y[rows]))
    ]


def usable(folds: list[Fold], y: np.ndarray) -> list[Fold]:
    """Folds whose training and validation rows both hold defaults and non-defaults."""
    return [f for f in folds if len(np.unique(y[f.train])) == 2 and len(np.unique(y[f.valid])) == 2]


def _day(epoch_days: int) -> str:
    return str(np.datetime64(int(epoch_days), "D"))


def _metric(name: str, y: np.ndarray, p: np.ndarray) -> float:
    if name == "auc":
        return metrics.auc(y, p)
    if name == "brier":
        return metrics.brier(y, p)
    return metrics.log_loss(y, p)


def fold_figures(ys: list[np.ndarray], ps: list[np.ndarray], seed: int = 0) -> dict[str, dict]:
    """AUC, Brier and log loss: per fold, their mean over folds, and a 90% bootstrap interval of that
    mean (rows redrawn within each fold)."""
    rng = np.random.default_rng(seed)
    draws = [[rng.integers(0, len(y), len(y)) for _ in range(BOOTSTRAP_DRAWS)] for y in ys]
    out = {}
    for name in ("auc", "brier", "log_loss"):
        per_fold = [_metric(name, y, p) for y, p in zip(ys, ps, strict=True)]
        boot = np.array(
            [
                np.nanmean([_metric(name, y[d[i]], p[d[i]]) for y, p, d in zip(ys, ps, draws, strict=True)])
                for i in range(BOOTSTRAP_DRAWS)
            ]
        )
        tail = (1 - INTERVAL) / 2
        out[name] = {
            "mean": round(float(np.mean(per_fold)), 4),
            "low": round(float(np.nanquantile(boot, tail)), 4),
            "high": round(float(np.nanquantile(boot, 1 - tail)), 4),
            "folds": [round(v, 4) for v in per_fold],
        }
    return out


def paired_gain(
    ys: list[np.ndarray], base: list[np.ndarray], other: list[np.ndarray], seed: int = 0
) -> dict[str, float]:
    """Mean fold AUC gain of ``other`` over ``base`` on the same rows, with a 90% bootstrap interval."""
    rng = np.random.default_rng(seed)
    gains = [metrics.auc(y, o) - metrics.auc(y, b) for y, b, o in zip(ys, base, other, strict=True)]
    boot = []
    for _ in range(BOOTSTRAP_DRAWS):
        draw = []
        for y, b, o in zip(ys, base, other, strict=True):
            i = rng.integers(0, len(y), len(y))
            draw.append(metrics.auc(y[i], o[i]) - metrics.auc(y[i], b[i]))
        boot.append(np.nanmean(draw))
    tail = (1 - INTERVAL) / 2
    return {
        "gain": round(float(np.mean(gains)), 4),
        "low": round(float(np.nanquantile(boot, tail)), 4),
        "high": round(float(np.nanquantile(boot, 1 - tail)), 4),
    }
