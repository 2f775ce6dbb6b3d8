"""``underwrite serve`` (the decision service) and ``underwrite api-key add|list|revoke`` (its keys)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from assistant.service.keys import SCOPES, active_keys, add_key, revoke_key
from assistant.settings import Settings
from assistant.workspace import Workspace
from models.errors import UnderwriterError

COMMANDS = ("serve", "api-key")


def add_parsers(commands: Any) -> None:
    sv = commands.add_parser(
        "serve", help="serve the online decision API (FastAPI; 127.0.0.1 by default; OpenAPI at /docs)"
    )
    sv.add_argument("--host", help="listen address (default [service] host, 127.0.0.1)")
    sv.add_argument("--port", type=int, help="port (default [service] port, 8787)")
    sv.add_argument(
        "--model", help="the champion model folder (default: promotions, then [service] champion)"
    )
    ak = commands.add_parser(
        "api-key", help="keys of the decision service (stored hashed in the audit trail)"
    )
    ak.add_argument("action", choices=["add", "list", "revoke"])
    ak.add_argument("name", nargs="?", help="the key's name (add, revoke)")
    ak.add_argument(
        "--scopes", default="score", help=f"comma-separated, of {', '.join(SCOPES)} (default score)"
    )
    ak.add_argument(
        "--rate", type=int, help="requests per minute for this key (default [service] rate_per_minute)"
    )


def run(args: argparse.Namespace, settings: Settings, progress: bool) -> int:
    if args.command == "serve":
        from assistant.service.server import serve  # FastAPI and uvicorn only when serving

        changes = {k: v for k, v in (("host", args.host), ("port", args.port), ("champion", args.model)) if v}
        settings = settings.model_copy(update={"service": settings.service.model_copy(update=changes)})
        return serve(settings)
    with Workspace(settings).open_audit() as audit:
        if args.action == "list":
            for key in sorted(active_keys(audit).values(), key=lambda k: k.name):
                rate = key.rate_per_minute or f"{settings.service.rate_per_minute} (default)"
                print(f"{key.name}\t{key.key_id}\tscopes {','.join(sorted(key.scopes))}\trate {rate}/min")
            return 0
        if not args.name:
            raise UnderwriterError(f"api-key {args.action}: give the key's NAME")
        if args.action == "add":
            key, secret = add_key(audit, args.name, args.scopes, args.rate)
            print(secret)
            print(
                f"key {key.name!r} ({','.join(sorted(key.scopes))}): shown once, only its hash is kept",
                file=sys.stderr,
            )
            return 0
        key = revoke_key(audit, args.name)
        print(f"key {key.name!r} revoked")
        return 0
