"""Reasons and mitigants in words: each feature with its value, the way it moved the risk, and where
the value stands among past applicants ("Debt-to-income ratio 6.5% — lower than 82% of past applicants").

A mitigant is a numeric feature whose contribution lowers this case's log-odds by more than the
policy's ``mitigant_below``; a category or a missing value is never a mitigant by itself (a state or
"no delinquency recorded" says nothing an officer can lean on). Reasons keep their fixed texts from
the spec; the detail adds value and position.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from models.data.formats import is_missing
from models.data.policy import Policy
from models.data.population import Population
from models.data.spec import DatasetSpec

MAX_MITIGANTS = 3


def plain(value: Any) -> Any:
    """A NumPy scalar or NaN as plain JSON-able Python (None for NaN)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def feature_detail(spec: DatasetSpec, population: Population | None, feature: str, value: Any) -> str:
    """``Name value — standing``; ``Name: none recorded`` for a missing value."""
    name = spec.display_name(feature)
    if is_missing(value):
        return f"{name}: none recorded"
    standing = population.standing(feature, value) if population and feature in spec.numeric else None
    return f"{name} {spec.shown(feature, value)}" + (f" — {standing}" if standing else "")


def value_standing(spec: DatasetSpec, population: Population | None, feature: str, value: Any) -> str:
    """``1.43%, higher than 97% of past applicants``; ``none recorded`` for a missing value."""
    if is_missing(value):
        return "none recorded"
    standing = population.standing(feature, value) if population and feature in spec.numeric else None
    return spec.shown(feature, value) + (f", {standing}" if standing else "")


def reason_wording(spec: DatasetSpec, population: Population | None, feature: str, value: Any) -> str:
    """The spec's fixed reason text, unless the value's standing contradicts it (``is high`` for a value
    below the median, as interactions can make a low value add risk): then the neutral fixed text."""
    direction = spec.monotone.get(feature, 0)
    position = population.position(feature, value) if population and not is_missing(value) else None
    if direction and position is not None and (position - 0.5) * direction < 0:
        return f"{spec.display_name(feature)} raises the estimated risk"
    return spec.reason_text(feature)


def explained(
    spec: DatasetSpec, population: Population | None, feature: str, value: Any, contribution: float
) -> dict[str, Any]:
    """One feature's part in the score, as the memo, the workbench, chat and notices state it."""
    value = plain(value)
    position = population.position(feature, value) if population else None
    return {
        "feature": feature,
        "name": spec.display_name(feature),
        "value": value,
        "shown": spec.shown(feature, value),
        "position": None if position is None else round(position, 4),
        "contribution": round(float(contribution), 4),
        "effect": "raises risk" if contribution > 0 else "lowers risk",
        "detail": feature_detail(spec, population, feature, value),
    }


def find_mitigants(
    spec: DatasetSpec,
    policy: Policy,
    population: Population | None,
    features: list[str],
    contributions: np.ndarray,
    values: dict[str, Any],
) -> list[dict[str, Any]]:
    """Up to three numeric, present features that lower this case's risk by a material amount."""
    out = []
    for i in np.argsort(contributions, kind="stable"):
        feature = features[int(i)]
        value = plain(values.get(feature))
        if contributions[i] >= policy.explanations.mitigant_below:
            break
        if feature not in spec.numeric or is_missing(value):
            continue
        out.append(explained(spec, population, feature, value, float(contributions[i])))
        if len(out) == MAX_MITIGANTS:
            break
    return out
