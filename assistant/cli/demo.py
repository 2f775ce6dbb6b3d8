"""``underwrite demo`` (the main job) and ``underwrite demo-data`` (a synthetic portfolio)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from assistant.cli.demo_text import demo_summary
from assistant.cli.evidence_text import demo_evidence_text
from assistant.jobs.demo import DemoReport, build_demo_portfolio
from assistant.jobs.memo_batch import BatchSummary
from assistant.jobs.prepare import BuildingIndexes, Evidence, WritingMemos, main_job
from assistant.settings import DEMO_MERCHANTS, Settings
from assistant.ui.launch import add_large_argument, with_large_demo
from assistant.workspace import Workspace

COMMANDS = ("demo", "demo-data")


def add_parsers(commands: Any) -> None:
    demo = commands.add_parser(
        "demo", help="main job: build the demo portfolio, train, score, index the evidence, print a summary"
    )
    demo.add_argument("--retrain", action="store_true", help="train a new model version even if one exists")
    demo.add_argument(
        "--no-evidence",
        action="store_true",
        help="skip the document index and similar cases (built on first use, ~5 min for 2,000 merchants)",
    )
    add_large_argument(demo)
    demo.add_argument(
        "--no-memos", action="store_true", help="skip the credit memos for the riskiest applicants"
    )
    gen = commands.add_parser("demo-data", help="generate a synthetic merchant portfolio with documents")
    gen.add_argument(
        "--merchants", type=int, help=f"number of merchants (default from settings: {DEMO_MERCHANTS})"
    )
    gen.add_argument("--seed", type=int, help="random seed (default from settings: 7)")
    gen.add_argument("--out", type=Path, help="output folder (default: WORKSPACE/demo/portfolio)")
    gen.add_argument("--force", action="store_true", help="replace an existing portfolio in --out")


def run(args: argparse.Namespace, settings: Settings, progress: bool) -> int:
    if args.command == "demo-data":
        files = build_demo_portfolio(
            settings,
            merchants=args.merchants,
            seed=args.seed,
            out=args.out,
            force=args.force,
            progress=progress,
        )
        meta = json.loads(files.manifest.read_text())
        print(
            f"wrote {meta['merchants']:,} merchants and {meta['documents']:,} documents to {files.root} "
            f"in {meta['seconds']:.1f}s"
        )
        return 0
    stages = main_job(
        with_large_demo(settings, args.large),
        retrain=args.retrain,
        evidence=not args.no_evidence,
        memos=not args.no_memos,
        progress=progress,
    )
    memo_ids: list[str] = []
    for stage in stages:
        if isinstance(stage, WritingMemos):
            memo_ids = stage.case_ids
        print(_stage_text(stage, settings, memo_ids), flush=True)
    return 0


def _stage_text(stage: object, settings: Settings, memo_ids: list[str]) -> str:
    if isinstance(stage, DemoReport):
        return demo_summary(stage)
    if isinstance(stage, BuildingIndexes):
        return "\nbuilding the document index and the case library (first run only) ..."
    if isinstance(stage, Evidence):
        return demo_evidence_text(stage.items, stage.built)
    if isinstance(stage, WritingMemos):
        return f"\nCredit memos for these applicants (embedded LLM, validated) -> {stage.out}"
    assert isinstance(stage, BatchSummary)
    paths = [f"  {stage.out / (case_id + '.md')}" for case_id in memo_ids]
    total = (
        f"  {stage.done} written, {stage.skipped} already there; audit trail "
        f"{Workspace(settings).audit_target} (`underwrite audit verify`)"
    )
    return "\n".join([*paths, total])
