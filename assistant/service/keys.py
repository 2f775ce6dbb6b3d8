"""The decision service's API keys: created, listed and revoked as events in the audit trail.

A key is 256 random bits shown once, at creation; only its SHA-256 is stored. A slow password hash
(bcrypt, scrypt) protects secrets people choose; a key with 256 bits of entropy cannot be guessed
from its hash, and SHA-256 keeps the check off the request's latency budget. Each key carries
scopes (``score``, ``memo``, ``admin``) and, optionally, its own rate limit.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import threading
import time
from dataclasses import dataclass

from assistant.audit import AuditStore
from models.errors import UnderwriterError

LOG = logging.getLogger("underwriter.service.keys")
SCOPES = ("score", "memo", "admin")
KEY_PREFIX = "uwk_"
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
RELOAD_EVERY_S = 2.0
"""The ring re-reads the trail at most this often, so a key added or revoked while serving counts within seconds."""


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    name: str
    scopes: frozenset[str]
    rate_per_minute: int | None
    """None: the service's default rate."""


def key_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_scopes(text: str) -> frozenset[str]:
    scopes = frozenset(s.strip() for s in text.split(",") if s.strip())
    unknown = sorted(scopes - set(SCOPES))
    if unknown or not scopes:
        raise UnderwriterError(
            f"scopes must be a comma-separated choice of {', '.join(SCOPES)}, got {text!r}"
        )
    return scopes


def active_keys(audit: AuditStore) -> dict[str, ApiKey]:
    """SHA-256 -> key, for every key added and not revoked since, read from the rows that verify: with an
    audit key set, a key row without the key's MAC (appended by someone with write access to the database
    but not the key) is no key at all."""
    live: dict[str, tuple[str, ApiKey]] = {}
    rows, forged = audit.verified_rows("api_keys")
    if forged:
        LOG.warning(
            "%d api_keys row(s) do not verify (no MAC, a wrong MAC or an edit) and grant nothing", forged
        )
    for row in rows:
        if row["action"] == "add":
            rate = row["rate_per_minute"]
            key = ApiKey(row["key_id"], row["name"], parse_scopes(row["scopes"]), int(rate) if rate else None)
            live[row["name"]] = (row["key_sha256"], key)
        elif row["action"] == "revoke":
            live.pop(row["name"], None)
    return dict(live.values())


def add_key(
    audit: AuditStore, name: str, scopes: str = "score", rate_per_minute: int | None = None
) -> tuple[ApiKey, str]:
    """A new key and its secret (shown once); a clear error for a bad or taken name, nothing stored then."""
    if not NAME_RE.match(name):
        raise UnderwriterError(
            f"key name {name!r}: 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    if any(k.name == name for k in active_keys(audit).values()):
        raise UnderwriterError(
            f"a key named {name!r} exists; revoke it first (`underwrite api-key revoke {name}`)"
        )
    if rate_per_minute is not None and rate_per_minute < 1:
        raise UnderwriterError(f"--rate must be at least 1 request per minute, got {rate_per_minute}")
    granted = parse_scopes(scopes)
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(f"key-{secrets.token_hex(6)}", name, granted, rate_per_minute)
    audit.append(
        "api_keys",
        key_id=key.key_id,
        name=name,
        action="add",
        key_sha256=key_hash(secret),
        scopes=",".join(sorted(granted)),
        rate_per_minute=rate_per_minute,
    )
    return key, secret


def revoke_key(audit: AuditStore, name: str) -> ApiKey:
    found = next((k for k in active_keys(audit).values() if k.name == name), None)
    if found is None:
        raise UnderwriterError(f"no active key named {name!r}")
    audit.append("api_keys", key_id=found.key_id, name=name, action="revoke", key_sha256="", scopes="")
    return found


class KeyRing:
    """The active keys in memory, re-read from the trail every few seconds, so keys added or revoked while
    the service runs take effect within seconds."""

    def __init__(self, audit: AuditStore, lock: threading.Lock):
        self.audit = audit
        self.lock = lock
        self.keys: dict[str, ApiKey] = {}
        self.loaded_at = 0.0
        self.reload()

    def reload(self) -> None:
        with self.lock:
            self.keys = active_keys(self.audit)
        self.loaded_at = time.monotonic()

    def lookup(self, secret: str) -> ApiKey | None:
        if time.monotonic() - self.loaded_at > RELOAD_EVERY_S:
            self.reload()
        return self.keys.get(key_hash(secret))
