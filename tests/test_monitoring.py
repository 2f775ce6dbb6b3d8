"""Portfolio health checks, on synthetic numbers where the answer is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.learning import metrics
from models.portfolio_health import binomial_p_value, grade_calibration, portfolio_health, psi_status


def test_psi_status_thresholds_and_small_samples() -> None:
    assert psi_status(0.05, 5000) == "ok"
    assert psi_status(0.15, 5000) == "watch"
    assert psi_status(0.30, 5000) == "act"
    assert psi_status(3.0, 20) == "too few"  # ten bins over twenty rows say nothing


def test_calibration_acts_only_on_a_clear_miss() -> None:
    rng = np.random.default_rng(3)
    n = 2000
    p = np.full(n, 0.05)
    grades = np.array(["A"] * n)
    calibrated = (rng.random(n) < 0.05).astype(int)
    doubled = (rng.random(n) < 0.10).astype(int)
    [ok] = grade_calibration(calibrated, p, grades, ["A"])
    [bad] = grade_calibration(doubled, p, grades, ["A"])
    assert ok.status == "ok" and bad.status == "act" and bad.p_value is not None and bad.p_value < 0.001
    # two expected defaults and none seen: off in ratio, but luck, not miscalibration
    [lucky] = grade_calibration(np.zeros(200, int), np.full(200, 0.01), np.array(["B"] * 200), ["B"])
    assert lucky.ratio == 0 and lucky.status == "watch"
    assert binomial_p_value(0, 200, 0.01) > 0.05
    [empty] = grade_calibration(np.zeros(0, int), np.zeros(0), np.array([]), ["C"])
    assert empty.status == "too few" and empty.count == 0


def test_portfolio_health_flags_a_shifted_population() -> None:
    rng = np.random.default_rng(5)
    train = rng.beta(2, 40, 5000)
    reference = metrics.psi_reference(train)
    same = pd.DataFrame(
        {"pd": rng.beta(2, 40, 3000), "grade": "A", "band": "approve", "x": rng.normal(0, 1, 3000)}
    )
    shifted = same.assign(pd=rng.beta(6, 40, 3000), x=rng.normal(1.5, 1, 3000))
    history = pd.DataFrame({"x": rng.normal(0, 1, 3000)})
    calm = portfolio_health(
        same, reference, ["A"], ["approve", "refer", "decline"], feature_reference=history, features=["x"]
    )
    moved = portfolio_health(
        shifted, reference, ["A"], ["approve", "refer", "decline"], feature_reference=history, features=["x"]
    )
    assert calm.score_status == "ok" and calm.actions() == []
    assert moved.score_status == "act" and moved.feature_drift[0].status == "act"
    assert any("Score drift" in a for a in moved.actions()) and any(
        "Input drift in x" in a for a in moved.actions()
    )
    assert moved.band_mix == {"approve": 3000, "refer": 0, "decline": 0}
    with pytest.raises(ValueError, match="no scored rows"):
        portfolio_health(same.iloc[:0], reference, ["A"], ["approve"])
