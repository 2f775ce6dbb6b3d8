"""Every request the service answers, in the audit trail; and idempotency keys, so a retried POST never
scores or writes twice.

A POST may carry an ``Idempotency-Key`` header. The first request with a key (per API key) is answered
and recorded with its body's SHA-256; a later one with the same key and the same body gets the recorded
answer back (``Idempotent-Replayed: true``), and one with the same key and a different body is refused
(422), since answering it would silently drop one of the two. Two identical requests racing each other
are serialised on the key, so only one of them is scored.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from assistant.audit import AuditStore

IDEMPOTENCY_KEY_RE = re.compile(r"^[\x21-\x7e]{1,128}$")
"""1-128 visible ASCII characters (a UUID, a payment id ...)."""
GUARD_STRIPES = 256
"""Locks shared by hash of the key: memory stays bounded however many keys callers send."""


@dataclass(frozen=True)
class Recorded:
    request_sha256: str
    response: dict[str, Any]


class RequestLog:
    def __init__(self, audit: AuditStore, audit_lock: threading.Lock):
        self.audit = audit
        self.audit_lock = audit_lock
        self.stripes = [threading.Lock() for _ in range(GUARD_STRIPES)]

    @contextmanager
    def guarded(self, key_name: str, idempotency_key: str | None) -> Iterator[None]:
        """Hold the idempotency key (when there is one) while the request is looked up, answered and recorded."""
        if idempotency_key is None:
            yield
            return
        with self.stripes[hash((key_name, idempotency_key)) % GUARD_STRIPES]:
            yield

    def find(self, key_name: str, idempotency_key: str | None) -> Recorded | None:
        if idempotency_key is None:
            return None
        with self.audit_lock:
            rows = self.audit.rows("api_requests", {"key_name": key_name, "idempotency_key": idempotency_key})
        if not rows:
            return None
        return Recorded(rows[0]["request_sha256"], json.loads(rows[0]["response"]))

    def record(
        self,
        *,
        key_name: str,
        endpoint: str,
        idempotency_key: str | None,
        request_sha256: str,
        response: dict[str, Any],
    ) -> None:
        with self.audit_lock:
            self.audit.append(
                "api_requests",
                request_id=response["request_id"],
                key_name=key_name,
                endpoint=endpoint,
                idempotency_key=idempotency_key,
                request_sha256=request_sha256,
                case_id=response.get("case_id"),
                model_id=response.get("model_id"),
                pd=response.get("pd"),
                grade=response.get("grade"),
                band=response.get("band"),
                response=response,
            )


def new_request_id() -> str:
    return f"req-{uuid.uuid4().hex[:16]}"
