"""Per-key rate limits (a token bucket per key) and the request size limit (an ASGI middleware that refuses
a body over the limit with 413 before reading it all, whether or not it declares its length)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class RateLimiter:
    """``rate`` requests per minute per key, in bursts of up to a minute's worth."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.buckets: dict[str, tuple[float, float]] = {}
        """key name -> (tokens, last refill time)."""

    def take(self, name: str, rate_per_minute: int) -> float:
        """0 when the request may go ahead; else the seconds until a token is free (for Retry-After)."""
        now = time.monotonic()
        per_second = rate_per_minute / 60.0
        with self.lock:
            tokens, last = self.buckets.get(name, (float(rate_per_minute), now))
            tokens = min(float(rate_per_minute), tokens + (now - last) * per_second)
            if tokens >= 1.0:
                self.buckets[name] = (tokens - 1.0, now)
                return 0.0
            self.buckets[name] = (tokens, now)
            return (1.0 - tokens) / per_second


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with 413 and a JSON error naming the limit. The body is read
    here (never more than the limit plus one chunk) and handed on whole."""

    def __init__(self, app: Any, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.max_bytes:
                await self._refuse(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        await self.app(scope, replaying(body, receive), send)

    async def _refuse(self, send: Send) -> None:
        await send_error(send, 413, f"request body over the limit of {self.max_bytes:,} bytes")


def replaying(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands on a body already read, whole, then whatever the client sends next."""
    delivered = False

    async def replay() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def duplicate_keys(body: bytes) -> list[str]:
    """The keys a JSON body gives more than once, in any object (a parser keeps the last, a hash sees both,
    so the two would disagree); none for a body that is not JSON (the route's own validation says so)."""
    repeated: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: set[str] = set()
        for key, _ in items:
            if key in seen and key not in repeated:
                repeated.append(key)
            seen.add(key)
        return dict(items)

    try:
        json.loads(body, object_pairs_hook=pairs)
    except ValueError:
        return []
    return repeated


class DuplicateKeys:
    """Refuse a JSON body that gives a key twice with 422, naming each such key, before any route reads it."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        repeated = duplicate_keys(body)
        if repeated:
            problems = [{"field": key, "problem": "given more than once"} for key in repeated]
            await send_error(send, 422, f"invalid request: {len(problems)} problem(s)", problems)
            return
        await self.app(scope, replaying(body, receive), send)


async def send_error(
    send: Send, status: int, message: str, problems: list[dict[str, str]] | None = None
) -> None:
    """The service's one error shape, ``{"error", "problems"}``, sent from a middleware."""
    body = json.dumps({"error": message, "problems": problems or []}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
