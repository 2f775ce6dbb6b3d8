"""A finished (or partly finished) batch as files to download: the summary CSV and a zip of the memos."""

from __future__ import annotations

import csv
import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd

from assistant.jobs.memo_batch import ledger_rows


def summary_csv(out: Path) -> str:
    """One line per case: status, memo id, and the decision the memo records."""
    rows = ledger_rows(out)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        ["case_id", "status", "memo_id", "pd", "grade", "band", "policy_flags", "seconds", "error"]
    )
    for r in rows.to_dict("records"):
        decision: dict[str, Any] = {}
        memo_json = out / f"{r['case_id']}.json"
        if memo_json.is_file():
            decision = json.loads(memo_json.read_text(encoding="utf-8")).get("decision", {})
        writer.writerow(
            [
                r["case_id"],
                r["status"],
                r["memo_id"] or "",
                decision.get("pd", ""),
                decision.get("grade", ""),
                decision.get("band", ""),
                ";".join(decision.get("policy_flags", [])),
                "" if r["seconds"] is None or pd.isna(r["seconds"]) else round(float(r["seconds"]), 2),
                r["error"] or "",
            ]
        )
    return buffer.getvalue()


def write_downloads(out: Path) -> tuple[Path, Path]:
    """``memos.zip`` (every finished memo, all formats, plus the summary) and ``summary.csv``."""
    summary = summary_csv(out)
    csv_path = out / "downloads" / "summary.csv"
    zip_path = out / "downloads" / "memos.zip"
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    staging = zip_path.with_suffix(".zip.partial")
    with zipfile.ZipFile(staging, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(out.glob("*")):
            if path.is_file() and path.suffix in {".md", ".json", ".html"} and not path.name.startswith("."):
                archive.write(path, f"memos/{path.name}")
        archive.writestr("summary.csv", summary)
    os.replace(staging, zip_path)
    csv_path.write_text(summary, encoding="utf-8")
    return zip_path, csv_path
