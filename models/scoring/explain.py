"""Reasons and mitigants in words: each feature with its value, the way it moved the risk, and where
the value stands among past applicants ("Debt-to-income ratio 6.5% — lower than 82% of past applicants").

A mitigant is a numeric feature whose contribution lowers this case's log-odds by more than the
policy's ``mitigant_below``; a category or a missing value is never a mitigant by itself (a state or
"no delinquency recorded" says nothing an officer can lean on). Reasons keep their fixed texts from
the spec; the detail adds value and position.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from models.data.formats import is_missing
from models.data.policy import Policy
from models.data.population import Population, standing_words
from models.data.spec import DatasetSpec

MAX_MITIGANTS = 3


def plain(value: Any) -> Any:
    """A NumPy scalar or NaN as plain JSON-able Python (None for NaN)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


@dataclass(frozen=True)
class Description:
    """One feature's value in words, from one look at where it stands among past applicants."""

    wording: str
    """The spec's fixed reason text, or the neutral one when the standing contradicts it (``is high``
    for a value below the median, as interactions can make a low value add risk)."""
    detail: str
    """``Name value — standing``; ``Name: none recorded`` for a missing value."""
    standing: str
    """``1.43%, higher than 97% of past applicants``; ``none recorded`` for a missing value."""
    position: float | None
    """The share of past applicants below the value; None when unknown or missing."""


def describe(spec: DatasetSpec, population: Population | None, feature: str, value: Any) -> Description:
    """The wording, detail and standing of ``feature = value`` (the population asked once)."""
    name = spec.display_name(feature)
    missing = is_missing(value)
    position = population.position(feature, value) if population and not missing else None
    direction = spec.monotone.get(feature, 0)
    if direction and position is not None and (position - 0.5) * direction < 0:
        wording = f"{name} raises the estimated risk"
    else:
        wording = spec.reason_text(feature)
    if missing:
        return Description(wording, f"{name}: none recorded", "none recorded", None)
    words = standing_words(position) if feature in spec.numeric else None
    shown = spec.shown(feature, value)
    detail = f"{name} {shown}" + (f" — {words}" if words else "")
    return Description(wording, detail, shown + (f", {words}" if words else ""), position)


def explained(
    spec: DatasetSpec, population: Population | None, feature: str, value: Any, contribution: float
) -> dict[str, Any]:
    """One feature's part in the score, as the memo, the workbench, chat and notices state it."""
    value = plain(value)
    described = describe(spec, population, feature, value)
    position = described.position
    return {
        "feature": feature,
        "name": spec.display_name(feature),
        "value": value,
        "shown": spec.shown(feature, value),
        "position": None if position is None else round(position, 4),
        "contribution": round(float(contribution), 4),
        "effect": "raises risk" if contribution > 0 else "lowers risk",
        "detail": described.detail,
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
