"""Portfolio health: the grade and band mix, calibration on outcomes so far, score drift.

Each check carries the thresholds that call for action, so a screen or a report can say
"act" rather than show a bare number. Thresholds follow common credit-model monitoring
practice: PSI below 0.10 is stable, 0.10-0.25 calls for a closer look, above 0.25 for a
review of the model; an observed/expected default ratio outside 0.8-1.25 in a grade calls for recalibration
when it is also statistically clear (two-sided binomial test, p < 0.05): a grade with
two expected defaults and none observed is luck, not miscalibration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from models.learning import metrics

PSI_WATCH = 0.10
PSI_ACT = 0.25
OE_LOW, OE_HIGH = 0.8, 1.25
MIN_OUTCOMES = 30
"""A grade needs this many known outcomes before its observed/expected ratio can call for action."""
SIGNIFICANCE = 0.05
MIN_PSI_ROWS = 100
"""PSI over ten bins means little below this many rows (a handful per bin): reported as "too few"."""

Status = Literal["ok", "watch", "act", "too few"]


def psi_status(value: float, rows: int = MIN_PSI_ROWS) -> Status:
    if rows < MIN_PSI_ROWS:
        return "too few"
    return "act" if value > PSI_ACT else "watch" if value > PSI_WATCH else "ok"


@dataclass
class GradeCalibration:
    grade: str
    count: int
    defaults: int
    mean_pd: float | None
    observed: float | None
    status: Status
    p_value: float | None = None
    """Two-sided binomial test of the defaults observed against the PDs' mean."""

    @property
    def ratio(self) -> float | None:
        if self.mean_pd is None or self.observed is None or self.mean_pd == 0:
            return None
        return self.observed / self.mean_pd


@dataclass
class FeatureDrift:
    feature: str
    psi: float
    status: Status


@dataclass
class PortfolioHealth:
    grade_mix: dict[str, int]
    band_mix: dict[str, int]
    score_psi: float
    score_status: Status
    calibration: list[GradeCalibration]
    outcomes: int
    ece: float | None
    feature_drift: list[FeatureDrift] = field(default_factory=list)

    def actions(self) -> list[str]:
        """What the thresholds call for, most urgent first; empty when all is well."""
        out = []
        if self.score_status in ("watch", "act"):
            verb = "review or retrain the model" if self.score_status == "act" else "watch the next months"
            out.append(
                f"Score drift: PSI {self.score_psi:.3f} against training (>{PSI_WATCH} watch, "
                f">{PSI_ACT} act): {verb}."
            )
        for g in self.calibration:
            if g.status == "act" and g.ratio is not None:
                out.append(
                    f"Grade {g.grade}: observed default rate {g.observed:.2%} vs mean PD {g.mean_pd:.2%} "
                    f"(ratio {g.ratio:.2f}, outside {OE_LOW}-{OE_HIGH}, p={g.p_value:.3f}): recalibrate."
                )
        for d in self.feature_drift:
            if d.status == "act":
                out.append(f"Input drift in {d.feature}: PSI {d.psi:.3f}: check the data feed and the model.")
        return out


def binomial_p_value(k: int, n: int, p: float) -> float:
    """Two-sided p-value of ``k`` defaults in ``n`` cases when each defaults with probability ``p``."""
    from scipy.stats import binom

    p = min(max(p, 1e-12), 1 - 1e-12)
    return float(min(1.0, 2 * min(binom.cdf(k, n, p), binom.sf(k - 1, n, p))))


def grade_calibration(
    y: np.ndarray, p: np.ndarray, grades: np.ndarray, order: list[str]
) -> list[GradeCalibration]:
    rows = []
    for grade in order:
        mask = grades == grade
        count = int(mask.sum())
        if count == 0:
            rows.append(GradeCalibration(grade, 0, 0, None, None, "too few"))
            continue
        mean_pd, observed = float(p[mask].mean()), float(y[mask].mean())
        defaults = int(y[mask].sum())
        p_value = binomial_p_value(defaults, count, mean_pd)
        status: Status = "too few"
        if count >= MIN_OUTCOMES:
            ratio = observed / mean_pd if mean_pd > 0 else np.inf
            off = not OE_LOW <= ratio <= OE_HIGH
            status = "act" if off and p_value < SIGNIFICANCE else "watch" if off else "ok"
        rows.append(GradeCalibration(grade, count, defaults, mean_pd, observed, status, p_value))
    return rows


def portfolio_health(
    current: pd.DataFrame,
    reference: dict[str, list[float]],
    grades: list[str],
    bands: list[str],
    *,
    outcomes: pd.DataFrame | None = None,
    feature_reference: pd.DataFrame | None = None,
    features: list[str] | None = None,
) -> PortfolioHealth:
    """``current``: scored rows (``pd``, ``grade``, ``band``) being decided now; ``reference``: the
    training score reference stored with the model; ``outcomes``: scored rows with a known 0/1
    ``outcome``; ``feature_reference``: the training population's inputs, for per-feature PSI."""
    if current.empty:
        raise ValueError("no scored rows to monitor")
    p_now = current["pd"].to_numpy(dtype=float)
    score_psi = metrics.psi_against(reference, p_now)
    calibration: list[GradeCalibration] = []
    ece = None
    n_outcomes = 0
    if outcomes is not None and len(outcomes):
        y = outcomes["outcome"].to_numpy(dtype=int)
        p = outcomes["pd"].to_numpy(dtype=float)
        calibration = grade_calibration(y, p, outcomes["grade"].to_numpy(), grades)
        ece = metrics.expected_calibration_error(y, p)
        n_outcomes = len(outcomes)
    drift = []
    for feature in features or []:
        if feature_reference is None or feature not in current or feature not in feature_reference:
            continue
        ref = pd.to_numeric(feature_reference[feature], errors="coerce").dropna().to_numpy()
        now = pd.to_numeric(current[feature], errors="coerce").dropna().to_numpy()
        if len(ref) < 10 or len(now) < 10 or np.unique(ref).size < 3:
            continue
        value = metrics.psi(ref, now)
        drift.append(FeatureDrift(feature, value, psi_status(value, min(len(ref), len(now)))))
    drift.sort(key=lambda d: -d.psi)
    return PortfolioHealth(
        grade_mix={g: int((current["grade"] == g).sum()) for g in grades},
        band_mix={b: int((current["band"] == b).sum()) for b in bands},
        score_psi=score_psi,
        score_status=psi_status(score_psi, len(p_now)),
        calibration=calibration,
        outcomes=n_outcomes,
        ece=ece,
        feature_drift=drift,
    )
