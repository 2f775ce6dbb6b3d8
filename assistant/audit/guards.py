"""The append-only guards of an audited table, checked by definition, not by name: a trigger replaced by a
same-named one that refuses nothing is as good as dropped."""

from __future__ import annotations

import re
from typing import Any

from assistant.audit.schema import EXPECTED_TRIGGERS, POSTGRES_GUARD_FUNCTION, expected_guards


def _words(sql: str) -> str:
    return re.sub(r"\s+", " ", sql).strip().rstrip(";").lower()


def _sqlite_problems(conn: Any, table: str) -> list[str]:
    found = {
        str(name): str(sql or "")
        for name, sql in conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", (table,)
        )
    }
    missing, replaced = [], []
    for name, statement in expected_guards("sqlite", table).items():
        if name not in found:
            missing.append(name)
        elif _words(found[name]) != _words(statement):
            replaced.append(name)
    return _said(missing, replaced)


def _said(missing: list[str], replaced: list[str]) -> list[str]:
    out = [f"missing trigger {', '.join(sorted(missing))}"] if missing else []
    return out + [
        f"trigger {name} is not the guard the migrations wrote (replaced)" for name in sorted(replaced)
    ]


GUARD_BODY = _words(POSTGRES_GUARD_FUNCTION.split("$$")[1])
"""The body of ``underwriter_append_only()`` as the first migration wrote it."""


def _postgres_problems(conn: Any, table: str) -> list[str]:
    rows = conn.execute(
        "SELECT t.tgname, pg_get_triggerdef(t.oid), p.proname, p.prosrc FROM pg_trigger t "
        "JOIN pg_proc p ON p.oid = t.tgfoid "
        "WHERE t.tgrelid = ?::regclass AND NOT t.tgisinternal AND t.tgenabled <> 'D'",
        (table,),
    )
    found = {str(r[0]): (str(r[1]).upper(), str(r[2]), _words(str(r[3]))) for r in rows}
    wanted = {"append_only": ("UPDATE", "DELETE", "FOR EACH ROW"), "no_truncate": ("TRUNCATE",)}
    problems = []
    for pattern in EXPECTED_TRIGGERS["postgresql"]:
        name = pattern.format(t=table)
        if name not in found:
            problems.append(f"missing trigger {name}")
            continue
        definition, function, body = found[name]
        events = wanted[name.removeprefix(f"{table}_")]
        if (
            function != "underwriter_append_only"
            or body != GUARD_BODY
            or not all(e in definition for e in events)
        ):
            problems.append(f"trigger {name} is not the guard the migrations wrote (it was replaced)")
    return problems


def guard_problems(conn: Any, table: str) -> list[str]:
    """What is wrong with the table's guards: each one missing or not as the migrations wrote it."""
    return _sqlite_problems(conn, table) if conn.dialect == "sqlite" else _postgres_problems(conn, table)
