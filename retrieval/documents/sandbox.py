"""Parse untrusted files in worker processes with a time and memory cap.

A parser bug or a hostile file (a PDF whose streams inflate to gigabytes, a
page tree that loops) must not hang or exhaust the process that serves
underwriters. Each worker is a separate Python process
(``python -m retrieval.documents.sandbox``) that runs :func:`read_file` under
``RLIMIT_AS`` raised by ``max_memory_mb`` over its start size; the parent
gives every file ``max_seconds`` and kills and replaces a worker that overruns
or dies. The file that caused it gets a :class:`DocumentError`; the rest of
the batch goes on. Messages are length-prefixed JSON on the worker's stdin and
a private copy of its stdout (the worker's fd 1 points at stderr, so a library
that prints cannot corrupt the channel); nothing is unpickled.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import struct
import subprocess
import sys
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import IO, Any

from models.errors import UnderwriterError
from retrieval.documents.limits import ReaderLimits
from retrieval.documents.readers import Part, read_file
from retrieval.errors import DocumentError

HEADER = struct.Struct(">I")
MAX_CONSECUTIVE_CRASHES = 8


@dataclass
class ReadResult:
    key: Any
    path: str
    parts: list[Part] | None
    error: DocumentError | None
    seconds: float


def _limit_memory(extra_mb: int) -> None:
    try:
        import resource

        with open("/proc/self/statm") as handle:
            pages = int(handle.read().split()[0])
        cap = pages * os.sysconf("SC_PAGE_SIZE") + extra_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    except (OSError, ValueError, ImportError):  # not Linux: the time limit still applies
        pass


def _send(stream: IO[bytes], message: Any) -> None:
    body = json.dumps(message).encode()
    stream.write(HEADER.pack(len(body)) + body)
    stream.flush()


def _receive(stream: IO[bytes]) -> Any:
    head = stream.read(HEADER.size)
    if len(head) < HEADER.size:
        raise EOFError
    (size,) = HEADER.unpack(head)
    body = stream.read(size)
    if len(body) < size:
        raise EOFError
    return json.loads(body)


def _parse_one(job: dict, limits: ReaderLimits) -> dict:
    try:
        parts = read_file(job["path"], limits, job.get("format"))
        return {"ok": [asdict(p) for p in parts]}
    except DocumentError as exc:
        return {"error": exc.what, "limit": exc.limit}
    except MemoryError:
        return {
            "error": f"needs more than {limits.max_memory_mb} MB to parse (max_memory_mb)",
            "limit": "max_memory_mb",
        }
    except RecursionError:
        return {"error": "is nested too deeply to parse", "limit": None}
    except Exception as exc:  # a parser bug on a hostile file is that file's problem, not the batch's
        return {"error": f"could not be parsed ({type(exc).__name__}: {exc})", "limit": None}


def worker_main() -> None:
    channel = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # stray prints go to stderr, never into the channel
    inbox = sys.stdin.buffer
    limits = ReaderLimits(**_receive(inbox))
    _limit_memory(limits.max_memory_mb)
    while True:
        try:
            job = _receive(inbox)
        except EOFError:
            return
        reply = _parse_one(job, limits)
        _send(channel, reply)
        if reply.get("limit") == "max_memory_mb":
            return  # a worker that ran out of memory is replaced, not reused


class _Worker:
    def __init__(self, limits: ReaderLimits):
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "retrieval.documents.sandbox"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.inbox: IO[bytes] = self.process.stdin
        self.outbox: IO[bytes] = self.process.stdout
        _send(self.inbox, limits.describe())
        self.job: tuple[Any, str] | None = None
        self.started = 0.0

    def stop(self, kill: bool = False) -> None:
        try:
            if kill:
                self.process.kill()
            else:
                self.inbox.close()
            self.process.wait(timeout=5)
        except (subprocess.TimeoutExpired, OSError):
            self.process.kill()
            self.process.wait()
        for stream in (self.inbox, self.outbox):
            with contextlib.suppress(OSError):
                stream.close()


class ParserPool:
    """A few long-lived parser processes; ``read_all`` yields results as files finish."""

    def __init__(self, limits: ReaderLimits | None = None, workers: int = 2):
        self.limits = limits or ReaderLimits()
        self._workers = [_Worker(self.limits) for _ in range(max(1, workers))]
        self._crashes = 0

    def __enter__(self) -> ParserPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for worker in self._workers:
            worker.stop()
        self._workers = []

    def _replace(self, worker: _Worker) -> None:
        worker.stop(kill=True)
        self._workers[self._workers.index(worker)] = _Worker(self.limits)

    def _crashed(self, worker: _Worker, path: str, elapsed: float, key: Any) -> ReadResult:
        code = worker.process.poll()
        self._crashes += 1
        if self._crashes >= MAX_CONSECUTIVE_CRASHES:
            raise UnderwriterError(
                f"document parser processes keep dying (last exit code {code}); "
                f"try `{sys.executable} -m retrieval.documents.sandbox` to see why"
            )
        self._replace(worker)
        return ReadResult(
            key, path, None, DocumentError(path, f"crashed the parser (exit code {code})"), elapsed
        )

    def read_all(
        self, jobs: Iterable[tuple[Any, str | os.PathLike[str], str | None]]
    ) -> Iterator[ReadResult]:
        """Read ``(key, path, format or None)`` jobs; results come in completion order, keyed."""
        pending = deque(jobs)
        limit = self.limits.max_seconds
        while pending or any(w.job for w in self._workers):
            for worker in self._workers:
                if worker.job is None and pending:
                    key, path, fmt = pending.popleft()
                    worker.job = (key, str(path))
                    worker.started = time.perf_counter()
                    with contextlib.suppress(OSError):  # a dead worker is seen as a crash below
                        _send(worker.inbox, {"path": str(path), "format": fmt})
            busy = [w for w in self._workers if w.job]
            timeout = max(0.0, min(w.started + limit for w in busy) - time.perf_counter())
            ready, _, _ = select.select([w.outbox for w in busy], [], [], timeout)
            for worker in busy:
                assert worker.job is not None
                key, path = worker.job
                elapsed = time.perf_counter() - worker.started
                if worker.outbox in ready:
                    worker.job = None
                    try:
                        reply = _receive(worker.outbox)
                    except (EOFError, OSError, ValueError):
                        yield self._crashed(worker, path, elapsed, key)
                        continue
                    self._crashes = 0
                    if "ok" in reply:
                        yield ReadResult(key, path, [Part(**p) for p in reply["ok"]], None, elapsed)
                        continue
                    if reply["limit"] == "max_memory_mb":
                        self._replace(worker)
                    yield ReadResult(
                        key, path, None, DocumentError(path, reply["error"], reply["limit"]), elapsed
                    )
                elif elapsed >= limit:
                    worker.job = None
                    self._replace(worker)
                    error = DocumentError(
                        path,
                        f"took longer than {limit:g} s to parse and was stopped (max_seconds)",
                        "max_seconds",
                    )
                    yield ReadResult(key, path, None, error, elapsed)


if __name__ == "__main__":
    worker_main()
