"""``audit verify``: every chain recomputed, its guards present, its rows keyed, its head anchored.

For each table, the first problem found names the row where the table stops being trustworthy:
a missing trigger (the guard was dropped), a row edited (its hash), a row removed or replaced (the
link), a row whose MAC does not match the key (rewritten and rehashed, or another key), and a head
the checkpoint file recorded that is no longer in the chain (a rewrite after it, or a cut-off tail).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from assistant.audit.anchor import Checkpoint, CheckpointFile, mac
from assistant.audit.schema import EXPECTED_TRIGGERS, GENESIS, TABLES


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


def triggers(conn: Any, table: str) -> set[str]:
    if conn.dialect == "sqlite":
        rows = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", (table,)
        )
    else:
        rows = conn.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = ?::regclass AND NOT tgisinternal AND tgenabled <> 'D'",
            (table,),
        )
    return {str(r[0]) for r in rows}


def check_chain(
    table: str,
    rows: list[dict[str, Any]],
    row_hash: Callable[[str, dict[str, Any]], str],
    key: bytes | None,
) -> TableCheck:
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


def verify_store(
    conn: Any,
    migrations: list[str],
    read: Callable[[str], list[dict[str, Any]]],
    row_hash: Callable[[str, dict[str, Any]], str],
    checkpoints: CheckpointFile | None,
    key: bytes | None,
) -> VerifyReport:
    report = VerifyReport(migrations=migrations)
    heads: dict[str, Checkpoint] = {}
    if checkpoints is None or not checkpoints.path.exists():
        report.notes.append(
            "no checkpoint file: a rewrite of the whole chain or a cut-off tail cannot be detected"
        )
    else:
        points, problems = checkpoints.read()
        report.problems += problems
        heads = checkpoints.heads()
        report.notes.append(f"checked against {len(points)} checkpoint(s) in {checkpoints.path}")
    if not key:
        report.notes.append("no audit key (UNDERWRITER_AUDIT_KEY): rows carry no MAC to check")
    for table in TABLES:
        rows = read(table)
        expected = {t.format(t=table) for t in EXPECTED_TRIGGERS[conn.dialect]}
        missing = sorted(expected - triggers(conn, table))
        check = check_chain(table, rows, row_hash, key)
        check_anchor(check, rows, heads.get(table))
        if missing and check.problem is None:
            check.problem = f"its append-only guard is gone (missing trigger {', '.join(missing)})"
        if key and check.problem is None:
            unkeyed = sum(r.get("row_mac") is None for r in rows)
            if unkeyed:
                report.notes.append(f"{table}: {unkeyed} row(s) were written before the audit key was set")
        report.tables.append(check)
    return report
