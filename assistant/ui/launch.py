"""Start the workbench: make sure the workspace holds a scored portfolio and its indexes
(built on first use, as ``underwrite demo`` does), then serve on 127.0.0.1 and print the URL.

The page is served before the LLM has loaded: the LLM loads in a background thread, and
the header says when it is ready.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path

from assistant.settings import Settings, load_settings
from models.errors import UnderwriterError


def workspace_ready(settings: Settings) -> bool:
    from assistant.indexing import indexes_are_current
    from models.demo_data.generate import PortfolioFiles

    return (
        PortfolioFiles(settings.portfolio_dir).exists()
        and (settings.model_dir / "CURRENT").is_file()
        and settings.scores_path.is_file()
        and indexes_are_current(settings)
    )


def prepare_workspace(settings: Settings) -> None:
    """First run: portfolio, model, scores, document index and case library (about 2 minutes)."""
    from assistant import indexing, workflows

    print(
        f"preparing {settings.workspace} (first run only): portfolio, model, scores, indexes ...", flush=True
    )
    workflows.run_demo(settings, progress=True)
    if not indexing.indexes_are_current(settings):
        indexing.build_indexes(settings, progress=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="underwrite ui", description="Serve the Underwriter workbench.")
    parser.add_argument("--config", type=Path, help="settings file (TOML)")
    parser.add_argument("--host", help="listen address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default 7860; 0 = a free one)")
    parser.add_argument("--workspace", type=Path)
    parser.add_argument(
        "--no-prepare", action="store_true", help="fail instead of building a missing workspace"
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        settings = load_settings(args.config, workspace=args.workspace)
        ui = settings.ui.model_copy(
            update={k: v for k, v in {"host": args.host, "port": args.port}.items() if v is not None}
        )
        settings = settings.model_copy(update={"ui": ui})
        if not workspace_ready(settings):
            if args.no_prepare:
                raise UnderwriterError(
                    f"{settings.workspace} has no scored portfolio and indexes; run `underwrite demo`"
                )
            prepare_workspace(settings)
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
