"""The audit trail's tables and the named, ordered migrations that create them.

Every audited table is append-only: a database trigger refuses UPDATE and DELETE, and
each row carries the hash of the previous row of its table, so an edit made around the
triggers (with the triggers dropped, or the file patched) breaks the chain and
``underwrite audit verify`` names the first broken row.

A migration is applied once, in order, and recorded in ``schema_migrations``; a database
with a migration this code does not know (written by a newer version) is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

TABLES: dict[str, tuple[str, ...]] = {
    "scores": ("merchant_id", "model_id", "pd", "grade", "band", "payload"),
    "llm_calls": (
        "call_id",
        "purpose",
        "template",
        "template_sha256",
        "prompt_sha256",
        "model_id",
        "params",
        "input_sha256",
        "messages",
        "output",
        "prompt_tokens",
        "completion_tokens",
        "seconds",
        "finish_reason",
    ),
    "memos": (
        "memo_id",
        "merchant_id",
        "run_id",
        "inputs",
        "call_ids",
        "markdown",
        "json_text",
        "html",
        "output_sha256",
    ),
    "decisions": ("memo_id", "merchant_id", "underwriter", "decision", "note"),
    "runs": (
        "run_id",
        "kind",
        "engine",
        "model_id",
        "input_sha256",
        "rows_in",
        "rows_out",
        "rows_rejected",
        "output",
        "params",
    ),
    "notices": (
        "notice_id",
        "memo_id",
        "merchant_id",
        "decision",
        "reasons",
        "markdown",
        "html",
        "output_sha256",
    ),
    "api_keys": ("key_id", "name", "action", "key_sha256", "scopes", "rate_per_minute"),
    "api_requests": (
        "request_id",
        "key_name",
        "endpoint",
        "idempotency_key",
        "request_sha256",
        "case_id",
        "model_id",
        "pd",
        "grade",
        "band",
        "response",
    ),
    "shadow_scores": (
        "request_id",
        "case_id",
        "challenger",
        "model_id",
        "pd",
        "grade",
        "band",
        "champion_model_id",
        "champion_pd",
        "champion_band",
    ),
    "promotions": (
        "action",
        "name",
        "model_path",
        "model_id",
        "previous_model_path",
        "previous_model_id",
        "by_user",
        "reason",
    ),
    "alerts": ("alert_id", "merchant_id", "month", "kinds", "score", "pd", "band", "detail"),
    "audit_events": ("kind", "detail"),
}
"""Columns each audited table has besides the chain columns (seq, created_at, prev_hash, row_hash).
``runs``: one row per batch job (scoring, memos, training), engine and input hash included.
``notices``: each adverse-action notice issued, with the memo it rests on and its principal reasons.
``api_keys``: the decision service's keys as events (``add``, ``revoke``), only the key's SHA-256 kept.
``api_requests``: every decision (and memo request) the service answered, with the request's hash, the key's name and the
idempotency key a retry is matched on. ``shadow_scores``: each challenger's score of a served request.
``promotions``: champion changes (``promote``, ``rollback``), who and why. ``alerts``: the book monitor's
alerts, one per merchant and month, with every check it tripped. ``audit_events``: the trail's own
events that ``audit verify`` rests on: ``key_enabled`` (the audit key was first used; the rows each table
held before it, which alone may lack a MAC) and ``checkpoints_started`` (the checkpoint file's first
write: from then on a missing file is a failure)."""

GENESIS = "0" * 64
KEY_ENABLED = "key_enabled"
CHECKPOINTS_STARTED = "checkpoints_started"
"""The kinds of ``audit_events`` rows."""
LATE_COLUMNS = frozenset({"finish_reason"})
"""Columns added by a later migration (0004): not in the tables' first form, and a row written
before them (the column empty) hashes without them."""


@dataclass(frozen=True)
class Migration:
    name: str
    sql: dict[str, list[str]]
    """Statements per dialect (``sqlite``, ``postgresql``)."""


def _create(table: str, columns: tuple[str, ...]) -> str:
    typed = {
        "pd": "DOUBLE PRECISION",
        "seconds": "DOUBLE PRECISION",
        "prompt_tokens": "INTEGER",
        "completion_tokens": "INTEGER",
        "rows_in": "INTEGER",
        "rows_out": "INTEGER",
        "rows_rejected": "INTEGER",
        "rate_per_minute": "INTEGER",
        "champion_pd": "DOUBLE PRECISION",
        "score": "DOUBLE PRECISION",
    }
    body = ", ".join(f"{c} {typed.get(c, 'TEXT')}" for c in columns)
    return (
        f"CREATE TABLE {table} (seq INTEGER PRIMARY KEY, created_at TEXT NOT NULL, {body}, "
        "prev_hash TEXT NOT NULL, row_hash TEXT NOT NULL)"
    )


def _sqlite_guards(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END",
        f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END",
    ]


def _postgres_guards(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION underwriter_append_only()",
    ]


POSTGRES_GUARD_FUNCTION = (
    "CREATE OR REPLACE FUNCTION underwriter_append_only() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END; $$ LANGUAGE plpgsql"
)


INITIAL_TABLES = ("scores", "llm_calls", "memos", "decisions")


def _tables(name: str, tables: tuple[str, ...], *, guard_function: bool = False) -> Migration:
    sqlite: list[str] = []
    postgres: list[str] = [POSTGRES_GUARD_FUNCTION] if guard_function else []
    for table in tables:
        columns = tuple(c for c in TABLES[table] if c not in LATE_COLUMNS)
        sqlite += [_create(table, columns), *_sqlite_guards(table)]
        postgres += [_create(table, columns), *_postgres_guards(table)]
    return Migration(name, {"sqlite": sqlite, "postgresql": postgres})


MIGRATIONS: tuple[Migration, ...] = (
    _tables("0001_append_only_tables", INITIAL_TABLES, guard_function=True),
    Migration(
        "0002_lookup_indexes",
        {
            dialect: [
                "CREATE INDEX scores_by_merchant ON scores (merchant_id)",
                "CREATE INDEX calls_by_input ON llm_calls (input_sha256)",
                "CREATE INDEX calls_by_id ON llm_calls (call_id)",
                "CREATE INDEX memos_by_id ON memos (memo_id)",
                "CREATE INDEX memos_by_merchant ON memos (merchant_id, run_id)",
                "CREATE INDEX decisions_by_memo ON decisions (memo_id)",
            ]
            for dialect in ("sqlite", "postgresql")
        },
    ),
    _tables("0003_runs", ("runs",)),
)


def _anchors(dialect: str) -> list[str]:
    """A MAC column on every audited table; on PostgreSQL, TRUNCATE refused by a statement trigger;
    ``llm_calls.finish_reason`` (``timeout`` marks a partial answer, never reused)."""
    out = ["ALTER TABLE llm_calls ADD COLUMN finish_reason TEXT"]
    for table in (*INITIAL_TABLES, "runs"):  # the tables that existed then; later ones are born with it
        out.append(f"ALTER TABLE {table} ADD COLUMN row_mac TEXT")
        if dialect == "postgresql":
            out.append(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION underwriter_append_only()"
            )
    return out


MIGRATIONS = (*MIGRATIONS, Migration("0004_anchors", {d: _anchors(d) for d in ("sqlite", "postgresql")}))


def _notices(dialect: str) -> list[str]:
    """The adverse-action notices table, with its MAC column and every guard the others have."""
    create = _create("notices", TABLES["notices"]).removesuffix(")")
    create += ", row_mac TEXT)"
    index = "CREATE INDEX notices_by_merchant ON notices (merchant_id)"
    if dialect == "sqlite":
        return [create, *_sqlite_guards("notices"), index]
    truncate = (
        "CREATE TRIGGER notices_no_truncate BEFORE TRUNCATE ON notices "
        "FOR EACH STATEMENT EXECUTE FUNCTION underwriter_append_only()"
    )
    return [create, *_postgres_guards("notices"), truncate, index]


MIGRATIONS = (*MIGRATIONS, Migration("0005_notices", {d: _notices(d) for d in ("sqlite", "postgresql")}))

ONLINE_TABLES = ("api_keys", "api_requests", "shadow_scores", "promotions", "alerts")
ONLINE_INDEXES = (
    "CREATE INDEX api_requests_by_key ON api_requests (key_name, idempotency_key)",
    "CREATE INDEX shadow_by_request ON shadow_scores (request_id)",
    "CREATE INDEX alerts_by_month ON alerts (month)",
)


def _online(dialect: str) -> list[str]:
    """The decision service's and the book monitor's tables, each born with the MAC column and guards."""
    out: list[str] = []
    for table in ONLINE_TABLES:
        out.append(_create(table, TABLES[table]).removesuffix(")") + ", row_mac TEXT)")
        if dialect == "sqlite":
            out += _sqlite_guards(table)
        else:
            out += [
                *_postgres_guards(table),
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION underwriter_append_only()",
            ]
    return [*out, *ONLINE_INDEXES]


MIGRATIONS = (*MIGRATIONS, Migration("0006_online", {d: _online(d) for d in ("sqlite", "postgresql")}))


def _audit_events(dialect: str) -> list[str]:
    """The trail's own events, born with the MAC column and every guard."""
    out = [_create("audit_events", TABLES["audit_events"]).removesuffix(")") + ", row_mac TEXT)"]
    if dialect == "sqlite":
        return out + _sqlite_guards("audit_events")
    return [
        *out,
        *_postgres_guards("audit_events"),
        "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
        "FOR EACH STATEMENT EXECUTE FUNCTION underwriter_append_only()",
    ]


MIGRATIONS = (
    *MIGRATIONS,
    Migration("0007_audit_events", {d: _audit_events(d) for d in ("sqlite", "postgresql")}),
)


def expected_guards(dialect: str, table: str) -> dict[str, str]:
    """Trigger name -> the statement the migrations wrote it with (SQLite), for ``audit verify`` to compare
    each guard's definition, not only its name."""
    if dialect != "sqlite":
        return {}
    return {statement.split()[2]: statement for statement in _sqlite_guards(table)}


EXPECTED_TRIGGERS: dict[str, tuple[str, ...]] = {
    "sqlite": ("{t}_no_update", "{t}_no_delete"),
    "postgresql": ("{t}_append_only", "{t}_no_truncate"),
}
"""The guards ``audit verify`` expects on every audited table, per dialect."""
