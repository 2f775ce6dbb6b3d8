"""Champion against challenger on the same cases: how often they agree, how far the PD moves, who would be
let in or kept out by a switch, and, once outcomes are known, which ranks and calibrates better.

Swap-in: a case the challenger would approve that the champion does not; swap-out: the reverse. These
are the cases a switch changes, so their later default rate is what a promotion decision turns on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from models.learning import metrics

MIN_OUTCOMES_FOR_AUC = 20
"""Fewer outcomes (or no default among them) say nothing about ranking: the AUC is not reported."""


@dataclass
class ModelOnOutcomes:
    auc: float | None
    brier: float
    mean_pd: float
    observed: float
    ece: float


@dataclass
class ShadowComparison:
    challenger: str
    cases: int
    band_agreement: float
    bands: dict[str, dict[str, int]]
    """champion band -> challenger band -> count."""
    mean_pd_shift: float
    """Challenger minus champion, mean over the cases (positive: the challenger sees more risk)."""
    mean_abs_pd_shift: float
    swap_in: int
    swap_out: int
    outcomes: int = 0
    champion: ModelOnOutcomes | None = None
    challenger_metrics: ModelOnOutcomes | None = None
    swap_default_rates: dict[str, float | None] = field(default_factory=dict)


def compare(
    name: str,
    champion_pd: np.ndarray,
    champion_band: np.ndarray,
    challenger_pd: np.ndarray,
    challenger_band: np.ndarray,
    outcome: np.ndarray | None = None,
) -> ShadowComparison:
    """``outcome``: 1 default, 0 performed, NaN not known yet (those cases count for agreement only)."""
    champion_pd, challenger_pd = np.asarray(champion_pd, float), np.asarray(challenger_pd, float)
    champion_band, challenger_band = np.asarray(champion_band), np.asarray(challenger_band)
    if not len(champion_pd):
        raise ValueError(f"no shadow scores of {name} yet")
    bands: dict[str, dict[str, int]] = {}
    for a, b in zip(champion_band, challenger_band, strict=True):
        bands.setdefault(str(a), {}).setdefault(str(b), 0)
        bands[str(a)][str(b)] += 1
    shift = challenger_pd - champion_pd
    swap_in = (challenger_band == "approve") & (champion_band != "approve")
    swap_out = (champion_band == "approve") & (challenger_band != "approve")
    out = ShadowComparison(
        challenger=name,
        cases=len(champion_pd),
        band_agreement=float(np.mean(champion_band == challenger_band)),
        bands=bands,
        mean_pd_shift=float(shift.mean()),
        mean_abs_pd_shift=float(np.abs(shift).mean()),
        swap_in=int(swap_in.sum()),
        swap_out=int(swap_out.sum()),
    )
    if outcome is None:
        return out
    y = np.asarray(outcome, float)
    known = ~np.isnan(y)
    out.outcomes = int(known.sum())
    if not out.outcomes:
        return out
    yk = y[known].astype(int)
    out.champion = _on_outcomes(yk, champion_pd[known])
    out.challenger_metrics = _on_outcomes(yk, challenger_pd[known])
    for label, mask in (("swap_in", swap_in), ("swap_out", swap_out)):
        chosen = known & mask
        out.swap_default_rates[label] = float(y[chosen].mean()) if chosen.any() else None
    return out


def _on_outcomes(y: np.ndarray, p: np.ndarray) -> ModelOnOutcomes:
    rankable = len(y) >= MIN_OUTCOMES_FOR_AUC and 0 < y.sum() < len(y)
    return ModelOnOutcomes(
        auc=metrics.auc(y, p) if rankable else None,
        brier=metrics.brier(y, p),
        mean_pd=float(p.mean()),
        observed=float(y.mean()),
        ece=metrics.expected_calibration_error(y, p),
    )
