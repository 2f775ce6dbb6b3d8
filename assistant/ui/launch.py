"""Start the workbench: make sure the workspace holds a scored portfolio (built on first use:
portfolio, model, scores, in seconds), serve on 127.0.0.1 and print the URL, then build what can
wait in the background.

The page is served before the LLM has loaded (it loads in a thread) and before the document
index and similar-case library exist (they build in a low-priority child process,
:mod:`assistant.jobs.background_index`); the header shows both. ``underwrite ui`` and ``app.py``
both call :func:`serve_workbench` with their settings.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path

from assistant.settings import DEMO_MERCHANTS, LARGE_DEMO_MERCHANTS, Settings, load_settings
from assistant.ui.exposure import check_exposure
from assistant.workspace import Workspace
from models.errors import UnderwriterError


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``underwrite ui`` and ``python app.py``."""
    parser.add_argument("--host", help="listen address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default 7860; 0 = a free one)")
    parser.add_argument(
        "--no-prepare", action="store_true", help="fail instead of building a missing workspace"
    )
    add_large_argument(parser)


def add_large_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--large",
        action="store_true",
        help=f"on a new workspace, generate the {LARGE_DEMO_MERCHANTS:,}-merchant demo the benchmarks use "
        f"(default {DEMO_MERCHANTS:,})",
    )


def with_large_demo(settings: Settings, large: bool) -> Settings:
    """Settings whose demo portfolio is the large one when ``--large`` is given."""
    if not large:
        return settings
    demo = settings.demo.model_copy(update={"merchants": LARGE_DEMO_MERCHANTS})
    return settings.model_copy(update={"demo": demo})


def with_address(settings: Settings, host: str | None, port: int | None) -> Settings:
    """Settings with the listen address the flags give (the rest of ``[ui]`` unchanged)."""
    given = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    return settings.model_copy(update={"ui": settings.ui.model_copy(update=given)})


def serve_workbench(settings: Settings, *, prepare: bool = True) -> int:
    """Serve until Ctrl-C; 2 with a clear message when the workspace or the address is not usable."""
    from assistant.jobs.demo import run_demo

    started = time.perf_counter()
    try:
        check_exposure(settings)
        workspace = Workspace(settings)
        if not workspace.can_serve():
            if not prepare:
                raise UnderwriterError(f"{settings.workspace} has no scored portfolio; run `underwrite demo`")
            print(
                f"preparing {settings.workspace} (first run only): portfolio, model, scores ...", flush=True
            )
            run_demo(settings, progress=True)
        from assistant.ui.app import serve
        from assistant.ui.workbench import Workbench

        bench = Workbench(settings)
        bench.start_background_loading()
        app, url = serve(bench, block=False, quiet=True)
        if prepare and not workspace.indexes_current():
            print(bench.indexing.start() + f" (log: {workspace.root / 'index' / 'build.log'})", flush=True)
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
    try:
        with contextlib.suppress(KeyboardInterrupt):
            app.block_thread()
    finally:
        bench.indexing.stop()  # resumes on the next start
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
        settings = with_large_demo(settings, args.large)
    except UnderwriterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return serve_workbench(settings, prepare=not args.no_prepare)
