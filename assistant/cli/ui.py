"""``underwrite ui`` (serve the workbench) and ``underwrite ui-user add`` (a workbench login)."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import Any

from assistant.settings import Settings
from assistant.ui.auth import add_user
from assistant.ui.launch import add_serve_arguments, serve_workbench, with_address, with_large_demo
from assistant.workspace import Workspace
from models.errors import UnderwriterError

COMMANDS = ("ui", "ui-user")


def add_parsers(commands: Any) -> None:
    ui = commands.add_parser(
        "ui",
        help="serve the Gradio workbench on 127.0.0.1 (builds the demo portfolio first, its indexes in the background)",
    )
    add_serve_arguments(ui)
    us = commands.add_parser("ui-user", help="manage workbench logins (a file of salted password hashes)")
    us.add_argument("action", choices=["add"])
    us.add_argument("name")
    us.add_argument(
        "--file", type=Path, help="users file (default: [ui] auth_file, else WORKSPACE/ui/users.txt)"
    )
    us.add_argument("--password-stdin", action="store_true", help="read the password from standard input")


def run(args: argparse.Namespace, settings: Settings, progress: bool) -> int:
    if args.command == "ui":
        settings = with_large_demo(with_address(settings, args.host, args.port), args.large)
        return serve_workbench(settings, prepare=not args.no_prepare)
    users = args.file or Workspace(settings).users_file
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"password for {args.name}: ")
        if getpass.getpass("again: ") != password:
            raise UnderwriterError("the passwords differ; nothing was changed")
    add_user(Path(users), args.name, password)
    print(
        f"{args.name} can sign in; start the workbench with UNDERWRITER_UI__AUTH_FILE={users} (or [ui] auth_file)"
    )
    return 0
