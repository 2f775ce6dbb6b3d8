"""``underwrite notice ID``: the adverse-action notice for a declined (or counter-offered) case."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from assistant.case.source import CaseSource
from assistant.cli.args import add_case_source_args, case_source_args
from assistant.notice.issue import issue_notice
from assistant.settings import Settings
from assistant.workspace import Workspace

COMMANDS = ("notice",)


def add_parsers(commands: Any) -> None:
    no = commands.add_parser(
        "notice",
        help="adverse-action notice for a declined case (or a counter-offer), recorded in the audit trail",
    )
    no.add_argument("id", help="case id (its latest memo; one is written if none) or a memo id (memo-...)")
    no.add_argument("--format", choices=["md", "html"], default="md", help="printed format (default md)")
    no.add_argument("--out", type=Path, help="also write the notice to this file")
    no.add_argument("--counter-offer", default="", help="the terms offered instead (a counter-offer notice)")
    add_case_source_args(no)


def run(args: argparse.Namespace, settings: Settings, progress: bool) -> int:
    source = CaseSource(settings, **case_source_args(args))
    kind = "counter-offer" if args.counter_offer else "decline"
    with Workspace(settings).open_audit() as audit:
        issued = issue_notice(settings, audit, source, args.id, kind=kind, offer=args.counter_offer)
    text = issued.notice.markdown if args.format == "md" else issued.notice.html
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
    print(text)
    written = " (a memo was written for it first)" if issued.memo_written else ""
    print(
        f"notice {issued.notice.notice_id} on memo {issued.notice.memo_id} recorded in "
        f"{Workspace(settings).audit_target}{written}",
        file=sys.stderr,
    )
    return 0
