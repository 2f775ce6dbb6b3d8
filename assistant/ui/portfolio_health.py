"""The portfolio screen's data: mix, calibration on known outcomes, drift against training."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pandas as pd

from assistant.ui.workbench import Workbench
from models.data.policy import BANDS
from models.data.spec import canonical_value
from models.portfolio_health import PortfolioHealth, portfolio_health


def health(bench: Workbench) -> PortfolioHealth:
    """Applicants are the population being decided now; historical merchants whose outcome
    window has passed are the outcomes so far; the training population is the reference."""
    source = bench.source
    model = source.risk_model()
    frame = source.frame
    scores = bench.work_queue.frame().set_index("merchant")
    joined = frame.join(scores[["PD", "grade", "band"]], how="inner").rename(columns={"PD": "pd"})
    current = joined[joined["status"] == "applicant"] if "status" in joined else joined
    if current.empty:
        current = joined
    outcomes = None
    label = model.spec.labelled()
    if label is not None and label.column in joined:
        values = joined[label.column].map(canonical_value)
        joined = joined.assign(
            outcome=values.map(
                lambda v: 1 if v in label.positive_values else 0 if v in label.negative_values else None
            )
        )
        known = joined[joined["outcome"].notna()]
        if "decision_date" in known:
            window = bench.settings.index.outcome_window_days
            latest = pd.to_datetime(joined["decision_date"]).max()
            cutoff = (latest - timedelta(days=window)) if pd.notna(latest) else pd.Timestamp(date.today())
            known = known[pd.to_datetime(known["decision_date"]) <= cutoff]
        outcomes = known.assign(outcome=known["outcome"].astype(int))
    training = json.loads((model.path / "metrics.json").read_text())
    reference = joined[joined["status"] == "historical"] if "status" in joined else None
    return portfolio_health(
        current,
        training["train_pd_reference"],
        list(model.policy.grades),
        list(BANDS),
        outcomes=outcomes,
        feature_reference=reference,
        features=list(model.spec.numeric),
    )
