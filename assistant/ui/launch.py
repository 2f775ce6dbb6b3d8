"""Start the workbench: make sure the workspace holds a scored portfolio and its indexes
(built on first use, as ``underwrite demo`` does), then serve on 127.0.0.1 and print the URL.

The page is served before the LLM has loaded: the LLM loads in a background thread, and
the header says when it is ready. ``underwrite ui`` and ``app.py`` both call
:func:`serve_workbench` with their settings.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path

from assistant.settings import Settings, load_settings
from assistant.workspace import Workspace
from models.errors import UnderwriterError


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``underwrite ui`` and ``python app.py``."""
    parser.add_argument("--host", help="listen address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default 7860; 0 = a free one)")
    parser.add_argument(
        "--no-prepare", action="store_true", help="fail instead of building a missing workspace"
    )


def with_address(settings: Settings, host: str | None, port: int | None) -> Settings:
    """Settings with the listen address the flags give (the rest of ``[ui]`` unchanged)."""
    given = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    return settings.model_copy(update={"ui": settings.ui.model_copy(update=given)})


def serve_workbench(settings: Settings, *, prepare: bool = True) -> int:
    """Serve until Ctrl-C; 2 with a clear message when the workspace or the address is not usable."""
    from assistant.jobs.prepare import prepare_workspace

    started = time.perf_counter()
    try:
        workspace = Workspace(settings)
        if not workspace.ready():
            if not prepare:
                raise UnderwriterError(
                    f"{settings.workspace} has no scored portfolio and indexes; run `underwrite demo`"
                )
            print(
                f"preparing {settings.workspace} (first run only): portfolio, model, scores, indexes ...",
                flush=True,
            )
            prepare_workspace(settings, progress=True)
            started = time.perf_counter()
        from assistant.ui.app import serve
        from assistant.ui.workbench import Workbench

        bench = Workbench(settings)
        bench.start_background_loading()
        app, url = serve(bench, block=False, quiet=True)
    except UnderwriterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # the port is taken, or the address is not this machine's
        print(f"error: cannot listen on {settings.ui.host}:{settings.ui.port}: {exc}", file=sys.stderr)
        return 2
    auth = f", sign-in required ({settings.ui.auth_file})" if settings.ui.auth_file else ""
    print(
        f"Underwriter workbench: {url}  (ready in {time.perf_counter() - started:.1f} s{auth}; Ctrl-C stops)",
        flush=True,
    )
    with contextlib.suppress(KeyboardInterrupt):
        app.block_thread()
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python app.py``: the workbench with its own few flags."""
    parser = argparse.ArgumentParser(prog="app.py", description="Serve the Underwriter workbench.")
    parser.add_argument("--config", type=Path, help="settings file (TOML)")
    parser.add_argument("--workspace", type=Path)
    add_serve_arguments(parser)
    args = parser.parse_args(argv)
    try:
        settings = with_address(load_settings(args.config, workspace=args.workspace), args.host, args.port)
    except UnderwriterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return serve_workbench(settings, prepare=not args.no_prepare)
