"""Workbench logins: a users file of salted PBKDF2 hashes, never passwords.

One line per user, ``name:pbkdf2_sha256$ITERATIONS$SALT$HASH``; written by
``underwrite ui-user add NAME`` with mode 0600. The app checks logins in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Callable
from pathlib import Path

from models.errors import UnderwriterError

ITERATIONS = 240_000
NAME = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")
MIN_PASSWORD = 10


def hash_password(password: str, *, salt: str | None = None, iterations: int = ITERATIONS) -> str:
    salt = salt or secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), iterations).hex()
    return f"pbkdf2_sha256${iterations}${salt}${digest}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, iterations, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "pbkdf2_sha256":
        return False
    candidate = hash_password(password, salt=salt, iterations=int(iterations)).split("$")[-1]
    return hmac.compare_digest(candidate, digest)


def load_users(path: Path) -> dict[str, str]:
    if not path.is_file():
        raise UnderwriterError(
            f"users file {path} does not exist; create it with `underwrite ui-user add NAME`"
        )
    users = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        name, sep, stored = line.partition(":")
        if not sep or not NAME.match(name) or not stored.startswith("pbkdf2_sha256$"):
            raise UnderwriterError(f"users file {path}, line {number}: expected NAME:pbkdf2_sha256$...")
        users[name] = stored
    if not users:
        raise UnderwriterError(f"users file {path} lists no user")
    return users


def add_user(path: Path, name: str, password: str) -> None:
    """Add or replace one user; the file is rewritten whole (0600) or not at all."""
    if not NAME.match(name):
        raise UnderwriterError(f"user name {name!r}: letters, digits, . _ @ - only, up to 64")
    if len(password) < MIN_PASSWORD:
        raise UnderwriterError(f"password: at least {MIN_PASSWORD} characters")
    users = load_users(path) if path.is_file() and path.stat().st_size else {}
    users[name] = hash_password(password)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("".join(f"{n}:{h}\n" for n, h in sorted(users.items())))
    os.replace(staging, path)


def login_checker(path: Path) -> Callable[[str, str], bool]:
    users = load_users(path)
    dummy = hash_password("not a password")

    def check(name: str, password: str) -> bool:
        stored = users.get(name)
        ok = verify_password(password, stored or dummy)  # same work for unknown names
        return ok and stored is not None

    return check


def decision_identity(sign_in: bool, typed: str | None, signed_in: str | None) -> tuple[str, bool]:
    """(name to record, authenticated?). With sign-in on, only the signed-in user; a different typed
    name is refused. With sign-in off, the typed name is required and marked unauthenticated."""
    typed = (typed or "").strip()
    if sign_in:
        if not signed_in:
            raise UnderwriterError("sign in to record a decision")
        if typed and typed != signed_in:
            raise UnderwriterError(
                f"you are signed in as {signed_in}: a decision is recorded under your own name, not {typed!r}"
            )
        return signed_in, True
    if not typed:
        raise UnderwriterError("underwriter: a name is required to record a decision (sign-in is off)")
    return typed, False
