"""Run the decision service under uvicorn: in the foreground (``underwrite serve``) or on a background
thread on a free loopback port (:func:`running_server`: the tests and the load benchmark)."""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

from assistant.service.app import create_app
from assistant.settings import Settings

STARTUP_TIMEOUT_S = 30.0


def serve(settings: Settings) -> int:
    """Serve until Ctrl-C. The API needs a key on every call, so any address may be used; a public one
    belongs behind TLS (a reverse proxy), which this process does not terminate."""
    app = create_app(settings)
    host, port = settings.service.host, settings.service.port
    print(
        f"Underwriter decision service on http://{host}:{port} (OpenAPI: http://{host}:{port}/docs)",
        file=sys.stderr,
    )
    print("create a key with `underwrite api-key add NAME --scopes score,memo`", file=sys.stderr)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
    return 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_server(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 on a thread; yields its base URL and stops it (lifespan included) on exit."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the decision service did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
