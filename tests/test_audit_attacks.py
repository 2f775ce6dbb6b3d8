"""The audit trail and the service's keys against someone with write access to the database but not the
audit key: each attack forged as they would, and each caught by name (issue 29)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from assistant.audit import AuditStore
from assistant.audit.schema import GENESIS, TABLES
from assistant.audit.store import row_hash
from assistant.service.keys import add_key, key_hash
from assistant.settings import load_settings
from assistant.workspace import Workspace
from tests.test_audit import postgres_url as postgres_url  # the throwaway server, for the PostgreSQL guard
from tests.test_cli import underwrite

KEY = b"the operators' audit key"


def forge_row(path: Path, table: str, values: dict) -> int:
    """Append a row as an attacker without the key would: the right link and hash, no MAC."""
    db = sqlite3.connect(path, isolation_level=None)
    last = db.execute(f"SELECT seq, row_hash FROM {table} ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev = (int(last[0]), str(last[1])) if last else (0, GENESIS)
    row = {c: values.get(c) for c in TABLES[table]}
    row.update(seq=seq + 1, created_at=datetime.now(UTC).isoformat(timespec="microseconds"), prev_hash=prev)
    row["row_hash"] = row_hash(table, row)
    names = list(row)
    db.execute(
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
        [row[n] for n in names],
    )
    db.close()
    return int(row["seq"])


FORGED_SECRET = "uwk_forged-by-someone-with-database-access"
FORGED_ADMIN = {
    "key_id": "key-forged",
    "name": "backdoor",
    "action": "add",
    "key_sha256": key_hash(FORGED_SECRET),
    "scopes": "admin,score",
}


def _check(store: AuditStore, table: str):
    return next(t for t in store.verify().tables if t.table == table)


def test_a_row_without_a_mac_fails_verify_once_the_key_is_set(tmp_path: Path):
    path = tmp_path / "a.sqlite"
    with AuditStore.open(path, key=KEY) as store:
        add_key(store, "ops", "score")
        assert store.verify().ok
    seq = forge_row(path, "api_keys", FORGED_ADMIN)
    with AuditStore.open(path, key=KEY) as store:
        check = _check(store, "api_keys")
        assert check.broken_at == seq and "carries no MAC" in (check.problem or "")
        assert [r["name"] for r in store.verified_rows("api_keys")[0]] == ["ops"]


def test_rows_written_before_the_key_was_first_used_stay_valid(tmp_path: Path):
    """A trail kept without a key, then keyed: the old rows predate the key (recorded once, when the key is
    first used); a row forged after that is still caught."""
    path = tmp_path / "a.sqlite"
    with AuditStore.open(path) as store:
        add_key(store, "before-the-key", "score")
    with AuditStore.open(path, key=KEY) as store:
        add_key(store, "after-the-key", "score")
        assert store.verify().ok, store.verify().tables
    seq = forge_row(path, "api_keys", FORGED_ADMIN)
    with AuditStore.open(path, key=KEY) as store:
        assert _check(store, "api_keys").broken_at == seq
        names = [r["name"] for r in store.verified_rows("api_keys")[0]]
    assert names == ["before-the-key", "after-the-key"]


def test_an_edit_let_through_by_an_inert_trigger_is_caught(tmp_path: Path):
    path = tmp_path / "a.sqlite"
    with AuditStore.open(path) as store:
        store.append("decisions", memo_id="m", merchant_id="M1", underwriter="ana", decision="approve")
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("DROP TRIGGER decisions_no_update")
    db.execute("CREATE TRIGGER decisions_no_update BEFORE UPDATE ON decisions BEGIN SELECT 1; END")
    db.execute("UPDATE decisions SET note = 'harmless' WHERE seq = 1")  # the inert guard lets it through
    db.close()
    with AuditStore.open(path) as store:
        check = _check(store, "decisions")
    assert check.problem is not None
    assert (
        "decisions_no_update is not the guard the migrations wrote" in check.problem or check.broken_at == 1
    )


def test_an_inert_trigger_alone_is_named(tmp_path: Path):
    path = tmp_path / "a.sqlite"
    with AuditStore.open(path) as store:
        store.append("decisions", memo_id="m", merchant_id="M1", underwriter="ana", decision="approve")
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("DROP TRIGGER decisions_no_delete")
    db.execute("CREATE TRIGGER decisions_no_delete BEFORE DELETE ON decisions BEGIN SELECT 1; END")
    db.close()
    with AuditStore.open(path) as store:
        check = _check(store, "decisions")
    assert "decisions_no_delete is not the guard the migrations wrote" in (check.problem or "")


@pytest.mark.parametrize("key", [None, KEY])
def test_a_deleted_checkpoint_file_is_a_failure(tmp_path: Path, key: bytes | None):
    path = tmp_path / "a.sqlite"
    with AuditStore.open(path, key=key) as store:
        store.append("decisions", memo_id="m", merchant_id="M1", underwriter="ana", decision="approve")
        assert store.verify().ok
    path.with_name("a.sqlite.checkpoints").unlink()
    with AuditStore.open(path, key=key) as store:
        report = store.verify()
    assert not report.ok and any("checkpoint file" in p and "is gone" in p for p in report.problems)


def test_a_checkpoint_file_deleted_and_written_anew_is_a_failure(tmp_path: Path):
    path = tmp_path / "a.sqlite"
    with AuditStore.open(path) as store:
        store.append("decisions", memo_id="m", merchant_id="M1", underwriter="ana", decision="approve")
    path.with_name("a.sqlite.checkpoints").unlink()
    with AuditStore.open(path) as store:  # the app goes on writing: a new file, without the old heads
        store.append("decisions", memo_id="m2", merchant_id="M1", underwriter="ana", decision="refer")
        report = store.verify()
    assert not report.ok and any("lacks its first checkpoint" in p for p in report.problems)


def test_verify_on_a_dropped_table_is_a_clear_failure(tmp_path: Path):
    ws = tmp_path / "ws"
    path = ws / "audit" / "audit.sqlite"
    with AuditStore.open(path) as store:
        store.append("decisions", memo_id="m", merchant_id="M1", underwriter="ana", decision="approve")
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("DROP TABLE alerts")
    db.close()
    result = underwrite("--workspace", str(ws), "audit", "verify", cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "alerts" in result.stdout and "cannot be read" in result.stdout
    assert "Traceback" not in result.stderr


def test_the_running_service_refuses_a_forged_admin_key(portfolio, tmp_path: Path, monkeypatch):
    from assistant.jobs.modeling import train_model
    from assistant.service.app import create_app
    from assistant.service.server import running_server

    monkeypatch.setenv("UNDERWRITER_AUDIT_KEY", KEY.decode())  # the model's manifest is signed with it too
    settings = load_settings(None, workspace=tmp_path / "ws", threads=2)
    model = tmp_path / "model"
    train_model(settings, spec="merchant_portfolio", data=portfolio.merchants, out=model, progress=False)
    settings = settings.model_copy(
        update={"service": settings.service.model_copy(update={"champion": str(model)})}
    )
    workspace = Workspace(settings)
    with workspace.open_audit() as audit:
        _, secret = add_key(audit, "ops-admin", "admin,score")
    forge_row(Path(workspace.audit_target), "api_keys", FORGED_ADMIN)
    with running_server(create_app(settings)) as url, httpx.Client(base_url=url, timeout=30) as client:
        forged = client.post("/v1/admin/reload", headers={"X-API-Key": FORGED_SECRET})
        real = client.post("/v1/admin/reload", headers={"X-API-Key": secret})
    assert forged.status_code == 401, forged.text
    assert real.status_code == 200, real.text
    with workspace.open_audit() as audit:
        assert not audit.verify().ok


def test_postgresql_an_inert_same_named_trigger_is_caught(postgres_url: str, tmp_path: Path):
    import psycopg

    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute("CREATE DATABASE inert_guard")
    url = postgres_url.rsplit("/", 1)[0] + "/inert_guard"
    with AuditStore.open(url, checkpoint=tmp_path / "pg.checkpoints") as store:
        store.append("decisions", memo_id="m", merchant_id="M1", underwriter="ana", decision="approve")
        assert store.verify().ok
        store.conn.execute(
            "CREATE FUNCTION let_through() RETURNS trigger AS $$ BEGIN RETURN NEW; END; $$ LANGUAGE plpgsql"
        )
        store.conn.execute("DROP TRIGGER decisions_append_only ON decisions")
        store.conn.execute(
            "CREATE TRIGGER decisions_append_only BEFORE UPDATE OR DELETE ON decisions "
            "FOR EACH ROW EXECUTE FUNCTION let_through()"
        )
        check = _check(store, "decisions")
    assert "decisions_append_only is not the guard the migrations wrote" in (check.problem or "")
