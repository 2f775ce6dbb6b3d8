"""``underwrite monitor --data MONTH.csv`` (watch the book) and ``underwrite demo-book`` (later months of the
demo book, deteriorations planted)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from assistant.monitor.run import MonitorReport, monitor_month
from assistant.settings import Settings
from assistant.workspace import Workspace
from models.demo_data.book import generate_book

COMMANDS = ("monitor", "demo-book")


def add_parsers(commands: Any) -> None:
    mo = commands.add_parser(
        "monitor", help="re-score a new month of the book and raise alerts (PD jumps, spikes, drift, signals)"
    )
    mo.add_argument(
        "--data", type=Path, required=True, help="the month's rows: id, the spec's features (CSV/Parquet)"
    )
    mo.add_argument("--month", help="YYYY-MM (default: the file's month column)")
    mo.add_argument("--documents", type=Path, help="new documents: one sub-folder per merchant id")
    mo.add_argument("--model", help="model folder (default: the champion)")
    mo.add_argument("--engine", choices=["local", "spark"], default="local")
    mo.add_argument("--top", type=int, default=15, help="alerts printed (all are recorded)")
    db = commands.add_parser("demo-book", help="later months of the demo book with deteriorations planted")
    db.add_argument("--months", type=int, default=12)
    db.add_argument("--seed", type=int, default=7)
    db.add_argument("--out", type=Path, help="folder (default WORKSPACE/demo/book)")
    db.add_argument("--force", action="store_true", help="replace an existing book in --out")


def run(args: argparse.Namespace, settings: Settings, progress: bool) -> int:
    workspace = Workspace(settings)
    if args.command == "demo-book":
        out = args.out or workspace.root / "demo" / "book"
        files = generate_book(workspace.portfolio, out, months=args.months, seed=args.seed, force=args.force)
        months = files.months()
        print(
            f"wrote {len(months)} months ({months[0].stem} .. {months[-1].stem}) and the planted truth to {out}"
        )
        print(f"monitor them in order: underwrite monitor --data {months[0]}")
        return 0
    scorer = None
    if args.engine == "spark":
        from assistant.spark.monitor import spark_scorer

        scorer = spark_scorer(settings)
    report = monitor_month(
        settings,
        args.data,
        month=args.month,
        model=args.model,
        documents=args.documents,
        engine=args.engine,
        scorer=scorer,
    )
    print(report_text(report, args.top))
    return 0


def report_text(report: MonitorReport, top: int) -> str:
    lines = [
        f"{report.month}: {report.merchants:,} merchants re-scored in {report.seconds:.1f}s; "
        f"{len(report.alerts):,} alerted ({report.suppressed:,} repeat checks left out: their alerts are open)",
        f"score drift against training: PSI {report.score_psi:.3f} ({report.score_status})",
    ]
    drifting = [f"{f} {v:.2f}" for f, v in report.feature_psi.items() if v > 0.1]
    lines.append("input drift (PSI > 0.10): " + (", ".join(drifting) if drifting else "none"))
    if report.kinds:
        lines.append("checks tripped: " + ", ".join(f"{k} {n}" for k, n in report.kinds.items()))
    for a in report.alerts.head(top).itertuples():
        lines.append(f"  {a.merchant_id}  PD {a.pd:.2%}  {a.band:<8} {a.kinds}: {a.detail}")
    if len(report.alerts) > top:
        lines.append(f"  ... {len(report.alerts) - top:,} more (the workbench's Alerts tab lists them all)")
    lines.append(f"history: {report.history}")
    return "\n".join(lines)
