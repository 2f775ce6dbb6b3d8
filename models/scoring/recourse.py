"""Recourse: the smallest change in what an applicant can change that moves a refer or decline one band
better, found by searching the model itself and checked by re-scoring.

Only the spec's ``actionable`` features are searched (never country, industry or history). A tree
model's risk changes only where one of its splits on a feature lies, so the candidate values are the
model's own split points on that feature (just below and at each), the policy's hard-stop thresholds
and the training population's quantiles, each rounded to the step its format shows (so the figure
stated is the figure scored) and kept inside the range past applicants had. Monotone features are
moved only in the direction that lowers risk. Every candidate row is scored through the same model,
calibrator and policy as the case (hard stops included); the smallest move, in population quantiles,
that reaches the next better band wins. One feature at a time first; when none suffices, pairs.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from models.data.formats import display_step
from models.data.policy import BANDS
from models.scoring.score import score_matrix
from models.store.artifacts import RiskModel

MAX_OPTIONS = 3
PAIR_CANDIDATES = 24
"""Per feature, the nearest candidates combined when a pair of changes is needed."""


@dataclass
class Change:
    feature: str
    name: str
    current: float
    proposed: float
    current_shown: str
    proposed_shown: str
    direction: int
    """-1: lower, +1: higher."""
    monotone: bool
    """True when the model's monotone constraint guarantees any further move is at least as good."""
    at_limit: bool = False
    """The proposed value is the lowest (or highest) any past applicant had: nothing lies beyond it."""

    def phrase(self) -> str:
        if self.monotone and not self.at_limit:
            bound = "or lower" if self.direction < 0 else "or higher"
            return f"{self.name.lower()} at {self.proposed_shown} {bound} (now {self.current_shown})"
        return f"{self.name.lower()} of {self.proposed_shown} (now {self.current_shown})"


@dataclass
class RecourseOption:
    changes: list[Change]
    band: str
    pd: float
    grade: str
    cost: float
    """How far the case moves, in population quantiles summed over the changes."""

    @property
    def text(self) -> str:
        what = " and ".join(c.phrase() for c in self.changes)
        return f"{what[0].upper()}{what[1:]} would move the band to {self.band} (PD {self.pd:.1%}, grade {self.grade})"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "text": self.text}


@dataclass
class Recourse:
    band: str
    target: str | None
    searched: list[str]
    searched_names: list[str] = field(default_factory=list)
    options: list[RecourseOption] = field(default_factory=list)

    @property
    def feasible(self) -> bool:
        return bool(self.options)

    def to_dict(self) -> dict[str, Any]:
        return {
            "band": self.band,
            "target": self.target,
            "searched": self.searched,
            "searched_names": self.searched_names,
            "feasible": self.feasible,
            "options": [o.to_dict() for o in self.options],
        }


def find_recourse(model: RiskModel, row: pd.DataFrame, *, nthread: int = 0) -> Recourse:
    """For a refer or decline, the smallest actionable changes that reach the next better band."""
    if len(row) != 1:
        raise ValueError("find_recourse takes a one-row frame")
    row = row.reset_index(drop=True)
    current = _score(model, row, nthread).iloc[0]
    band = str(current["band"])
    target = model.policy.next_better_band(band)
    searched = [f for f in model.spec.actionable if f in row.columns and _finite(row[f].iloc[0])]
    out = Recourse(band, target, searched, [model.spec.display_name(f).lower() for f in searched])
    if target is None or not searched:
        return out
    candidates = {f: _candidates(model, row, f) for f in searched}
    singles = []
    for feature, values in candidates.items():
        option = _best(model, row, [(feature, v) for v in values], target, nthread)
        if option is not None:
            singles.append(option)
    if singles:
        out.options = sorted(singles, key=lambda o: o.cost)[:MAX_OPTIONS]
        return out
    pairs = []
    for a, b in itertools.combinations(searched, 2):
        grid = [
            [(a, va), (b, vb)]
            for va, vb in itertools.product(candidates[a][:PAIR_CANDIDATES], candidates[b][:PAIR_CANDIDATES])
        ]
        option = _best_of_grid(model, row, grid, target, nthread)
        if option is not None:
            pairs.append(option)
    out.options = sorted(pairs, key=lambda o: o.cost)[:1]
    return out


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _score(model: RiskModel, frame: pd.DataFrame, nthread: int) -> pd.DataFrame:
    x, _ = model.encoder.transform(frame)
    scored, _ = score_matrix(model, x, frame, nthread=nthread, reasons="none")
    return scored


_SPLITS: dict[str, dict[str, list[float]]] = {}
"""Split points per feature, by model id (which identifies the booster exactly): read once per model."""


def _split_points(model: RiskModel, feature: str) -> list[float]:
    if model.model_id not in _SPLITS:
        try:
            trees = model.booster.trees_to_dataframe()
        except AttributeError:  # a scorecard: its population quantiles cover its bins well enough
            _SPLITS[model.model_id] = {}
        else:
            splits = trees.dropna(subset=["Split"]).groupby("Feature")["Split"].unique()
            _SPLITS[model.model_id] = {str(f): [float(v) for v in values] for f, values in splits.items()}
    return _SPLITS[model.model_id].get(feature, [])


def _stop_points(model: RiskModel, row: pd.DataFrame, feature: str) -> list[float]:
    points = []
    for stop in model.policy.hard_stops:
        if stop.column != feature:
            continue
        if stop.value is not None:
            points.append(float(stop.value))
        elif stop.value_column and _finite(row[stop.value_column].iloc[0]):
            points.append(float(row[stop.value_column].iloc[0]) * stop.multiplier)
    return points


def _candidates(model: RiskModel, row: pd.DataFrame, feature: str) -> list[float]:
    """Values to try for ``feature``, nearest first, each rounded to the step its format shows."""
    now = float(row[feature].iloc[0])
    fmt = model.spec.format_of(feature)
    population = model.population.quantiles.get(feature) if model.population else None
    low, high = (min(population), max(population)) if population else (-math.inf, math.inf)
    direction = -model.spec.monotone.get(feature, 0)  # risk falls this way; 0: either way
    points = _split_points(model, feature) + _stop_points(model, row, feature) + list(population or [])
    values = set()
    for p in points:
        step = display_step(p, fmt)
        for v in (math.floor((p - step / 2) / step) * step, math.ceil(p / step) * step):
            v = round(v, 10)
            moves = v - now
            if moves == 0 or (direction and np.sign(moves) != direction) or not low <= v <= high:
                continue
            values.add(v)
    return sorted(values, key=lambda v: _cost(model, feature, now, v))


def _at_limit(model: RiskModel, feature: str, value: float) -> bool:
    quantiles = model.population.quantiles.get(feature) if model.population else None
    return bool(quantiles) and value in (min(quantiles), max(quantiles))  # type: ignore[arg-type]


def _cost(model: RiskModel, feature: str, now: float, value: float) -> float:
    if model.population and feature in model.population.quantiles:
        a = model.population.position(feature, now) or 0.0
        b = model.population.position(feature, value) or 0.0
        return abs(b - a) + 1e-9 * abs(value - now) / max(abs(now), 1.0)
    return abs(value - now) / max(abs(now), 1.0)


def _best(
    model: RiskModel, row: pd.DataFrame, moves: list[tuple[str, float]], target: str, nthread: int
) -> RecourseOption | None:
    return _best_of_grid(model, row, [[m] for m in moves], target, nthread)


def _best_of_grid(
    model: RiskModel, row: pd.DataFrame, grid: list[list[tuple[str, float]]], target: str, nthread: int
) -> RecourseOption | None:
    """Score every set of changes at once; the cheapest that reaches ``target`` or better."""
    if not grid:
        return None
    frame = row.loc[row.index.repeat(len(grid))].reset_index(drop=True)
    for column in {f for changes in grid for f, _ in changes}:
        frame[column] = frame[column].astype(float)
    for i, changes in enumerate(grid):
        for feature, value in changes:
            frame.loc[i, feature] = value
    scored = _score(model, frame, nthread)
    reached = np.flatnonzero(scored["band"].map(BANDS.index).to_numpy() <= BANDS.index(target))
    if not len(reached):
        return None
    now = {f: float(row[f].iloc[0]) for changes in grid for f, _ in changes}
    costs = [sum(_cost(model, f, now[f], v) for f, v in grid[i]) for i in reached]
    best = int(reached[int(np.argmin(costs))])
    spec = model.spec
    proposed = [
        Change(
            feature=f,
            name=spec.display_name(f),
            current=now[f],
            proposed=v,
            current_shown=spec.shown(f, now[f]),
            proposed_shown=spec.shown(f, v),
            direction=int(np.sign(v - now[f])),
            monotone=spec.monotone.get(f, 0) != 0,
            at_limit=_at_limit(model, f, v),
        )
        for f, v in grid[best]
    ]
    hit = scored.iloc[best]
    return RecourseOption(proposed, str(hit["band"]), float(hit["pd"]), str(hit["grade"]), float(min(costs)))
