"""``audit verify``: every chain recomputed, its guards present, its rows keyed, its head anchored.

For each table, the first problem found names the row where the table stops being trustworthy:
a missing trigger (the guard was dropped), a row edited (its hash), a row removed or replaced (the
link), a row whose MAC does not match the key (rewritten and rehashed, or another key), and a head
the checkpoint file recorded that is no longer in the chain (a rewrite after it, or a cut-off tail).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from assistant.audit.anchor import Checkpoint, CheckpointFile, mac
from assistant.audit.guards import guard_problems
from assistant.audit.schema import CHECKPOINTS_STARTED, GENESIS, TABLES


@dataclass
class TableCheck:
    table: str
    rows: int
    broken_at: int | None = None
    problem: str | None = None


@dataclass
class VerifyReport:
    tables: list[TableCheck] = field(default_factory=list)
    migrations: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """Problems of the store as a whole (a checkpoint file that was edited)."""
    notes: list[str] = field(default_factory=list)
    """What the check could not cover (no checkpoint file, no key)."""

    @property
    def ok(self) -> bool:
        return all(t.broken_at is None and t.problem is None for t in self.tables) and not self.problems


def check_chain(
    table: str,
    rows: list[dict[str, Any]],
    row_hash: Callable[[str, dict[str, Any]], str],
    key: bytes | None,
    allowance: dict[str, int] | None,
) -> TableCheck:
    """The first row where the chain breaks: a gap, a broken link, an edit, a wrong MAC, or (with a key) a
    row without a MAC that was not there before the key was first used."""
    check = TableCheck(table, len(rows))
    prev = GENESIS
    for expected_seq, row in enumerate(rows, start=1):
        problem = None
        if row["seq"] != expected_seq:
            problem = f"row {expected_seq} is missing (found seq {row['seq']})"
        elif row["prev_hash"] != prev:
            problem = "its link to the previous row does not match (a row was removed or replaced)"
        elif row_hash(table, dict(row)) != row["row_hash"]:
            problem = "its content does not match its hash (it was edited)"
        elif key and row.get("row_mac") is None and row["seq"] > (allowance or {}).get(table, 0):
            problem = (
                "it carries no MAC although the audit key was in use when it was written "
                "(appended by someone without the key)"
                if allowance is not None
                else "it carries no MAC and no key_enabled event under this key says it predates the key"
            )
        elif (
            key
            and row.get("row_mac") is not None
            and row["row_mac"] != mac(key, table, row["seq"], row["row_hash"])
        ):
            problem = (
                "its MAC does not match the audit key (rewritten and rehashed, or written with another key)"
            )
        if problem:
            check.broken_at, check.problem = row["seq"], problem
            break
        prev = row["row_hash"]
    return check


def check_anchor(check: TableCheck, rows: list[dict[str, Any]], head: Checkpoint | None) -> None:
    """The table's latest checkpointed head must still be in its chain, with the same hash."""
    if head is None or check.broken_at is not None:
        return
    if head.seq > len(rows):
        check.broken_at = len(rows) + 1
        check.problem = (
            f"the table ends at row {len(rows)} but the checkpoint file recorded row {head.seq} "
            f"(line {head.line}, {head.at}): rows were deleted or the table was emptied"
        )
    elif rows[head.seq - 1]["row_hash"] != head.row_hash:
        check.broken_at = head.seq
        check.problem = (
            f"row {head.seq} is not the row the checkpoint file recorded (line {head.line}, {head.at}): "
            "the chain was rewritten and rehashed"
        )


def _checkpoint_heads(store: Any, report: VerifyReport) -> dict[str, Checkpoint]:
    checkpoints: CheckpointFile | None = store.checkpoints
    started = store.rows("audit_events", {"kind": CHECKPOINTS_STARTED}, limit=1)
    if checkpoints is None or not checkpoints.path.exists():
        if started:
            report.problems.append(
                f"the checkpoint file {json.loads(started[0]['detail'])['path']} is gone although it was written "
                f"(audit_events row {started[0]['seq']}): deleted, or the store was moved without it"
            )
        else:
            report.notes.append(
                "no checkpoint file: a rewrite of the whole chain or a cut-off tail cannot be detected"
            )
        return {}
    event = store.key_event() if store.key else None
    points, problems = checkpoints.read(str(event["created_at"]) if event else None)
    report.problems += problems
    if started and not any(p.table == "audit_events" and p.seq == started[0]["seq"] for p in points):
        report.problems.append(
            f"the checkpoint file {checkpoints.path} lacks its first checkpoint (audit_events row "
            f"{started[0]['seq']}): it was deleted and written anew, or cut"
        )
    report.notes.append(f"checked against {len(points)} checkpoint(s) in {checkpoints.path}")
    return checkpoints.heads()


def verify_store(store: Any, row_hash: Callable[[str, dict[str, Any]], str]) -> VerifyReport:
    """Every table of ``store`` (an :class:`~assistant.audit.store.AuditStore`) checked; a table that cannot
    be read at all (dropped) is a failure with its reason, never a traceback."""
    report = VerifyReport(migrations=store.migrations())
    heads = _checkpoint_heads(store, report)
    key = store.key
    allowance = store.unkeyed_allowance() if key else None
    if not key:
        report.notes.append("no audit key (UNDERWRITER_AUDIT_KEY): rows carry no MAC to check")
    elif allowance is None:
        report.problems.append(
            "no key_enabled event verifies under this audit key: another key, or the event was forged"
        )
    for table in TABLES:
        try:
            rows = store.rows(table)
            guards = guard_problems(store.conn, table)
        except Exception as exc:  # a dropped or unreadable table: named, with the database's reason
            report.tables.append(TableCheck(table, 0, None, f"cannot be read: {str(exc).splitlines()[0]}"))
            continue
        check = check_chain(table, rows, row_hash, key, allowance)
        check_anchor(check, rows, heads.get(table))
        if guards and check.problem is None:
            check.problem = f"its append-only guard is gone ({'; '.join(guards)})"
        report.tables.append(check)
    return report
