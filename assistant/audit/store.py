"""The append-only, hash-chained audit store: SQLite (WAL, synchronous=FULL) or PostgreSQL.

One interface, :class:`AuditStore`, over a small :class:`Connection` per dialect. Rows are
appended inside an exclusive transaction that reads the table's last hash, so concurrent
writers (batch workers, the app) still build one unbroken chain per table.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from assistant.audit.anchor import CheckpointFile, mac
from assistant.audit.schema import CHECKPOINTS_STARTED, GENESIS, KEY_ENABLED, LATE_COLUMNS, MIGRATIONS, TABLES
from assistant.audit.verify import TableCheck, VerifyReport, verify_store
from models.errors import UnderwriterError


class AuditError(UnderwriterError):
    """The audit store cannot be opened, written or trusted."""


class Connection(Protocol):
    dialect: str

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]: ...

    def transaction(self, tables: Sequence[str]) -> Any: ...

    def close(self) -> None: ...


class SQLiteConnection:
    dialect = "sqlite"

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path, timeout=60, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("PRAGMA busy_timeout=60000")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        return self.db.execute(sql, tuple(params)).fetchall()

    @contextmanager
    def transaction(self, tables: Sequence[str]) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")  # the write lock first: no two writers read the same last hash
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def close(self) -> None:
        self.db.close()


class PostgresConnection:
    dialect = "postgresql"

    def __init__(self, url: str):
        try:
            import psycopg
        except ImportError:
            raise AuditError(
                "a PostgreSQL audit store needs psycopg: pip install 'underwriter[postgres]'"
            ) from None
        try:
            self.db = psycopg.connect(url, autocommit=True)
        except psycopg.Error as exc:
            raise AuditError(f"cannot connect to the audit database: {exc}") from None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        with self.db.cursor() as cursor:
            cur: Any = cursor  # our SQL is built from fixed table and column names, never from input
            if params:
                cur.execute(sql.replace("?", "%s"), tuple(params))
            else:  # no placeholders: a literal '%' (in a function body) must stay as it is
                cur.execute(sql)
            return list(cur.fetchall()) if cur.description else []

    @contextmanager
    def transaction(self, tables: Sequence[str]) -> Iterator[None]:
        with self.db.transaction():
            for table in sorted(tables):
                self.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
            yield

    def close(self) -> None:
        self.db.close()


def connect(target: str | Path) -> Connection:
    """``postgresql://...`` for PostgreSQL; ``sqlite:///path`` or a plain path for SQLite."""
    text = str(target)
    if text.startswith(("postgresql://", "postgres://")):
        return PostgresConnection(text)
    if text.startswith("sqlite:///"):
        text = text.removeprefix("sqlite:///")
    return SQLiteConnection(Path(text))


def row_hash(table: str, row: Mapping[str, Any]) -> str:
    """Hash of a row's content and its predecessor's hash (``prev_hash`` is part of ``row``)."""
    content = {
        k: v
        for k, v in row.items()
        if k not in {"row_hash", "row_mac"} and not (k in LATE_COLUMNS and v is None)
    }
    blob = json.dumps([table, content], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class AuditStore:
    """Append rows, read them back, verify the chains. Open with :meth:`open`."""

    def __init__(self, conn: Connection, checkpoints: CheckpointFile | None = None, key: bytes | None = None):
        self.conn = conn
        self.key = key
        self.checkpoints = checkpoints
        self._migrate()
        if key and not self.rows("audit_events", {"kind": KEY_ENABLED}):
            self.append("audit_events", kind=KEY_ENABLED, detail={"heads": self._rows_before_first_mac()})
        if checkpoints is not None and checkpoints.path.exists() and not self._started():
            self.append("audit_events", kind=CHECKPOINTS_STARTED, detail={"path": str(checkpoints.path)})

    @classmethod
    def open(
        cls, target: str | Path, *, checkpoint: Path | None = None, key: bytes | None = None
    ) -> AuditStore:
        """``checkpoint``: the append-only file each commit's chain heads go to (by default beside a
        SQLite file; none for PostgreSQL unless given); ``key``: the HMAC key rows are signed with."""
        text = str(target)
        if checkpoint is None and not text.startswith(("postgresql://", "postgres://")):
            checkpoint = Path(text.removeprefix("sqlite:///") + ".checkpoints")
        try:
            return cls(connect(target), CheckpointFile(checkpoint, key) if checkpoint else None, key)
        except sqlite3.DatabaseError as exc:
            raise AuditError(f"{target} is not a usable audit database: {exc}") from None

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> AuditStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT)"
        )
        with self.conn.transaction(["schema_migrations"]):
            applied = [r[0] for r in self.conn.execute("SELECT name FROM schema_migrations ORDER BY name")]
            known = [m.name for m in MIGRATIONS]
            unknown = sorted(set(applied) - set(known))
            if unknown:
                raise AuditError(
                    f"the audit database has migrations this version does not know: {unknown}; "
                    "use the newer Underwriter that wrote them"
                )
            for migration in MIGRATIONS:
                if migration.name in applied:
                    continue
                for statement in migration.sql[self.conn.dialect]:
                    self.conn.execute(statement)
                self.conn.execute(
                    "INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)", (migration.name, _now())
                )

    def migrations(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT name FROM schema_migrations ORDER BY name")]

    def append(self, table: str, **values: Any) -> int:
        return self.append_many([(table, values)])[0]

    def append_many(self, rows: Sequence[tuple[str, Mapping[str, Any]]]) -> list[int]:
        """Append rows (possibly to several tables) in one transaction: all land or none. The first write of
        the checkpoint file is recorded with them: from then on, a missing file is a failure of verify."""
        for table, values in rows:
            self._check(table, values)
        if self.checkpoints is not None and not self.checkpoints.path.exists() and not self._started():
            started = {"kind": CHECKPOINTS_STARTED, "detail": {"path": str(self.checkpoints.path)}}
            rows = [*rows, ("audit_events", started)]
        seqs: list[int] = []
        tables = sorted({t for t, _ in rows})
        with self.conn.transaction(tables):
            last: dict[str, tuple[int, str]] = {}
            for table in tables:
                got = self.conn.execute(f"SELECT seq, row_hash FROM {table} ORDER BY seq DESC LIMIT 1")
                last[table] = (int(got[0][0]), str(got[0][1])) if got else (0, GENESIS)
            for table, values in rows:
                seq, prev = last[table]
                row = {c: _plain(values.get(c)) for c in TABLES[table]}
                row.update(seq=seq + 1, created_at=_now(), prev_hash=prev)
                row["row_hash"] = row_hash(table, row)
                row["row_mac"] = mac(self.key, table, row["seq"], row["row_hash"])
                names = list(row)
                self.conn.execute(
                    f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                    [row[n] for n in names],
                )
                last[table] = (row["seq"], row["row_hash"])
                seqs.append(row["seq"])
        if self.checkpoints is not None:  # after the commit: a checkpoint never names a row that is not there
            self.checkpoints.record({t: last[t] for t in tables})
        return seqs

    @staticmethod
    def _check(table: str, values: Mapping[str, Any]) -> None:
        if table not in TABLES:
            raise AuditError(f"no audit table {table!r}; tables: {', '.join(TABLES)}")
        unknown = sorted(set(values) - set(TABLES[table]))
        if unknown:
            raise AuditError(f"audit table {table!r} has no column(s) {unknown}")

    def rows(
        self, table: str, where: Mapping[str, Any] | None = None, *, limit: int | None = None
    ) -> list[dict[str, Any]]:
        self._check(table, where or {})
        columns = ["seq", "created_at", *TABLES[table], "prev_hash", "row_hash", "row_mac"]
        clause = " AND ".join(f"{k} = ?" for k in (where or {}))
        sql = f"SELECT {', '.join(columns)} FROM {table}" + (f" WHERE {clause}" if clause else "")
        sql += " ORDER BY seq" + (f" LIMIT {int(limit)}" if limit else "")
        return [
            dict(zip(columns, r, strict=True)) for r in self.conn.execute(sql, list((where or {}).values()))
        ]

    def _started(self) -> bool:
        return bool(self.rows("audit_events", {"kind": CHECKPOINTS_STARTED}, limit=1))

    def _rows_before_first_mac(self) -> dict[str, int]:
        """Per table, the leading rows written before any row of the store carried a MAC: the rows that
        were there when the audit key was first used (all of them, on a store never keyed)."""
        firsts = [
            r[0]
            for t in TABLES
            for r in self.conn.execute(f"SELECT MIN(created_at) FROM {t} WHERE row_mac IS NOT NULL")
            if r[0] is not None
        ]
        first = min(firsts, default=None)
        heads = {}
        for table in TABLES:
            stamps = [str(r[0]) for r in self.conn.execute(f"SELECT created_at FROM {table} ORDER BY seq")]
            before = next(
                (i for i, at in enumerate(stamps) if first is not None and at >= first), len(stamps)
            )
            heads[table] = before
        return heads

    def key_event(self) -> dict[str, Any] | None:
        """The ``key_enabled`` event that verifies under this store's key, or None."""
        for row in self.rows("audit_events", {"kind": KEY_ENABLED}):
            if self.authentic("audit_events", row, None):
                return row
        return None

    def unkeyed_allowance(self) -> dict[str, int] | None:
        """Per table, how many leading rows may lack a MAC (written before the key was first used), from the
        ``key_enabled`` event; None when no event verifies under this store's key (every row needs a MAC)."""
        event = self.key_event()
        if event is None:
            return None
        return {str(k): int(v) for k, v in json.loads(event["detail"])["heads"].items()}

    def authentic(self, table: str, row: Mapping[str, Any], allowance: Mapping[str, int] | None) -> bool:
        """The row hashes to its own hash and, with a key, carries the key's MAC (or precedes the key)."""
        if row_hash(table, dict(row)) != row["row_hash"]:
            return False
        if not self.key:
            return True
        if row.get("row_mac") is None:
            return allowance is not None and int(row["seq"]) <= allowance.get(table, 0)
        return row["row_mac"] == mac(self.key, table, row["seq"], row["row_hash"])

    def verified_rows(self, table: str) -> tuple[list[dict[str, Any]], int]:
        """The table's rows that are authentic, and how many were left out (forged or edited)."""
        allowance = self.unkeyed_allowance()
        rows = self.rows(table)
        kept = [r for r in rows if self.authentic(table, r, allowance)]
        return kept, len(rows) - len(kept)

    def count(self, table: str) -> int:
        self._check(table, {})
        return int(self.conn.execute(f"SELECT COUNT(*) FROM {table}")[0][0])

    def verify(self) -> VerifyReport:
        """Recompute every chain, check its guards, MACs and checkpointed heads; name the first bad row."""
        return verify_store(self, row_hash)


def _plain(value: Any) -> Any:
    """Store dicts and lists as canonical JSON text; scalars as they are."""
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return value


__all__ = ["AuditError", "AuditStore", "TableCheck", "VerifyReport", "connect", "row_hash"]
