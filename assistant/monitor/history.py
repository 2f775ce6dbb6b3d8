"""The book monitor's memory: one Parquet file per monitored month under ``WORKSPACE/monitor/SPEC/months/``,
each merchant's scores, watched features and CUSUM states that month. A month is written whole
(a temporary file renamed into place) and never rewritten: monitoring a month twice is refused, a
month older than the latest is refused, so history only grows forward."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from models.errors import UnderwriterError

MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
HISTORY_MONTHS = 12
"""Months of a merchant's own history its control charts compare with."""


def check_month(month: str) -> str:
    if not MONTH_RE.match(month):
        raise UnderwriterError(f"month {month!r}: write it as YYYY-MM (e.g. 2025-12)")
    return month


class BookHistory:
    def __init__(self, root: Path):
        self.root = root
        self.months_dir = root / "months"

    def months(self) -> list[str]:
        if not self.months_dir.is_dir():
            return []
        return sorted(p.stem for p in self.months_dir.glob("*.parquet") if MONTH_RE.match(p.stem))

    def path(self, month: str) -> Path:
        return self.months_dir / f"{month}.parquet"

    def check_next(self, month: str) -> None:
        """A clear error unless ``month`` comes after every month already monitored."""
        known = self.months()
        if month in known:
            raise UnderwriterError(
                f"{month} was monitored already ({self.path(month)}); its alerts are recorded and "
                "nothing was changed"
            )
        if known and month < known[-1]:
            raise UnderwriterError(
                f"{month} is older than the latest month monitored ({known[-1]}): months are monitored in order"
            )

    def read(self, month: str) -> pd.DataFrame:
        return pd.read_parquet(self.path(month)).set_index("id")

    def previous(self, month: str) -> pd.DataFrame | None:
        earlier = [m for m in self.months() if m < month]
        return self.read(earlier[-1]) if earlier else None

    def window(self, month: str, ids: pd.Index, feature: str, *, text: bool = False) -> np.ndarray:
        """(merchants, up to HISTORY_MONTHS past months) of one column, NaN (None for ``text``) where a
        merchant has no row."""
        earlier = [m for m in self.months() if m < month][-HISTORY_MONTHS:]
        columns = []
        for m in earlier:
            frame = pd.read_parquet(self.path(m), columns=["id", feature]).set_index("id")
            values = frame[feature].reindex(ids)
            columns.append(values.astype(object).to_numpy() if text else values.to_numpy(dtype=float))
        if not columns:
            return np.empty((len(ids), 0), dtype=object if text else float)
        return np.column_stack(columns)

    def write(self, month: str, frame: pd.DataFrame) -> Path:
        self.months_dir.mkdir(parents=True, exist_ok=True)
        final = self.path(month)
        staging = final.with_name(f".{final.name}.tmp-{os.getpid()}")
        frame.reset_index().to_parquet(staging, index=False)
        os.replace(staging, final)
        return final

    def latest_record(self, merchant_id: str) -> tuple[str, pd.Series]:
        """The latest monitored month holding the merchant, and its record that month."""
        months = [m for m in self.months() if merchant_id in self.read(m).index]
        if not months:
            raise UnderwriterError(f"{merchant_id} is in no monitored month; run `underwrite monitor` first")
        record = self.read(months[-1]).loc[merchant_id]
        assert isinstance(record, pd.Series)  # merchant ids are unique within a month
        return months[-1], record

    def trend(self, merchant_id: str, columns: list[str]) -> pd.DataFrame:
        """One merchant across every monitored month: ``month`` and the asked columns (the workbench's plot)."""
        rows = []
        for m in self.months():
            frame = pd.read_parquet(self.path(m), columns=["id", *columns])
            hit = frame[frame["id"] == merchant_id]
            if len(hit):
                rows.append({"month": m, **hit.iloc[0][columns].to_dict()})
        return pd.DataFrame(rows, columns=["month", *columns])
