"""The work queue's rows: every merchant of the portfolio with its score, and its monthly series."""

from __future__ import annotations

import pandas as pd

from assistant.workspace import Workspace
from models.errors import UnderwriterError

TEXT_SORTS = {"merchant", "name", "industry", "country", "grade"}
"""Columns sorted A to Z; the others (PD, requested amount) largest first."""


class WorkQueue:
    def __init__(self, workspace: Workspace):
        self.workspace = workspace
        self._frame: pd.DataFrame | None = None
        self._monthly: pd.DataFrame | None = None

    def frame(self) -> pd.DataFrame:
        """Every merchant of the portfolio with its score (read once per process)."""
        if self._frame is None:
            files = self.workspace.portfolio
            if not files.exists() or not self.workspace.scores_path.is_file():
                raise UnderwriterError(
                    f"no scored portfolio in {self.workspace.root}; run `underwrite demo` (or `make run`)"
                )
            merchants = pd.read_csv(files.merchants, dtype={"mcc": str, "merchant_id": str})
            scores = pd.read_csv(self.workspace.scores_path, dtype={"id": str}, keep_default_na=False)
            frame = merchants.merge(scores, left_on="merchant_id", right_on="id", how="inner")
            self._frame = pd.DataFrame(
                {
                    "merchant": frame["merchant_id"],
                    "name": frame["legal_name"],
                    "status": frame["status"],
                    "industry": frame["industry"],
                    "country": frame["country"],
                    "PD": frame["pd"].astype(float).round(4),
                    "grade": frame["grade"],
                    "band": frame["band"],
                    "requested": frame["requested_amount"].astype(float).round(0),
                    "flags": frame["policy_flags"].astype(str),
                    "reasons": frame["reason_1"].astype(str),
                }
            )
        return self._frame

    def rows(
        self, status: str = "applicant", search: str = "", sort_by: str = "PD", limit: int = 200
    ) -> pd.DataFrame:
        """The queue filtered by status and a search over id, name, industry and flags, then sorted."""
        frame = self.frame()
        if status and status != "all":
            frame = frame[frame["status"] == status]
        needle = search.strip().lower()
        if needle:
            text = frame["merchant"] + " " + frame["name"] + " " + frame["industry"] + " " + frame["flags"]
            frame = frame[text.str.lower().str.contains(needle, regex=False)]
        if sort_by not in frame.columns:
            raise UnderwriterError(f"cannot sort by {sort_by!r}; columns: {', '.join(frame.columns)}")
        ordered = frame.sort_values(sort_by, ascending=sort_by in TEXT_SORTS, kind="stable")
        return ordered.head(limit).reset_index(drop=True)

    def monthly(self, merchant_id: str) -> pd.DataFrame | None:
        """One merchant's monthly volume, refunds and disputes (the sparklines), or None."""
        if self._monthly is None:
            path = self.workspace.portfolio.monthly
            table = pd.read_csv(path, dtype={"merchant_id": str}) if path.is_file() else pd.DataFrame()
            self._monthly = table.set_index("merchant_id").sort_index() if len(table) else table
        if not len(self._monthly) or merchant_id not in self._monthly.index:
            return None
        return self._monthly.loc[[merchant_id]].reset_index(drop=True)
