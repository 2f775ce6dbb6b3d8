"""Dataset specs: how to read a credit dataset without writing code.

A spec is a small YAML file naming the id, label, feature, text and date
columns of a CSV or Parquet file, plus hints the model uses (monotone
constraints) and the human-readable names that reason codes show. Shipped
specs live in ``models/specs/``; a user points ``--spec`` at their own file.
"""

from __future__ import annotations

import codecs
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from models.data.formats import FormatName, format_value
from models.errors import SpecError


def canonical_value(value: object) -> str:
    """Normalise a label value so that ``1``, ``"1"``, ``1.0`` and ``" 1 "`` compare equal."""
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return text.lower()
    if number.is_integer():
        return str(int(number))
    return repr(number)


class LabelSpec(BaseModel):
    """The outcome column: which values mean default, which mean repaid."""

    model_config = ConfigDict(extra="forbid")

    column: str
    positive: list[str | int | float | bool] = Field(min_length=1)
    negative: list[str | int | float | bool] = Field(min_length=1)
    unlabelled: Literal["error", "skip"] = "error"
    """What to do with an empty label when training: ``skip`` for datasets
    that mix decided cases with open ones (current applicants)."""

    @model_validator(mode="after")
    def _disjoint(self) -> LabelSpec:
        overlap = set(self.positive_values) & set(self.negative_values)
        if overlap:
            raise ValueError(f"label values {sorted(overlap)} are both positive and negative")
        return self

    @property
    def positive_values(self) -> frozenset[str]:
        return frozenset(canonical_value(v) for v in self.positive)

    @property
    def negative_values(self) -> frozenset[str]:
        return frozenset(canonical_value(v) for v in self.negative)


class DateSpec(BaseModel):
    """The decision date, used for out-of-time splits and point-in-time retrieval."""

    model_config = ConfigDict(extra="forbid")

    column: str
    format: str | None = None
    """A ``strptime`` format such as ``%m/%d/%Y``; ISO dates need none."""


class DatasetSpec(BaseModel):
    """Everything the system needs to know about a tabular credit dataset."""

    model_config = ConfigDict(extra="forbid")

    name: str
    version: int = 1
    description: str = ""
    source: str = ""
    """Where the data comes from (provenance), shown in model cards."""
    id: str | None = None
    """Unique row id; when absent the data row number is used."""
    label: LabelSpec | None = None
    """The outcome column; a spec without one describes cases to review (a 10-K filing), not to learn from."""
    numeric: list[str] = Field(default_factory=list)
    categorical: list[str] = Field(default_factory=list)
    text: list[str] = Field(default_factory=list)
    date: DateSpec | None = None
    monotone: dict[str, Literal[-1, 0, 1]] = Field(default_factory=dict)
    """+1: risk never falls as the feature rises; -1: risk never rises."""
    names: dict[str, str] = Field(default_factory=dict)
    """Human-readable feature names used in reason codes and reports."""
    reason_texts: dict[str, str] = Field(default_factory=dict)
    """Fixed reason-code texts per feature; derived from ``names`` when absent."""
    claims: dict[str, str] = Field(default_factory=dict)
    """Feature -> a regex with one group that captures the value a document *states* for it
    (e.g. the monthly volume in a business description); a stated value off from the data by
    more than half is reported as a contradiction in the memo."""
    formats: dict[str, FormatName] = Field(default_factory=dict)
    """Feature -> how its value reads (``percent``, ``currency``, ``months`` ...; :mod:`models.data.formats`)."""
    currency: str = "$"
    """The symbol a ``currency`` value is shown with."""
    actionable: list[str] = Field(default_factory=list)
    """Numeric features an applicant can change (a requested amount, a dispute rate): the only ones recourse
    suggests. Never a characteristic or history (country, industry, months since a delinquency)."""
    benchmark: str | None = None
    """A numeric feature that is the lender's own price or score (higher = riskier), e.g. the
    interest rate: every training reports its AUC alone on the test rows beside the model's."""
    policy: str = "generic"
    """The shipped policy (or a path) used when training does not name one."""
    encoding: str = "utf-8"

    @model_validator(mode="after")
    def _consistent(self) -> DatasetSpec:
        problems: list[str] = []
        features = self.numeric + self.categorical
        if not features:
            problems.append("no features: list at least one numeric or categorical column")
        duplicated = sorted({c for c in features if features.count(c) > 1})
        if duplicated:
            problems.append(f"columns listed twice among features: {duplicated}")
        reserved = ({self.label.column} if self.label else set()) | ({self.id} if self.id else set())
        clash = sorted(reserved & set(features))
        if clash:
            problems.append(f"id/label columns must not be features: {clash}")
        if self.benchmark is not None and self.benchmark not in self.numeric:
            problems.append(f"benchmark {self.benchmark!r} must be one of the numeric features")
        for column, direction in self.monotone.items():
            if column not in self.numeric:
                problems.append(f"monotone hint for {column!r}, which is not a numeric feature")
            elif direction not in (-1, 0, 1):
                problems.append(f"monotone hint for {column!r} must be -1, 0 or 1")
        try:
            codecs.lookup(self.encoding)
        except LookupError:
            problems.append(
                f"encoding {self.encoding!r} is not a text encoding Python knows (e.g. utf-8, cp1252)"
            )
        unknown_actionable = sorted(set(self.actionable) - set(self.numeric))
        if unknown_actionable:
            problems.append(f"actionable columns must be numeric features: {unknown_actionable}")
        for mapping_name in ("names", "reason_texts", "claims", "formats"):
            unknown = sorted(set(getattr(self, mapping_name)) - set(features))
            if unknown:
                problems.append(f"{mapping_name} given for columns that are not features: {unknown}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def features(self) -> list[str]:
        """Model input columns, numeric first, in the order the model sees them."""
        return [*self.numeric, *self.categorical]

    def display_name(self, feature: str) -> str:
        return self.names.get(feature, feature.replace("_", " "))

    def format_of(self, feature: str) -> str:
        """The declared format; categories read as written, other numbers as plain numbers."""
        return self.formats.get(feature, "category" if feature in self.categorical else "number")

    def shown(self, feature: str, value: object) -> str:
        """``value`` of ``feature`` as a credit officer reads it (12.23%, $1,430, 79 months, none)."""
        return format_value(value, self.format_of(feature), currency=self.currency)

    def reason_text(self, feature: str) -> str:
        """The fixed text shown when ``feature`` is a principal reason for higher risk."""
        if feature in self.reason_texts:
            return self.reason_texts[feature]
        name = self.display_name(feature)
        if feature in self.categorical:
            return f"{name} is associated with higher risk"
        direction = self.monotone.get(feature, 0)
        if direction > 0:
            return f"{name} is high"
        if direction < 0:
            return f"{name} is low"
        return f"{name} raises the estimated risk"

    def required_columns(self, *, with_label: bool) -> list[str]:
        columns = [c for c in (self.id,) if c] + self.features + self.text
        if self.date:
            columns.append(self.date.column)
        if with_label:
            columns.append(self.labelled().column)
        return columns

    def labelled(self) -> LabelSpec:
        """The label, or a clear error for a spec that has none (training and evaluation need one)."""
        if self.label is None:
            raise SpecError(
                f"spec {self.name} has no label: it describes cases to review, not outcomes to train or evaluate on"
            )
        return self.label


SHIPPED_SPECS = resources.files("models") / "specs"


def shipped_spec_names() -> list[str]:
    return sorted(p.name.removesuffix(".yaml") for p in SHIPPED_SPECS.iterdir() if p.name.endswith(".yaml"))


def parse_spec(text: str, origin: str) -> DatasetSpec:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SpecError(f"{origin}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise SpecError(f"{origin}: a dataset spec must be a YAML mapping")
    try:
        return DatasetSpec.model_validate(raw)
    except ValidationError as exc:
        details = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'spec'}: {err['msg']}" for err in exc.errors()
        )
        raise SpecError(f"{origin}: invalid dataset spec: {details}") from None


def load_spec(name_or_path: str | Path) -> DatasetSpec:
    """Load a spec from a file path, or a shipped spec by name (``lending_club``)."""
    path = Path(name_or_path)
    if path.is_file():
        return parse_spec(path.read_text(encoding="utf-8"), str(path))
    shipped = SHIPPED_SPECS / f"{name_or_path}.yaml"
    if shipped.is_file():
        return parse_spec(shipped.read_text(encoding="utf-8"), f"shipped spec {name_or_path!r}")
    raise SpecError(
        f"no dataset spec file {str(name_or_path)!r} and no shipped spec of that name "
        f"(shipped: {', '.join(shipped_spec_names())})"
    )
