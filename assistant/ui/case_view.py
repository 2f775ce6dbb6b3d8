"""What a case page shows beside the case file: the waterfall of the explanation the case holds,
where its PD stands in the portfolio, the monthly series, and notes on how it was read."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from assistant.case.schema import CaseFile
from models.data.spec import DatasetSpec

WATERFALL_INPUTS = 8
"""Inputs drawn one by one; the rest are summed as "other inputs"."""


@dataclass
class CaseView:
    case: CaseFile
    row: pd.DataFrame
    percentile: float | None
    attribution: list[tuple[str, float]]
    """(input, contribution in log-odds), largest first, the rest summed as "other inputs"."""
    base_margin: float
    pd_of_margin: dict[float, float]
    monthly: pd.DataFrame | None
    notes: list[str]
    seconds: float
    similar_note: str | None = None
    """Why no similar cases are shown (the library is still being built), else None."""


def case_view(
    case: CaseFile,
    row: pd.DataFrame,
    spec: DatasetSpec,
    *,
    portfolio_pd: np.ndarray | None,
    monthly: pd.DataFrame | None,
    notes: list[str],
    started: float,
    similar_note: str | None,
) -> CaseView:
    """The page's view of ``case``: nothing is scored again (the waterfall is the case's own)."""
    waterfall = case.score.waterfall
    attribution: list[tuple[str, float]] = []
    base, pd_of_margin = 0.0, {}
    if waterfall is not None:
        attribution = _attribution(spec, row, waterfall.contributions)
        base = waterfall.base_margin
        pd_of_margin = {base: waterfall.base_pd, waterfall.final_margin: waterfall.final_pd}
    percentile = None
    if portfolio_pd is not None and case.score.pd is not None:
        percentile = float((portfolio_pd < case.scored_pd()).mean())
    return CaseView(
        case=case,
        row=row,
        percentile=percentile,
        attribution=attribution,
        base_margin=base,
        pd_of_margin=pd_of_margin,
        monthly=monthly,
        notes=notes,
        seconds=time.perf_counter() - started,
        similar_note=similar_note,
    )


def _attribution(
    spec: DatasetSpec, row: pd.DataFrame, contributions: dict[str, float]
) -> list[tuple[str, float]]:
    names = list(contributions)
    values = np.array([contributions[f] for f in names])
    order = np.argsort(-np.abs(values), kind="stable")
    items = [
        (f"{spec.display_name(names[i])} = {_shown(row, names[i])}", float(values[i]))
        for i in order[:WATERFALL_INPUTS]
    ]
    if len(order) > WATERFALL_INPUTS:
        rest = float(values[order[WATERFALL_INPUTS:]].sum())
        items.append((f"{len(order) - WATERFALL_INPUTS} other inputs", rest))
    return items


def _shown(row: pd.DataFrame, column: str) -> str:
    if column not in row:
        return "?"
    value = row[column].iloc[0]
    if isinstance(value, float | np.floating):
        return f"{value:,.4g}"
    return str(value)
