"""Read a CSV or Parquet file through a dataset spec, reporting every problem at once.

Row numbers in messages count data rows from 1 (the header is not a row), the
same for CSV and Parquet, so "row 12" is the twelfth record of the file.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from models.data.spec import DatasetSpec, canonical_value
from models.errors import DatasetError, Problem

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
        utf8 = codecs.lookup(encoding).name in {"utf-8", "utf-8-sig"}
        text = data.decode("utf-8-sig" if utf8 else encoding)  # a byte-order mark never lands in a name
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


MISSING_MARKERS = frozenset(
    {
        "",
        "#N/A",
        "#N/A N/A",
        "#NA",
        "-1.#IND",
        "-1.#QNAN",
        "-NaN",
        "-nan",
        "1.#IND",
        "1.#QNAN",
        "<NA>",
        "N/A",
        "NA",
        "NULL",
        "NaN",
        "None",
        "n/a",
        "nan",
        "null",
    }
)
"""pandas' default ``na_values``: what ``read_csv`` reads as missing."""


def parse_features(raw: pd.DataFrame, spec: DatasetSpec) -> tuple[pd.DataFrame, dict[str, pd.Series]]:
    """The spec's typed feature (and text) columns from raw cells, and per numeric column the rows
    whose value is present but not a finite number (those cells become missing).

    One rule for every path that reads records: a whole file here, a partition of a Spark job.
    Cells that read as missing to pandas' CSV reader ("n/a", "NULL", "#N/A", ...) are missing on
    every path, so a Spark job (whose reader keeps them as text) scores exactly as a local run."""
    raw = raw.mask(raw.isin(MISSING_MARKERS))
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
    for column in spec.text:  # text is not a model input: a scoring job may not have read it
        frame[column] = raw[column].fillna("").astype(str) if column in raw else ""
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
    raw = _read_table(path, data, spec.encoding)
    missing = [
        c for c in dict.fromkeys(spec.required_columns(with_label=require_label)) if c not in raw.columns
    ]
    if missing:
        raise DatasetError(source, [Problem(source, f"missing column(s): {', '.join(missing)}")])
    if raw.empty:
        raise DatasetError(source, [Problem(source, "has a header but no data rows")])
    problems: list[Problem] = []
    frame, bad_values = parse_features(raw, spec)
    for column, bad in bad_values.items():
        examples = ", ".join(repr(v) for v in raw[column][bad].unique()[:3])
        problems.append(Problem(f"column {column!r}", f"non-numeric values at {_rows(bad)}, e.g. {examples}"))
    ids = _ids(raw, spec, problems)
    dates = _dates(raw, spec, problems)
    labels, keep = _labels(raw, spec, require_label, problems)
    if problems:
        raise DatasetError(source, problems)
    dataset = Dataset(
        spec=spec,
        source=source,
        sha256=hashlib.sha256(data).hexdigest(),
        frame=frame.reset_index(drop=True),
        ids=ids.reset_index(drop=True),
        labels=labels,
        dates=None if dates is None else dates.reset_index(drop=True),
    )
    if not keep.all():
        skipped = int((~keep).sum())
        dataset = dataset.subset(keep)
        dataset.skipped_unlabelled = skipped
    if require_label and dataset.labels is not None and set(np.unique(dataset.labels).tolist()) != {0, 1}:
        where = f"label column {spec.labelled().column!r}"
        raise DatasetError(
            source, [Problem(where, "needs both defaulted and repaid rows to train or evaluate")]
        )
    return dataset


def _ids(raw: pd.DataFrame, spec: DatasetSpec, problems: list[Problem]) -> pd.Series:
    """The id column stripped (each empty or duplicate id a problem), or ``row-N`` when the spec has none."""
    if not spec.id:
        return pd.Series([f"row-{i + 1}" for i in range(len(raw))], dtype=str)
    ids = raw[spec.id].astype("string").str.strip()
    empty_ids = ids.isna() | (ids == "")
    if empty_ids.any():
        problems.append(Problem(f"id column {spec.id!r}", f"empty id at {_rows(empty_ids)}"))
    duplicated = ids.duplicated(keep=False) & ~empty_ids
    if duplicated.any():
        examples = ", ".join(repr(v) for v in ids[duplicated].unique()[:3])
        problems.append(
            Problem(f"id column {spec.id!r}", f"duplicate ids at {_rows(duplicated)}, e.g. {examples}")
        )
    return ids.fillna("").astype(str)


def _dates(raw: pd.DataFrame, spec: DatasetSpec, problems: list[Problem]) -> pd.Series | None:
    if not spec.date:
        return None
    dates = pd.to_datetime(raw[spec.date.column], format=spec.date.format, errors="coerce")
    bad_dates = dates.isna()
    if bad_dates.any():
        expected = f" (expected format {spec.date.format})" if spec.date.format else ""
        where = f"date column {spec.date.column!r}"
        problems.append(Problem(where, f"missing or unreadable dates at {_rows(bad_dates)}{expected}"))
    return dates


def _labels(
    raw: pd.DataFrame, spec: DatasetSpec, require_label: bool, problems: list[Problem]
) -> tuple[np.ndarray | None, np.ndarray]:
    """Labels (1 default, 0 repaid, -1 other) when the file has them, and which rows to keep."""
    keep = np.ones(len(raw), dtype=bool)
    if spec.label is None or spec.label.column not in raw.columns:
        return None, keep
    label = spec.label
    canon = raw[label.column].map(lambda v: "" if pd.isna(v) or str(v).strip() == "" else canonical_value(v))
    positive = canon.isin(label.positive_values).to_numpy()
    negative = canon.isin(label.negative_values).to_numpy()
    empty = (canon == "").to_numpy()
    unknown = ~(positive | negative | empty)
    if unknown.any():
        examples = ", ".join(repr(v) for v in raw[label.column][unknown].unique()[:3])
        problems.append(
            Problem(
                f"label column {label.column!r}",
                f"unknown label values at {_rows(unknown)}, e.g. {examples} "
                f"(positive: {sorted(label.positive_values)}, negative: {sorted(label.negative_values)})",
            )
        )
    if require_label and empty.any():
        if label.unlabelled == "skip":
            keep = ~empty
        else:
            problems.append(Problem(f"label column {label.column!r}", f"empty labels at {_rows(empty)}"))
    return np.where(positive, 1, np.where(negative, 0, -1)).astype(np.int8), keep
