"""Credit-model metrics: discrimination, calibration and stability."""

from __future__ import annotations

import numpy as np
import pandas as pd

EPS = 1e-12


def auc(y: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve via the rank-sum statistic (ties get average ranks)."""
    y = np.asarray(y)
    ranks = pd.Series(np.asarray(score, dtype=float)).rank(method="average").to_numpy()
    n_pos, n_neg = int((y == 1).sum()), int((y == 0).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    return float((ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def ks(y: np.ndarray, score: np.ndarray) -> float:
    """Kolmogorov-Smirnov: largest gap between the score CDFs of defaults and non-defaults."""
    y, score = np.asarray(y), np.asarray(score, dtype=float)
    thresholds = np.unique(score)
    pos = np.searchsorted(np.sort(score[y == 1]), thresholds, side="right") / max((y == 1).sum(), 1)
    neg = np.searchsorted(np.sort(score[y == 0]), thresholds, side="right") / max((y == 0).sum(), 1)
    return float(np.max(np.abs(pos - neg))) if len(thresholds) else float("nan")


def brier(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean((np.asarray(p, dtype=float) - np.asarray(y)) ** 2))


def log_loss(y: np.ndarray, p: np.ndarray) -> float:
    p = np.clip(np.asarray(p, dtype=float), EPS, 1 - EPS)
    y = np.asarray(y)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Mean |observed rate - mean PD| over equal-count PD bins, weighted by bin size."""
    table = calibration_bins(y, p, bins)
    return float(np.sum(table["count"] * np.abs(table["observed"] - table["mean_pd"])) / table["count"].sum())


def calibration_bins(y: np.ndarray, p: np.ndarray, bins: int = 10) -> pd.DataFrame:
    frame = pd.DataFrame({"y": np.asarray(y), "p": np.asarray(p, dtype=float)})
    frame["bin"] = pd.qcut(frame["p"].rank(method="first"), q=min(bins, len(frame)), labels=False)
    grouped = frame.groupby("bin")
    return pd.DataFrame(
        {"count": grouped.size(), "mean_pd": grouped["p"].mean(), "observed": grouped["y"].mean()}
    )


def calibration_by_grade(y: np.ndarray, p: np.ndarray, grades: np.ndarray, order: list[str]) -> list[dict]:
    frame = pd.DataFrame({"y": np.asarray(y), "p": np.asarray(p, dtype=float), "grade": grades})
    rows = []
    for grade in order:
        part = frame[frame["grade"] == grade]
        rows.append(
            {
                "grade": grade,
                "count": len(part),
                "mean_pd": round(float(part["p"].mean()), 5) if len(part) else None,
                "observed_default_rate": round(float(part["y"].mean()), 5) if len(part) else None,
            }
        )
    return rows


def psi_reference(expected: np.ndarray, bins: int = 10) -> dict[str, list[float]]:
    """Inner decile edges of a reference score and the share in each bin, for later PSI checks."""
    expected = np.asarray(expected, dtype=float)
    inner = np.unique(np.quantile(expected, np.linspace(0, 1, bins + 1))[1:-1])
    shares = np.histogram(expected, np.concatenate([[-np.inf], inner, [np.inf]]))[0] / len(expected)
    return {"edges": inner.tolist(), "shares": shares.tolist()}


def psi_against(reference: dict[str, list[float]], actual: np.ndarray) -> float:
    """Population stability index of ``actual`` against a stored ``psi_reference``."""
    edges = np.concatenate([[-np.inf], reference["edges"], [np.inf]])
    e = np.maximum(np.asarray(reference["shares"]), 1e-4)
    a = np.maximum(np.histogram(np.asarray(actual, dtype=float), edges)[0] / len(actual), 1e-4)
    return float(np.sum((a - e) * np.log(a / e)))


def psi(expected: np.ndarray, actual: np.ndarray, bins: int = 10) -> float:
    """Population stability index of ``actual`` against ``expected`` over its deciles."""
    return psi_against(psi_reference(expected, bins), actual)


def summary(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    value = auc(y, p)
    return {
        "rows": len(y),
        "default_rate": round(float(np.mean(y)), 5),
        "auc": round(value, 4),
        "gini": round(2 * value - 1, 4),
        "ks": round(ks(y, p), 4),
        "brier": round(brier(y, p), 5),
        "log_loss": round(log_loss(y, p), 5),
        "ece": round(expected_calibration_error(y, p), 5),
        "mean_pd": round(float(np.mean(p)), 5),
    }
