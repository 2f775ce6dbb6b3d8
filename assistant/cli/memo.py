"""``underwrite memo`` (one memo printed, or many into a folder) and ``underwrite chat``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from assistant.chat import open_chat
from assistant.cli.args import add_case_source_args, case_source_args, positive
from assistant.jobs.memo_batch import run_batch, select_cases
from assistant.memo.record import memo_for_case
from assistant.settings import Settings
from assistant.workspace import Workspace
from models.errors import UnderwriterError

COMMANDS = ("memo", "chat")


def add_parsers(commands: Any) -> None:
    me = commands.add_parser(
        "memo",
        help="credit memo for one case (printed), or for many (--all) into --out on this machine, resumable "
        "(`batch memo` runs them on Spark)",
    )
    me.add_argument("id", nargs="*", help="merchant or case id(s)")
    me.add_argument("--all", action="store_true", help="every case (see --status and --limit)")
    me.add_argument("--status", help="with --all: only cases with this status (demo: applicant, historical)")
    me.add_argument("--limit", type=positive, help="with --all: the first N cases only")
    me.add_argument("--out", type=Path, help="folder for memo files (.md, .json, .html) and the run ledger")
    me.add_argument("--workers", type=positive, default=1, help="parallel memo processes (default 1)")
    me.add_argument("--format", choices=["md", "json", "html"], default="md", help="printed format (one id)")
    add_case_source_args(me)
    ch = commands.add_parser("chat", help="talk about one case: score, what-if, similar cases, documents")
    ch.add_argument("id", help="merchant or case id")
    ch.add_argument("--ask", action="append", help="ask this and exit (repeatable); default: interactive")
    add_case_source_args(ch)


def run(args: argparse.Namespace, settings: Settings, progress: bool) -> int:
    if args.command == "chat":
        return _chat(args, settings)
    if args.all or args.out:
        return _batch(args, settings, progress)
    if len(args.id) != 1:
        raise UnderwriterError("give one id to print a memo, or --all / several ids with --out DIR")
    result = memo_for_case(settings, args.id[0], source_args=case_source_args(args))
    print(result.rendered.text(args.format))
    print(
        f"memo {result.memo_id} recorded in {Workspace(settings).audit_target} ({result.calls} LLM calls, "
        f"{result.cached_calls} cached, {result.tokens} tokens)",
        file=sys.stderr,
    )
    return 0


def _batch(args: argparse.Namespace, settings: Settings, progress: bool) -> int:
    if not args.out:
        raise UnderwriterError("memo --all needs --out DIR")
    source_args = case_source_args(args)
    ids = select_cases(
        settings, source_args, args.id, status=args.status, limit=args.limit if args.all else None
    )
    summary = run_batch(
        settings, ids, args.out, workers=args.workers, source_args=source_args, progress=progress
    )
    print(
        f"{summary.run_id}: {summary.done} done, {summary.failed} failed, {summary.skipped} skipped "
        f"(already done), {summary.recovered} recovered after an interruption; "
        f"{summary.memos_per_minute:.1f} memos/min, {summary.tokens_per_second:.1f} tokens/s, "
        f"{summary.seconds:.1f}s -> {args.out}"
    )
    for case_id, error in summary.failures.items():
        print(f"failed {case_id}: {error}", file=sys.stderr)
    return 1 if summary.failed else 0


def _chat(args: argparse.Namespace, settings: Settings) -> int:
    with Workspace(settings).open_audit() as audit:
        session = open_chat(settings, args.id, audit, source_args=case_source_args(args))
        print(session.score_text())
        for question in args.ask or _prompt_lines():
            if args.ask:
                print(f"\n> {question}")
            try:
                for piece in session.ask(question):
                    print(piece, end="", flush=True)
            except UnderwriterError as exc:
                print(f"error: {exc}", end="")
            print()
    return 0


def _prompt_lines() -> Iterator[str]:
    print("ask about the case; /score, /whatif FEATURE=VALUE, /similar, /search QUESTION; empty line to quit")
    while True:
        try:
            line = input("> ").strip()
        except EOFError:
            return
        if not line:
            return
        yield line
