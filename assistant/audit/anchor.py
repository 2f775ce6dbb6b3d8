"""Anchors for the audit chains outside the database: checkpoints and a keyed MAC.

A hash chain inside one database proves nothing to someone who can rewrite the database: drop the
triggers, edit a row, recompute every hash after it, and the chain is whole again. Two anchors
close that hole:

* **Checkpoints.** After each commit, each written table's head (sequence, hash) is appended to a
  file outside the database (``[audit] checkpoint``; by default beside a SQLite file, or in the
  workspace for PostgreSQL). The file is only ever appended to (``O_APPEND``, fsync, an OS lock);
  ``audit verify`` checks that every head it records is still in the chain, so a rewrite-and-rehash
  or a cut-off tail (deleted last rows, ``TRUNCATE``) is named with the row where it breaks.
  Put it on storage the database's users cannot rewrite for the anchor to hold against them.
* **A key.** With ``UNDERWRITER_AUDIT_KEY`` (or ``[audit] key``) set, every row and checkpoint
  carries an HMAC-SHA256 of its hash. Without the key no one can forge a row that verifies, even
  with write access to both the database and the checkpoint file.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

KEY_ENV = "UNDERWRITER_AUDIT_KEY"


def mac(key: bytes | None, *parts: object) -> str | None:
    """HMAC-SHA256 of ``parts`` under ``key``; None without a key."""
    if not key:
        return None
    blob = json.dumps([str(p) for p in parts], ensure_ascii=False).encode()
    return hmac.new(key, blob, hashlib.sha256).hexdigest()


def key_from(setting: str | None) -> bytes | None:
    """The audit key: the environment's, else the settings' (None when neither is set)."""
    text = os.environ.get(KEY_ENV) or setting or ""
    return text.encode() if text else None


@dataclass(frozen=True)
class Checkpoint:
    table: str
    seq: int
    row_hash: str
    at: str
    mac: str | None
    line: int


class CheckpointFile:
    """Append-only JSON lines: ``{"table", "seq", "row_hash", "at", "mac"}``, one per table per commit."""

    def __init__(self, path: Path, key: bytes | None):
        self.path = path
        self.key = key

    def record(self, heads: dict[str, tuple[int, str]]) -> None:
        if not heads:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        at = datetime.now(UTC).isoformat(timespec="microseconds")
        lines = "".join(
            json.dumps(
                {"table": t, "seq": seq, "row_hash": h, "at": at, "mac": mac(self.key, t, seq, h)},
                sort_keys=True,
            )
            + "\n"
            for t, (seq, h) in sorted(heads.items())
        )
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, lines.encode())
            os.fsync(fd)
        finally:
            os.close(fd)

    def read(self, keyed_since: str | None = None) -> tuple[list[Checkpoint], list[str]]:
        """Every checkpoint, and a problem for each line that is not one (cut off, edited, mis-keyed).
        ``keyed_since``: when the key was first used; a line written before it may carry no MAC."""
        if not self.path.exists():
            return [], []
        out: list[Checkpoint] = []
        problems: list[str] = []
        for number, text in enumerate(self.path.read_text(encoding="utf-8").splitlines(), start=1):
            try:
                d = json.loads(text)
                point = Checkpoint(
                    str(d["table"]), int(d["seq"]), str(d["row_hash"]), str(d["at"]), d.get("mac"), number
                )
            except (ValueError, KeyError, TypeError):
                problems.append(f"checkpoint line {number} is not a checkpoint (cut off or edited)")
                continue
            unkeyed_before = point.mac is None and keyed_since is not None and point.at < keyed_since
            if (
                self.key
                and not unkeyed_before
                and point.mac != mac(self.key, point.table, point.seq, point.row_hash)
            ):
                problems.append(
                    f"checkpoint line {number} ({point.table} row {point.seq}) does not carry the key's MAC: "
                    "it was written without the key, with another key, or edited"
                )
            out.append(point)
        return out, problems

    def heads(self) -> dict[str, Checkpoint]:
        """The latest checkpoint of each table."""
        latest: dict[str, Checkpoint] = {}
        for point in self.read()[0]:
            if point.table not in latest or point.seq >= latest[point.table].seq:
                latest[point.table] = point
        return latest
