"""``underwrite shadow report | promote | rollback | history``: challengers against the champion, and the
recorded, reversible change of champion."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from assistant.champion.registry import champion_path, promote, promotions, rollback
from assistant.champion.report import plot_shadow, read_outcomes, report_text, shadow_report
from assistant.settings import Settings
from assistant.workspace import Workspace

COMMANDS = ("shadow",)


def add_parsers(commands: Any) -> None:
    sh = commands.add_parser("shadow", help="compare challengers with the champion; promote or roll back")
    actions = sh.add_subparsers(dest="shadow_command", required=True, metavar="ACTION")
    rp = actions.add_parser(
        "report", help="band agreement, PD shift, swaps; AUC and calibration with --outcomes"
    )
    rp.add_argument(
        "--outcomes", type=Path, help="CSV of outcomes: a case id and 0/1 (blank = not known yet)"
    )
    rp.add_argument("--id-column", default="case_id")
    rp.add_argument("--outcome-column", default="outcome")
    rp.add_argument("--plot", type=Path, help="write a PNG of challenger PD against champion PD")
    for name, text in (
        ("promote", "make a challenger the champion"),
        ("rollback", "put the replaced champion back"),
    ):
        p = actions.add_parser(
            name, help=text + " (recorded in the audit trail; the service swaps within seconds)"
        )
        if name == "promote":
            p.add_argument("challenger", help="a name from [service.challengers]")
        p.add_argument("--by", required=True, help="who decides")
        p.add_argument("--reason", required=True, help="why (kept in the audit trail)")
    actions.add_parser("history", help="every promotion and rollback, oldest first")


def run(args: argparse.Namespace, settings: Settings, progress: bool) -> int:
    with Workspace(settings).open_audit() as audit:
        if args.shadow_command == "report":
            outcomes = (
                read_outcomes(args.outcomes, args.id_column, args.outcome_column) if args.outcomes else None
            )
            print(f"champion: {champion_path(settings, audit)}")
            print(report_text(shadow_report(audit, outcomes), outcomes_given=outcomes is not None))
            if args.plot:
                print(f"plot: {plot_shadow(audit, args.plot)}")
        elif args.shadow_command == "promote":
            done = promote(settings, audit, args.challenger, by=args.by, reason=args.reason)
            print(
                f"{done.name} ({done.model_path}, model {done.model_id[:12]}) is the champion; "
                f"it replaced {done.previous_model_path} (roll back with `underwrite shadow rollback`)"
            )
        elif args.shadow_command == "rollback":
            done = rollback(settings, audit, by=args.by, reason=args.reason)
            print(f"rolled back: {done.model_path} (model {done.model_id[:12]}) decides again")
        else:
            history = promotions(audit)
            if not history:
                print(f"no promotion recorded; the champion is {champion_path(settings, audit)}")
            for p in history:
                print(f"{p.at}\t{p.action}\t{p.name}\t{p.model_path}\tby {p.by_user}: {p.reason}")
    return 0
