"""Read a CSV or Parquet file through a dataset spec, reporting every problem at once.

Row numbers in messages count data rows from 1 (the header is not a row), the
same for CSV and Parquet, so "row 12" is the twelfth record of the file.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from models.errors import DatasetError, Problem
from models.spec import DatasetSpec, canonical_value

MAX_ROWS_LISTED = 5


@dataclass
class Dataset:
    """A validated dataset: typed feature frame plus ids, labels, dates and texts."""

    spec: DatasetSpec
    source: str
    sha256: str
    frame: pd.DataFrame
    """Spec columns only; numeric columns as float64, categorical as str with NaN."""
    ids: pd.Series
    labels: np.ndarray | None
    """1 = default, 0 = repaid; ``None`` when the file has no label column."""
    dates: pd.Series | None
    skipped_unlabelled: int = 0

    def __len__(self) -> int:
        return len(self.frame)

    def subset(self, mask: np.ndarray) -> Dataset:
        mask = np.asarray(mask, dtype=bool)
        return Dataset(
            spec=self.spec,
            source=self.source,
            sha256=self.sha256,
            frame=self.frame.loc[mask].reset_index(drop=True),
            ids=self.ids[mask].reset_index(drop=True),
            labels=None if self.labels is None else self.labels[mask],
            dates=None if self.dates is None else self.dates[mask].reset_index(drop=True),
        )


def _rows(mask: np.ndarray | pd.Series) -> str:
    positions = np.flatnonzero(np.asarray(mask)) + 1
    shown = ", ".join(str(p) for p in positions[:MAX_ROWS_LISTED])
    more = len(positions) - MAX_ROWS_LISTED
    return (
        f"row {shown}"
        if len(positions) == 1
        else f"rows {shown}" + (f" (and {more} more)" if more > 0 else "")
    )


def _bad_csv_lines(text: str, source: str) -> list[Problem]:
    """Find every line whose field count differs from the header's."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, [])
    problems = []
    for record in reader:
        if record and len(record) != len(header):
            problems.append(
                Problem(
                    f"line {reader.line_num}",
                    f"has {len(record)} fields, the header has {len(header)}",
                )
            )
    return problems or [Problem(source, "could not be parsed as CSV")]


def _read_table(path: Path, data: bytes, encoding: str) -> pd.DataFrame:
    source = str(path)
    if not data.strip():
        raise DatasetError(source, [Problem(source, "file is empty")])
    if path.suffix.lower() in {".parquet", ".pq"}:
        try:
            return pd.read_parquet(io.BytesIO(data))
        except Exception as exc:  # pyarrow raises many types for a bad file
            raise DatasetError(source, [Problem(source, f"not a readable Parquet file ({exc})")]) from None
    try:
        text = data.decode(encoding.replace("utf-8", "utf-8-sig"))
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DatasetError(
            source,
            [
                Problem(
                    f"line {line}",
                    f"byte 0x{data[exc.start]:02x} is not valid {encoding}; "
                    "re-save the file in that encoding or set `encoding` in the spec",
                )
            ],
        ) from None
    try:
        return pd.read_csv(io.StringIO(text), dtype=str, skipinitialspace=False)
    except pd.errors.ParserError:
        raise DatasetError(source, _bad_csv_lines(text, source)) from None
    except pd.errors.EmptyDataError:
        raise DatasetError(source, [Problem(source, "no header row")]) from None


def parse_features(raw: pd.DataFrame, spec: DatasetSpec) -> tuple[pd.DataFrame, dict[str, pd.Series]]:
    """The spec's typed feature (and text) columns from raw cells, and per numeric column the rows
    whose value is present but not a finite number (those cells become missing).

    One rule for every path that reads records: a whole file here, a partition of a Spark job."""
    frame = pd.DataFrame(index=raw.index)
    bad_values: dict[str, pd.Series] = {}
    for column in spec.numeric:
        original = raw[column]
        values = pd.to_numeric(original, errors="coerce").astype("float64")
        present = original.notna() & (original.astype(str).str.strip() != "")
        bad = present & (values.isna() | np.isinf(values))
        if bad.any():
            bad_values[column] = bad
        frame[column] = values.where(~bad)
    for column in spec.categorical:
        frame[column] = (
            raw[column]
            .astype(object)
            .map(lambda v: None if pd.isna(v) or str(v).strip() == "" else str(v).strip())
        )
    for column in spec.text:
        frame[column] = raw[column].fillna("").astype(str)
    return frame, bad_values


def load_dataset(path: str | Path, spec: DatasetSpec, *, require_label: bool) -> Dataset:
    """Read and validate ``path`` against ``spec``.

    ``require_label`` is for training and evaluation: the label column must be
    present and every row's label positive or negative (empty labels are
    skipped instead when the spec says ``unlabelled: skip``). For scoring the
    label is read when present and ignored otherwise.

    Raises ``DatasetError`` listing every problem, with row numbers.
    """
    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise DatasetError(source, [Problem(source, "file not found")])
    data = path.read_bytes()
    sha256 = hashlib.sha256(data).hexdigest()
    raw = _read_table(path, data, spec.encoding)
    problems: list[Problem] = []

    has_label = spec.label.column in raw.columns
    required = spec.required_columns(with_label=require_label)
    missing = [c for c in dict.fromkeys(required) if c not in raw.columns]
    if missing:
        problems.append(Problem(source, f"missing column(s): {', '.join(missing)}"))
        raise DatasetError(source, problems)
    if raw.empty:
        raise DatasetError(source, [Problem(source, "has a header but no data rows")])

    frame, bad_values = parse_features(raw, spec)
    for column, bad in bad_values.items():
        examples = ", ".join(repr(v) for v in raw[column][bad].unique()[:3])
        problems.append(Problem(f"column {column!r}", f"non-numeric values at {_rows(bad)}, e.g. {examples}"))

    if spec.id:
        ids = raw[spec.id].astype("string").str.strip()
        empty_ids = ids.isna() | (ids == "")
        if empty_ids.any():
            problems.append(Problem(f"id column {spec.id!r}", f"empty id at {_rows(empty_ids)}"))
        duplicated = ids.duplicated(keep=False) & ~empty_ids
        if duplicated.any():
            examples = ", ".join(repr(v) for v in ids[duplicated].unique()[:3])
            problems.append(
                Problem(
                    f"id column {spec.id!r}",
                    f"duplicate ids at {_rows(duplicated)}, e.g. {examples}",
                )
            )
        ids = ids.fillna("").astype(str)
    else:
        ids = pd.Series([f"row-{i + 1}" for i in range(len(raw))], dtype=str)

    dates = None
    if spec.date:
        original = raw[spec.date.column]
        dates = pd.to_datetime(original, format=spec.date.format, errors="coerce")
        bad_dates = dates.isna()
        if bad_dates.any():
            problems.append(
                Problem(
                    f"date column {spec.date.column!r}",
                    f"missing or unreadable dates at {_rows(bad_dates)}"
                    + (f" (expected format {spec.date.format})" if spec.date.format else ""),
                )
            )

    labels = None
    keep = np.ones(len(raw), dtype=bool)
    if has_label:
        canon = raw[spec.label.column].map(
            lambda v: "" if pd.isna(v) or str(v).strip() == "" else canonical_value(v)
        )
        positive = canon.isin(spec.label.positive_values).to_numpy()
        negative = canon.isin(spec.label.negative_values).to_numpy()
        empty = (canon == "").to_numpy()
        unknown = ~(positive | negative | empty)
        if unknown.any():
            examples = ", ".join(repr(v) for v in raw[spec.label.column][unknown].unique()[:3])
            problems.append(
                Problem(
                    f"label column {spec.label.column!r}",
                    f"unknown label values at {_rows(unknown)}, e.g. {examples} "
                    f"(positive: {sorted(spec.label.positive_values)}, "
                    f"negative: {sorted(spec.label.negative_values)})",
                )
            )
        if require_label and empty.any():
            if spec.label.unlabelled == "skip":
                keep = ~empty
            else:
                problems.append(
                    Problem(f"label column {spec.label.column!r}", f"empty labels at {_rows(empty)}")
                )
        labels = np.where(positive, 1, np.where(negative, 0, -1)).astype(np.int8)

    if problems:
        raise DatasetError(source, problems)

    dataset = Dataset(
        spec=spec,
        source=source,
        sha256=sha256,
        frame=frame.reset_index(drop=True),
        ids=ids.reset_index(drop=True),
        labels=labels,
        dates=None if dates is None else dates.reset_index(drop=True),
    )
    if not keep.all():
        skipped = int((~keep).sum())
        dataset = dataset.subset(keep)
        dataset.skipped_unlabelled = skipped
    if require_label and dataset.labels is not None:
        classes = set(np.unique(dataset.labels).tolist())
        if classes != {0, 1}:
            raise DatasetError(
                source,
                [
                    Problem(
                        f"label column {spec.label.column!r}",
                        "needs both defaulted and repaid rows to train or evaluate",
                    )
                ],
            )
    return dataset
