"""Checks on merchants already on the book, month by month: the score's own moves (a PD jump, a band
downgrade, a policy rule newly tripped) and each watched feature against the merchant's own history.

A feature is checked two ways, both in units of the merchant's own variability (a robust standard
deviation: 1.4826 x the median absolute deviation of its past months, floored so a flat series does
not make every wiggle a spike):

* a **spike**: this month is ``z_alert`` deviations beyond the median of its past months (a Shewhart
  chart on robust statistics), and it moved by at least ``min_change`` of the baseline;
* a **drift**: a one-sided CUSUM of those deviations, ``S = max(0, S_prev + z - k)``, reaches ``h``:
  a slow climb that no single month shows. ``S`` is carried from month to month by the caller.

No fixed threshold on the feature itself: a 1% dispute rate is alarming for a grocer and normal for a
travel agent; a merchant is compared with itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BAND_ORDER = {"approve": 0, "refer": 1, "decline": 2}
MAD_TO_SD = 1.4826
RELATIVE_FLOOR = 0.10
"""The robust deviation is at least this share of the baseline ..."""
MIN_EVENTS = 2
"""A counted feature (days, items) must move by at least this many to matter."""


@dataclass(frozen=True)
class WatchConfig:
    pd_jump_ratio: float = 2.0
    pd_jump_min: float = 0.03
    z_alert: float = 4.0
    cusum_k: float = 0.5
    cusum_h: float = 5.0
    min_change: float = 0.25
    min_history: int = 3


@dataclass
class FeatureCheck:
    z: np.ndarray
    """Deviations of this month from each merchant's baseline, in the bad direction (NaN: too little history)."""
    baseline: np.ndarray
    cusum: np.ndarray
    spike: np.ndarray
    drift: np.ndarray


def check_feature(
    history: np.ndarray,
    current: np.ndarray,
    previous_cusum: np.ndarray,
    direction: int,
    scale_floor: float,
    config: WatchConfig,
    *,
    counts: bool = False,
) -> FeatureCheck:
    """``history``: (merchants, past months) with NaN where a month is missing; ``direction`` +1 when a rise is
    bad, -1 when a fall is; ``scale_floor``: the smallest deviation that counts (... and at least this,
    for a baseline of zero; e.g. a tenth of the population's spread); ``counts``: the feature counts
    events (days, items), whose chance variation is at least Poisson's, the square root of the mean."""
    count = np.sum(~np.isnan(history), axis=1)
    enough = count >= config.min_history
    baseline = np.full(len(current), np.nan)
    sd = np.full(len(current), np.nan)
    if history.shape[1] and enough.any():
        rows = history[enough]
        median = np.nanmedian(rows, axis=1)
        mad = np.nanmedian(np.abs(rows - median[:, None]), axis=1)
        baseline[enough] = median
        floors = [
            MAD_TO_SD * mad,
            RELATIVE_FLOOR * np.abs(median),
            np.full(len(median), max(scale_floor, 1e-9)),
        ]
        if counts:
            floors.append(np.sqrt(np.maximum(np.abs(median), 1.0)))
        sd[enough] = np.maximum.reduce(floors)
    z = direction * (current - baseline) / sd
    change = direction * (current - baseline)
    material = change >= config.min_change * np.maximum(np.abs(baseline), scale_floor)
    if counts:  # a move of one event is chance at any level
        material &= change >= MIN_EVENTS
    valid = enough & ~np.isnan(current)
    cusum = np.where(
        valid, np.maximum(0.0, np.nan_to_num(previous_cusum) + np.nan_to_num(z) - config.cusum_k), 0.0
    )
    spike = valid & (z >= config.z_alert) & material
    drift = valid & (cusum >= config.cusum_h) & material & ~spike
    return FeatureCheck(np.where(valid, z, np.nan), baseline, cusum, spike, drift)


def pd_jumps(previous_pd: np.ndarray, pd_now: np.ndarray, config: WatchConfig) -> np.ndarray:
    """PD at least ``pd_jump_ratio`` times the usual and higher by ``pd_jump_min`` (NaN usual: no check)."""
    with np.errstate(invalid="ignore"):
        return (
            ~np.isnan(previous_pd)
            & (pd_now >= config.pd_jump_ratio * previous_pd)
            & (pd_now - previous_pd >= config.pd_jump_min)
        )


def band_downgrades(
    previous_band: np.ndarray,
    band_now: np.ndarray,
    previous_pd: np.ndarray,
    pd_now: np.ndarray,
    config: WatchConfig,
) -> np.ndarray:
    """A worse band than last month, with the PD up by at least ``pd_jump_min`` on its usual level: a PD that
    crosses a band line by a hair and back is noise around the line, not a downgrade."""
    before = np.array([BAND_ORDER.get(str(b), -1) for b in previous_band])
    now = np.array([BAND_ORDER.get(str(b), -1) for b in band_now])
    with np.errstate(invalid="ignore"):
        return (before >= 0) & (now > before) & (pd_now - previous_pd >= config.pd_jump_min)


def new_flags(flag_history: np.ndarray, flags_now: np.ndarray) -> list[list[str]]:
    """The policy rules each merchant trips now and in none of its past months (``flag_history``:
    (merchants, months) of ``;``-separated flags): a rule tripped on and off is not news each time."""
    out = []
    for past, now in zip(flag_history, flags_now, strict=True):
        seen = {f for month in past if isinstance(month, str) for f in month.split(";")}
        out.append([f for f in str(now).split(";") if f and f != "nan" and f not in seen])
    return out


def usual_pd(pd_history: np.ndarray) -> np.ndarray:
    """Each merchant's median PD over its past months (NaN without any): the level a jump is measured from,
    so one noisy month is not the yardstick."""
    out = np.full(len(pd_history), np.nan)
    seen = ~np.all(np.isnan(pd_history), axis=1) if pd_history.shape[1] else np.zeros(len(pd_history), bool)
    if seen.any():
        out[seen] = np.nanmedian(pd_history[seen], axis=1)
    return out
