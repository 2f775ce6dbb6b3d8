"""``underwrite score``, ``evaluate-model`` and ``specs``: scoring with a trained risk model, its
metrics on a labelled file, and the shipped dataset specs."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from assistant.jobs.modeling import evaluate_model, score_file
from assistant.settings import Settings
from models.data.spec import load_spec, shipped_spec_names

COMMANDS = ("score", "evaluate-model", "specs")


def add_parsers(commands: Any) -> None:
    sc = commands.add_parser("score", help="score a file: PD, grade, band, policy flags, reason codes")
    sc.add_argument(
        "--model", required=True, type=Path, help="model directory (current version) or a version folder"
    )
    sc.add_argument("--data", required=True, type=Path)
    sc.add_argument("--out", required=True, type=Path, help="output CSV, or Parquet if it ends in .parquet")
    sc.add_argument("--force", action="store_true", help="replace an existing --out file")
    sc.add_argument(
        "--reasons",
        choices=["all", "adverse", "none"],
        default="all",
        help="which rows get reason codes: all (default), adverse (refer/decline only), none",
    )
    ev = commands.add_parser("evaluate-model", help="print a model's metrics on a labelled file as JSON")
    ev.add_argument("--model", required=True, type=Path)
    ev.add_argument("--data", required=True, type=Path)
    commands.add_parser("specs", help="list the shipped dataset specs")


def run(args: argparse.Namespace, settings: Settings, progress: bool) -> int:
    if args.command == "score":
        scored = score_file(
            settings,
            model=args.model,
            data=args.data,
            out=args.out,
            force=args.force,
            reasons=args.reasons,
            progress=progress,
        )
        bands = scored.batch.frame["band"].value_counts().to_dict()
        print(
            f"scored {len(scored.batch.frame):,} rows with {scored.model.label} in {scored.seconds:.1f}s "
            f"-> {args.out}; bands {bands}"
        )
        for column, count in scored.batch.unseen_categories.items():
            print(
                f"note: {count} value(s) of {column!r} are not among the model's categories (unseen or rare in "
                "training) and were scored as 'other'"
            )
    elif args.command == "evaluate-model":
        print(json.dumps(evaluate_model(settings, model=args.model, data=args.data), indent=2))
    else:
        for name in shipped_spec_names():
            spec = load_spec(name)
            print(
                f"{name:<20} {len(spec.features):>3} features  {spec.description.strip().splitlines()[0][:60]}"
            )
    return 0
