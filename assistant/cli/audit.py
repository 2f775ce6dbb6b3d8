"""``underwrite audit verify | replay | decide``: the audit trail's commands."""

from __future__ import annotations

import argparse
from typing import Any

from assistant.decisions import decide_on_memo
from assistant.memo.record import replay_memo
from assistant.settings import Settings
from assistant.workspace import Workspace
from models.data.policy import BANDS

COMMANDS = ("audit",)


def add_parsers(commands: Any) -> None:
    au = commands.add_parser("audit", help="verify the audit trail, replay a memo, record a decision")
    actions = au.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    actions.add_parser("verify", help="recompute every hash chain; exit 1 if any row was edited")
    rp = actions.add_parser("replay", help="rebuild a memo from its stored inputs and LLM calls")
    rp.add_argument("memo_id")
    rp.add_argument("--show", action="store_true", help="print the rebuilt Markdown")
    de = actions.add_parser("decide", help="record an underwriter's decision on a memo")
    de.add_argument("memo_id")
    de.add_argument("--decision", required=True, choices=list(BANDS))
    de.add_argument("--underwriter", required=True)
    de.add_argument("--note", default="")
    de.add_argument("--conditions", default="", help="conditions, separated by semicolons")
    de.add_argument(
        "--override-reason", default="", help="required when the decision differs from the model's band"
    )


def run(args: argparse.Namespace, settings: Settings, progress: bool) -> int:
    target = Workspace(settings).audit_target
    with Workspace(settings).open_audit() as audit:
        if args.audit_command == "verify":
            report = audit.verify()
            print(f"audit trail {target}; migrations: {', '.join(report.migrations)}")
            for t in report.tables:
                state = "ok" if t.problem is None else f"BROKEN at row {t.broken_at or '-'}: {t.problem}"
                print(f"  {t.table:<14} {t.rows:>7} rows  {state}")
            for problem in report.problems:
                print(f"  BROKEN: {problem}")
            for note in report.notes:
                print(f"  note: {note}")
            return 0 if report.ok else 1
        if args.audit_command == "replay":
            result = replay_memo(audit, args.memo_id)
            if args.show:
                print(result.rendered.markdown)
            if result.identical:
                print(
                    f"{args.memo_id}: rebuilt byte for byte from the stored calls (sha256 {result.rebuilt_sha256[:16]})"
                )
                return 0
            print(f"{args.memo_id}: rebuilt memo DIFFERS in {', '.join(result.differences)}")
            return 1
        made = decide_on_memo(
            audit,
            args.memo_id,
            decision=args.decision,
            underwriter=args.underwriter,
            conditions=args.conditions,
            note=args.note,
            override_reason=args.override_reason,
        )
        override = f" (overrides the model's {made.model_band})" if made.is_override else ""
        print(f"recorded {args.decision}{override} by {args.underwriter} on {args.memo_id}")
    return 0
