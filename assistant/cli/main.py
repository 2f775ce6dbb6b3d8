"""``underwrite``: the command line, a thin shell over the services (one module per command group).

Every error a user can cause prints one clear message and exits with status 2; no traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from types import ModuleType

from assistant.cli import (
    audit,
    batch,
    demo,
    evaluation,
    index,
    llm,
    memo,
    model,
    monitor,
    notice,
    serve,
    shadow,
    train,
    ui,
)
from assistant.settings import load_settings
from models.errors import UnderwriterError

GROUPS: tuple[ModuleType, ...] = (
    demo,
    monitor,
    train,
    model,
    index,
    memo,
    notice,
    audit,
    evaluation,
    llm,
    batch,
    ui,
    serve,
    shadow,
)
"""Each group: ``COMMANDS`` (its command names), ``add_parsers(commands)``, ``run(args, settings, progress)``."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="underwrite", description="LLM-assisted merchant credit underwriting."
    )
    parser.add_argument(
        "--config", type=Path, help="settings TOML file (default: ./underwriter.toml if present)"
    )
    parser.add_argument("--workspace", type=Path, help="folder for all artifacts (default: ./workspace)")
    parser.add_argument("--threads", type=int, help="threads for XGBoost; results do not depend on it")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in GROUPS:
        group.add_parsers(commands)
    return parser


def run(args: argparse.Namespace) -> int:
    settings = load_settings(args.config, workspace=args.workspace, threads=args.threads)
    progress = not args.quiet and sys.stderr.isatty()
    group = next(g for g in GROUPS if args.command in g.COMMANDS)
    return int(group.run(args, settings, progress))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except UnderwriterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and closed early
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
        return 0
    except KeyboardInterrupt:
        print("interrupted; nothing partial was left in place", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
