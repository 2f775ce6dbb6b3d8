"""Start the real workbench (``app.py``) in a subprocess for the UI tests, and stop it.

The app runs exactly as a user starts it, on a free loopback port, with the network guard
(``tests/netguard``) recording any outbound connection it attempts.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
READY = re.compile(r"Underwriter workbench: (http://\S+)\s+\(ready in ([\d.]+) s")


@dataclass
class RunningApp:
    url: str
    process: subprocess.Popen
    workspace: Path
    netlog: Path
    log: Path
    ready_seconds: float

    def outbound(self) -> list[str]:
        return self.netlog.read_text().splitlines() if self.netlog.exists() else []

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def copy_workspace(source: Path, target: Path) -> Path:
    """A private copy of a prepared workspace (index, model), so the app's writes stay its own."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("audit", "memos", "eval", "ui"))
    return target


def start_app(
    workspace: Path, tmp: Path, env: dict[str, str] | None = None, timeout: float = 240
) -> RunningApp:
    port = free_port()
    netlog = tmp / "netlog.txt"
    log = tmp / "app.log"
    full_env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "tests" / "netguard"), str(ROOT)]),
        "UNDERWRITER_NETLOG": str(netlog),
        "UNDERWRITER_THREADS": "2",
        "UNDERWRITER_DEMO__MERCHANTS": "150",
        "UNDERWRITER_DEMO__SEED": "5",
        "UNDERWRITER_LLM__MAX_TOKENS": "24",
        "UNDERWRITER_MEMO__SIMILAR_CASES": "3",
        "UNDERWRITER_UI__EVAL_DIRS": f'["{ROOT / "bench" / "results" / "eval_baseline"}"]',
        **(env or {}),
    }
    handle = open(log, "w")  # noqa: SIM115 - lives as long as the process
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "--workspace", str(workspace), "--port", str(port)],
        cwd=ROOT,
        env=full_env,
        stdout=handle,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text()
        found = READY.search(text)
        if found:
            return RunningApp(found.group(1), process, workspace, netlog, log, float(found.group(2)))
        if process.poll() is not None:
            raise RuntimeError(f"the app exited with {process.returncode}:\n{text[-3000:]}")
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"the app did not start within {timeout} s:\n{log.read_text()[-3000:]}")
