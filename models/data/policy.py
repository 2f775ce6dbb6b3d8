"""Credit policy: PD cut-offs for grades and bands, and hard-stop rules.

Deterministic and versioned. The band is the stricter of what the PD earns
and what any triggered hard stop demands (decline > refer > approve); no LLM
text can change it.
"""

from __future__ import annotations

import operator
from importlib import resources
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from models.data.spec import DatasetSpec
from models.errors import SpecError

BANDS = ("approve", "refer", "decline")
_OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}


class HardStop(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    column: str
    op: Literal[">", ">=", "<", "<="]
    value: float | None = None
    value_column: str | None = None
    """Compare against another column (times ``multiplier``) instead of a constant."""
    multiplier: float = 1.0
    action: Literal["refer", "decline"]
    text: str

    @model_validator(mode="after")
    def _one_threshold(self) -> HardStop:
        if (self.value is None) == (self.value_column is None):
            raise ValueError(f"hard stop {self.id}: give exactly one of `value` or `value_column`")
        return self

    def columns(self) -> list[str]:
        return [self.column] + ([self.value_column] if self.value_column else [])

    def triggered(self, frame: pd.DataFrame) -> np.ndarray:
        left = frame[self.column].to_numpy(dtype=float)
        if self.value_column:
            right = frame[self.value_column].to_numpy(dtype=float) * self.multiplier
        else:
            right = np.full(len(frame), float(self.value))  # type: ignore[arg-type]
        with np.errstate(invalid="ignore"):
            hit = _OPS[self.op](left, right)
        return np.asarray(hit & ~np.isnan(left) & ~np.isnan(right), dtype=bool)


class Explanations(BaseModel):
    """What the policy allows an explanation to say."""

    model_config = ConfigDict(extra="forbid")

    mitigant_below: float = Field(default=-0.1, le=0)
    """A feature is a mitigant only when its contribution lowers the case's log-odds below this."""
    notice_forbidden: list[str] = Field(default_factory=list)
    """Features that may never be stated as a reason on an adverse-action notice (a protected
    characteristic): a notice whose principal reasons include one is refused, for review."""


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    version: int
    grades: dict[str, float]
    bands: dict[Literal["approve", "refer"], float]
    hard_stops: list[HardStop] = Field(default_factory=list)
    explanations: Explanations = Field(default_factory=Explanations)

    @model_validator(mode="after")
    def _ordered(self) -> Policy:
        cuts = list(self.grades.values())
        if not cuts or cuts != sorted(cuts) or len(set(cuts)) != len(cuts):
            raise ValueError("grade cut-offs must be strictly increasing")
        if cuts[-1] < 1.0:
            raise ValueError("the last grade's cut-off must be 1.0 so that every PD gets a grade")
        if set(self.bands) != {"approve", "refer"} or self.bands["approve"] > self.bands["refer"]:
            raise ValueError("bands need `approve` <= `refer` PD cut-offs")
        ids = [s.id for s in self.hard_stops]
        if len(ids) != len(set(ids)):
            raise ValueError("hard-stop ids must be unique")
        return self

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"

    def check_columns(self, spec: DatasetSpec) -> None:
        """Refuse a policy whose rules name columns the dataset does not have as numeric features."""
        missing = sorted({c for s in self.hard_stops for c in s.columns()} - set(spec.numeric))
        if missing:
            raise SpecError(
                f"policy {self.label} uses column(s) {missing} that are not numeric features "
                f"of dataset spec {spec.name!r}; use a policy written for this dataset"
            )

    def next_better_band(self, band: str) -> str | None:
        """The band one step better than ``band`` (decline -> refer -> approve), None for approve."""
        i = BANDS.index(band)
        return BANDS[i - 1] if i > 0 else None

    def grade(self, pd_: np.ndarray) -> np.ndarray:
        names = np.array(list(self.grades))
        cuts = np.array(list(self.grades.values()))
        return names[np.minimum(np.searchsorted(cuts, pd_, side="left"), len(names) - 1)]

    def pd_band(self, pd_: np.ndarray) -> np.ndarray:
        return np.where(pd_ <= self.bands["approve"], 0, np.where(pd_ <= self.bands["refer"], 1, 2))

    def apply(self, pd_: np.ndarray, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """Return grades, bands and the ';'-joined ids of the hard stops each row triggered."""
        severity = self.pd_band(pd_)
        flags = np.full(len(pd_), "", dtype=object)
        for stop in self.hard_stops:
            hit = stop.triggered(frame)
            severity = np.where(hit, np.maximum(severity, BANDS.index(stop.action)), severity)
            flags[hit] = flags[hit] + (stop.id + ";")
        return self.grade(pd_), np.array(BANDS)[severity], [f.rstrip(";") for f in flags]

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json", exclude_none=True), sort_keys=False)


SHIPPED_POLICIES = resources.files("models") / "policies"


def load_policy(name_or_path: str | Path) -> Policy:
    path = Path(name_or_path)
    if path.is_file():
        text, origin = path.read_text(encoding="utf-8"), str(path)
    else:
        shipped = SHIPPED_POLICIES / f"{name_or_path}.yaml"
        if not shipped.is_file():
            names = sorted(
                p.name.removesuffix(".yaml") for p in SHIPPED_POLICIES.iterdir() if p.name.endswith(".yaml")
            )
            raise SpecError(
                f"no policy file {str(name_or_path)!r} and no shipped policy of that name (shipped: {', '.join(names)})"
            )
        text, origin = shipped.read_text(encoding="utf-8"), f"shipped policy {name_or_path!r}"
    try:
        return Policy.model_validate(yaml.safe_load(text))
    except (yaml.YAMLError, ValidationError) as exc:
        raise SpecError(f"{origin}: invalid policy: {exc}") from None
