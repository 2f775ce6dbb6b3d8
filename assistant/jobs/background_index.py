"""The document index and similar-case library, built in a separate low-priority process while
the workbench already serves.

The workbench needs only the model and the scores to serve its queue, scores, reasons and
portfolio view; embedding every document takes minutes on a laptop. So ``underwrite ui`` starts
this build in a child process (``nice`` 10, so case pages and the LLM keep the CPU they need)
and serves at once. The child writes where it is to ``WORKSPACE/index/build.json``; the
workbench header reads that file. What makes it safe:

* a half-built index is never loaded: the index and the library are published by switching
  their ``CURRENT`` pointer only when complete (``models.store.versioned``);
* a crash is never silent: the child records the error (and the log holds its traceback), and a
  build whose process died without a word reads as "interrupted";
* it resumes: every batch of vectors is committed to the embedding cache as it is computed, so a
  new build after a crash or a restart re-embeds at most one batch;
* one build at a time: the child holds an exclusive lock on ``index/build.lock``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import subprocess
import sys
import time
import traceback
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from assistant.settings import Settings
from assistant.workspace import Workspace

WRITE_EVERY_S = 0.5
NICENESS = 10


@dataclass
class BuildState:
    state: str
    """``running``, ``done``, ``failed`` or ``interrupted`` (the process is gone without a word)."""
    stage: str = "starting"
    done: int = 0
    total: int = 0
    pid: int | None = None
    started_at: float = 0.0
    updated_at: float = 0.0
    stage_started_at: float = 0.0
    error: str | None = None
    log: str | None = None
    chunks: int = 0
    embedded: int = 0
    reused: int = 0
    """Passages in the index, embedded by this build, and taken from the cache (an earlier, stopped build)."""

    @property
    def active(self) -> bool:
        return self.state == "running"

    @property
    def resumable(self) -> bool:
        return self.state in {"failed", "interrupted"}

    def eta_s(self) -> float | None:
        """Seconds left in this stage at the pace so far, once there is a pace to go by."""
        elapsed = self.updated_at - self.stage_started_at
        if not self.total or self.done < max(1, self.total // 50) or elapsed <= 0:
            return None
        return elapsed * (self.total - self.done) / self.done

    def summary(self) -> str:
        """One line for a header or a terminal."""
        if self.state == "done":
            took = _minutes(self.updated_at - self.started_at)
            reused = f", {self.reused:,} of them cached by an earlier, stopped build" if self.reused else ""
            return (
                f"Document index ready: {self.chunks:,} passages{reused}, built in the background in {took}"
            )
        if self.state == "running":
            count = f" {self.done:,} of {self.total:,}" if self.total > 1 else ""
            eta = self.eta_s()
            left = f", about {_minutes(eta)} left" if eta is not None else ""
            return f"Building the document index in the background: {self.stage}{count}{left}"
        verb = "failed" if self.state == "failed" else "was interrupted"
        where = f" while {self.stage}" if self.stage else ""
        return f"The document index build {verb}{where}: {self.error or 'no error recorded'}"


def _minutes(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):  # a finished child not yet reaped is a zombie: not alive
        if Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z"):
            return False
    return True


def status_path(workspace: Workspace) -> Path:
    return workspace.root / "index" / "build.json"


def read_state(workspace: Workspace) -> BuildState | None:
    """The last build's state, or None when no background build was ever started here."""
    path = status_path(workspace)
    if not path.is_file():
        return None
    try:
        data: dict[str, Any] = json.loads(path.read_text())
        known = {f.name for f in fields(BuildState)}
        state = BuildState(**{k: v for k, v in data.items() if k in known})
    except (OSError, ValueError, TypeError, AttributeError) as exc:
        return BuildState(
            "failed",
            stage="",
            error=f"its state file {path} is unreadable ({type(exc).__name__}); start it again",
        )
    if state.state == "running" and not _alive(state.pid):
        state.state = "interrupted"
        state.error = (
            state.error or "the build process ended without finishing (killed, or the machine restarted)"
        )
    return state


def write_state(path: Path, state: BuildState) -> None:
    """Replace the state file whole (a reader never sees half of it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(asdict(state)))
    os.replace(partial, path)


class StateFile:
    """The child's side: writes the state atomically, at most every half second within a stage."""

    def __init__(self, workspace: Workspace, log: Path):
        self.path = status_path(workspace)
        now = time.time()
        self.state = BuildState(
            "running", pid=os.getpid(), started_at=now, updated_at=now, stage_started_at=now, log=str(log)
        )
        self._written = 0.0
        self._write()

    def _write(self) -> None:
        write_state(self.path, self.state)
        self._written = time.monotonic()

    def progress(self, stage: str, done: int, total: int) -> None:
        now = time.time()
        if stage != self.state.stage:  # the new stage began when the last one reported its end
            self.state.stage, self.state.stage_started_at = stage, self.state.updated_at or now
            self._written = 0.0
        self.state.done, self.state.total, self.state.updated_at = done, total, now
        if time.monotonic() - self._written >= WRITE_EVERY_S or done >= total:
            self._write()

    def finish(self, state: str, error: str | None = None) -> None:
        self.state.state, self.state.error, self.state.updated_at = state, error, time.time()
        self._write()


def start_build(settings: Settings) -> subprocess.Popen[bytes] | None:
    """Start the build in a child process unless one is running; its output goes to ``index/build.log``."""
    workspace = Workspace(settings)
    state = read_state(workspace)
    if state is not None and state.active:
        return None
    folder = workspace.root / "index"
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "build-settings.json"
    config.touch(mode=0o600)
    config.write_text(
        settings.model_dump_json(exclude={"audit"})
    )  # the build writes no audit; its URL may hold a password
    log_path = folder / "build.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "assistant.jobs.background_index", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=Path(__file__).resolve().parents[2],
            preexec_fn=_child_setup,
        )
    now = time.time()  # visible at once, so a second start in the meantime sees it running
    write_state(
        status_path(workspace),
        BuildState(
            "running",
            pid=process.pid,
            started_at=now,
            updated_at=now,
            stage_started_at=now,
            log=str(log_path),
        ),
    )
    return process


def _child_setup() -> None:
    """In the child before it runs: low priority, and a SIGTERM when the workbench dies (an orphaned
    build would compete with the next start's; the next start resumes it instead)."""
    os.nice(NICENESS)
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def stop_build(process: subprocess.Popen[bytes] | None, timeout_s: float = 10.0) -> None:
    """Stop a child this process started (the workbench is shutting down); the next start resumes it."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def run_build(config: Path) -> int:
    """The child: build under the lock, reporting progress; 0 when done (or another build holds the lock)."""
    settings = Settings.model_validate_json(config.read_text())
    workspace = Workspace(settings)
    lock_path = workspace.root / "index" / "build.lock"
    with open(lock_path, "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print("another index build holds the lock; nothing to do", flush=True)
            return 0
        state = StateFile(workspace, lock_path.with_name("build.log"))

        def stop(signum: int, _frame: Any) -> None:
            raise KeyboardInterrupt(signal.Signals(signum).name)

        signal.signal(signal.SIGTERM, stop)
        from assistant.jobs.index_build import build_indexes

        try:
            report = build_indexes(settings, progress=False, on_progress=state.progress)
        except KeyboardInterrupt as exc:
            state.finish(
                "interrupted",
                f"stopped by {str(exc) or 'SIGINT'}; it resumes where it stopped on the next start",
            )
            return 130
        except Exception as exc:  # recorded for the workbench, traceback in the log
            traceback.print_exc()
            state.finish("failed", f"{type(exc).__name__}: {exc}")
            return 1
        state.state.chunks, state.state.embedded, state.state.reused = (
            report.chunks,
            report.embedded,
            report.reused,
        )
        state.finish("done")
        return 0


if __name__ == "__main__":
    sys.exit(run_build(Path(sys.argv[1])))
