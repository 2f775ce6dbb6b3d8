import numpy as np
import pandas as pd
import pytest

from models.data.policy import Policy, load_policy
from models.data.spec import load_spec
from models.errors import SpecError


def test_grade_cutoffs_are_inclusive():
    policy = load_policy("merchant")
    grades = policy.grade(np.array([0.0, 0.01, 0.0100001, 0.04, 0.5, 1.0]))
    assert grades.tolist() == ["A", "A", "B", "C", "G", "G"]


def test_hard_stops_make_the_band_stricter_never_looser():
    policy = load_policy("merchant")
    frame = pd.DataFrame(
        {
            "dispute_rate": [0.02, 0.001, 0.001, 0.02],
            "negative_balance_days": [0, 0, 0, 0],
            "delivery_lag_days": [0, 0, 200, 0],
            "requested_amount": [10, 10, 10, 10],
            "monthly_volume": [100, 100, 100, 100],
        }
    )
    pd_ = np.array([0.005, 0.005, 0.005, 0.5])
    grades, bands, flags = policy.apply(pd_, frame)
    assert bands.tolist() == ["refer", "approve", "decline", "decline"]
    assert (
        flags[0] == "DISPUTE_RATE_ABOVE_1PCT" and flags[1] == "" and flags[2] == "DELIVERY_LAG_OVER_180_DAYS"
    )
    assert grades.tolist()[:3] == ["A", "A", "A"]


def test_column_relative_rule():
    policy = load_policy("merchant")
    frame = pd.DataFrame(
        {
            "dispute_rate": [0.0, 0.0],
            "negative_balance_days": [0, 0],
            "delivery_lag_days": [0, 0],
            "requested_amount": [301.0, 299.0],
            "monthly_volume": [100.0, 100.0],
        }
    )
    _, bands, flags = policy.apply(np.array([0.001, 0.001]), frame)
    assert flags == ["REQUEST_OVER_3X_MONTHLY_VOLUME", ""] and bands.tolist() == [
        "refer",
        "approve",
    ]


def test_policy_must_fit_the_dataset():
    with pytest.raises(SpecError, match="dispute_rate"):
        load_policy("merchant").check_columns(load_spec("lending_club"))
    load_policy("generic").check_columns(load_spec("lending_club"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"grades": {"A": 0.2, "B": 0.1, "C": 1.0}}, "strictly increasing"),
        ({"grades": {"A": 0.2, "B": 0.5}}, "must be 1.0"),
        ({"bands": {"approve": 0.3, "refer": 0.1}}, "approve"),
    ],
)
def test_invalid_policies_are_refused(change, message):
    raw = load_policy("generic").model_dump()
    raw.update(change)
    with pytest.raises(ValueError, match=message):
        Policy.model_validate(raw)
