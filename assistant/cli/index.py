"""``underwrite index build``, ``search`` and ``similar``: the evidence layer's commands."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from assistant.cli.args import iso, iso_date, jsonable, positive
from assistant.cli.evidence_text import index_report_text, passages_text, similar_text
from assistant.jobs.background_index import read_state
from assistant.jobs.evidence import search_documents, similar_cases
from assistant.jobs.index_build import build_indexes
from assistant.settings import Settings
from assistant.workspace import PORTFOLIO_LIBRARY, Workspace

COMMANDS = ("index", "search", "similar")


def add_parsers(commands: Any) -> None:
    ix = commands.add_parser("index", help="build the document index and the similar-case library")
    actions = ix.add_subparsers(dest="index_command", required=True, metavar="ACTION")
    build = actions.add_parser(
        "build",
        help="demo workspace: documents + merchant case library; with --spec/--data: that dataset's library",
    )
    build.add_argument(
        "--spec", help="dataset spec for a case library from a labelled file (e.g. lending_club)"
    )
    build.add_argument("--data", type=Path, help="the file of past cases for --spec")
    build.add_argument("--model", type=Path, help="model directory whose PDs the library records (optional)")
    build.add_argument(
        "--documents",
        type=Path,
        metavar="DIR|ZIP|MANIFEST.csv",
        help="with --spec: the cases' own documents: DIR/<case id>/ files (any readable format, zips included), "
        "a zip laid out the same way, or a CSV manifest (case_id, path[, doc_type][, received])",
    )
    build.add_argument(
        "--outcome-window-days",
        type=int,
        default=0,
        help="days after a decision before its outcome counts as known (default 0 for --spec)",
    )
    build.add_argument("--json", action="store_true", help="print the report as JSON")
    actions.add_parser("status", help="where the workbench's background index build is (or why it stopped)")
    se = commands.add_parser("search", help="hybrid (meaning + keyword) search of a merchant's documents")
    se.add_argument("question")
    se.add_argument("--merchant", help="merchant id (default: search every merchant's documents)")
    se.add_argument("--k", type=positive, default=8, help="passages to return (default 8)")
    se.add_argument("--doc-type", action="append", help="only these document types (repeatable)")
    se.add_argument("--as-of", type=iso_date, help="only documents received before this day")
    se.add_argument("--json", action="store_true", help="print passages as JSON")
    si = commands.add_parser(
        "similar", help="the most similar past cases, decided before the case under review"
    )
    si.add_argument("id", help="merchant id (demo portfolio) or case id (a --library built from a spec)")
    si.add_argument("--k", type=positive, default=10, help="cases to return (default 10)")
    si.add_argument("--as-of", type=iso_date, help="point in time (default: the case's own decision date)")
    si.add_argument("--library", default=PORTFOLIO_LIBRARY, help="case library name (default: merchants)")
    si.add_argument("--json", action="store_true", help="print cases as JSON")


def run(args: argparse.Namespace, settings: Settings, progress: bool) -> int:
    if args.command == "index" and args.index_command == "status":
        return _status(settings)
    if args.command == "index":
        report = build_indexes(
            settings,
            spec=args.spec,
            data=args.data,
            model=args.model,
            outcome_window_days=args.outcome_window_days,
            progress=progress,
            documents=args.documents,
        )
        print(json.dumps(jsonable(report), indent=2) if args.json else index_report_text(report))
    elif args.command == "search":
        passages = search_documents(
            settings,
            args.question,
            merchant_id=args.merchant,
            k=args.k,
            doc_types=args.doc_type,
            as_of=iso(args.as_of),
        )
        print(
            json.dumps([p.to_dict() for p in passages], indent=2)
            if args.json
            else passages_text(args.question, passages)
        )
    else:
        found = similar_cases(settings, args.id, k=args.k, as_of=iso(args.as_of), library=args.library)
        print(json.dumps(jsonable(found), indent=2) if args.json else similar_text(found))
    return 0


def _status(settings: Settings) -> int:
    """0 when the indexes are current, 1 while a build runs, 2 when it failed or was interrupted."""
    workspace = Workspace(settings)
    state = read_state(workspace)
    if workspace.indexes_current() and (state is None or not state.active):
        print(
            state.summary()
            if state is not None and state.state == "done"
            else "document index and case library are current"
        )
        return 0
    if state is None or state.state == "done":
        what = (
            "no index build has run here"
            if state is None
            else "the indexes are out of date (the portfolio or model changed)"
        )
        print(f"{what}; `underwrite index build` (or `underwrite ui`) builds them")
        return 2
    print(state.summary() + (f" (log: {state.log})" if state.log else ""))
    return 1 if state.active else 2
