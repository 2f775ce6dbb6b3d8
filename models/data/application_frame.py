"""The one-row frame a model scores for an application that is not in a portfolio file."""

from __future__ import annotations

from typing import Any

import pandas as pd

from models.data.spec import DatasetSpec


def application_frame(spec: DatasetSpec, row: dict[str, Any], *, name: str, decided_at: str) -> pd.DataFrame:
    """``row`` as a frame dated ``decided_at`` (the spec's date column) and named for the memo."""
    frame = pd.DataFrame([row])
    if spec.date is not None:
        frame[spec.date.column] = decided_at
    frame["legal_name"] = name.strip() or "New applicant"
    return frame
