"""What every portfolio run shares, whatever its engine: the input's hash and its row in the runs table."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from assistant.workspace import Workspace
from models.errors import UnderwriterError
from models.store.versioned import sha256_file


def input_sha256(path: Path) -> str:
    """SHA-256 of a file (as a local run's dataset hash), or of a folder's files: each file's
    relative name and content hash, in name order (a Parquet dataset written by Spark)."""
    if path.is_file():
        return sha256_file(path)
    files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith((".", "_")))
    if not files:
        raise UnderwriterError(f"{path}: no input file")
    lines = "".join(f"{p.relative_to(path).as_posix()} {sha256_file(p)}\n" for p in files)
    return hashlib.sha256(lines.encode()).hexdigest()


def record_run(workspace: Workspace, **row: Any) -> None:
    """One row of the audit trail's ``runs`` table (``params`` given as a dict)."""
    with workspace.open_audit() as audit:
        audit.append("runs", **{**row, "params": json.dumps(row.get("params", {}), sort_keys=True)})
