"""The audit store: append-only, hash-chained, migrated in order, safe with concurrent writers."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path

import pytest

from assistant.audit import AuditError, AuditStore
from assistant.audit.schema import MIGRATIONS
from tests.test_cli import underwrite


def _decision(store: AuditStore, n: int) -> None:
    store.append(
        "decisions",
        memo_id=f"memo-{n}",
        merchant_id=f"M{n}",
        underwriter="ana",
        decision="refer",
        note=f"note {n}",
    )


def test_rows_chain_and_verify(tmp_path: Path):
    with AuditStore.open(tmp_path / "a.sqlite") as store:
        for n in range(3):
            _decision(store, n)
        store.append(
            "scores",
            merchant_id="M1",
            model_id="m",
            pd=0.1234567891,
            grade="E",
            band="refer",
            payload={"x": [1, 2]},
        )
        rows = store.rows("decisions")
        assert [r["seq"] for r in rows] == [1, 2, 3]
        assert rows[1]["prev_hash"] == rows[0]["row_hash"] and rows[0]["prev_hash"] == "0" * 64
        assert store.rows("scores")[0]["pd"] == 0.1234567891
        report = store.verify()
        assert report.ok and report.migrations == [m.name for m in MIGRATIONS]


def test_updates_and_deletes_are_refused_by_the_database(tmp_path: Path):
    with AuditStore.open(tmp_path / "a.sqlite") as store:
        _decision(store, 1)
        for statement in ("UPDATE decisions SET note = 'x'", "DELETE FROM decisions"):
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                store.conn.execute(statement)
        assert store.rows("decisions")[0]["note"] == "note 1"


@pytest.mark.parametrize(
    ("tamper", "problem", "row"),
    [
        ("UPDATE decisions SET note = 'approved after all' WHERE seq = 2", "was edited", 2),
        ("DELETE FROM decisions WHERE seq = 2", "row 2 is missing", 3),
        ("UPDATE decisions SET row_hash = upper(row_hash) || 'x' WHERE seq = 1", "edited", 1),
    ],
)
def test_verify_names_the_first_row_edited_around_the_triggers(
    tmp_path: Path, tamper: str, problem: str, row: int
):
    path = tmp_path / "a.sqlite"
    with AuditStore.open(path) as store:
        for n in range(4):
            _decision(store, n)
    db = sqlite3.connect(path)
    db.executescript(f"DROP TRIGGER decisions_no_update; DROP TRIGGER decisions_no_delete; {tamper};")
    db.close()
    with AuditStore.open(path) as store:
        report = store.verify()
    broken = next(t for t in report.tables if t.table == "decisions")
    assert not report.ok and broken.broken_at == row and problem in (broken.problem or "")


def test_a_batch_of_rows_lands_whole_or_not_at_all(tmp_path: Path):
    with AuditStore.open(tmp_path / "a.sqlite") as store:
        with pytest.raises(AuditError, match="no column"):
            store.append_many([("decisions", {"memo_id": "m"}), ("memos", {"bogus": 1})])
        with pytest.raises(AuditError, match="no audit table"):
            store.append("nope", x=1)
        assert store.count("decisions") == 0 and store.count("memos") == 0


def test_migrations_apply_once_and_a_newer_database_is_refused(tmp_path: Path):
    path = tmp_path / "a.sqlite"
    AuditStore.open(path).close()
    with AuditStore.open(path) as store:  # reopening applies nothing twice
        assert store.migrations() == [m.name for m in MIGRATIONS]
        store.conn.execute("INSERT INTO schema_migrations VALUES ('9999_from_the_future', 'x')")
    with pytest.raises(AuditError, match="9999_from_the_future"):
        AuditStore.open(path)


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path: Path):
    bad = tmp_path / "a.sqlite"
    bad.write_bytes(b"not a database at all" * 100)
    with pytest.raises(AuditError, match="not a usable audit database"):
        AuditStore.open(bad)


def _writer(path: str, start: int) -> None:
    with AuditStore.open(path) as store:
        for n in range(start, start + 25):
            _decision(store, n)


def run_writers(target: str, count: int) -> None:
    """``count`` processes appending 25 rows each to the same store at once."""
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_writer, args=(target, k * 100)) for k in range(count)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
        assert w.exitcode == 0


def test_concurrent_writers_build_one_unbroken_chain(tmp_path: Path):
    path = str(tmp_path / "a.sqlite")
    AuditStore.open(path).close()
    run_writers(path, 3)
    with AuditStore.open(path) as store:
        assert store.count("decisions") == 75 and store.verify().ok


def test_audit_cli_verifies_replays_and_records_decisions(memo_workspace, tmp_path, monkeypatch):
    from assistant.backends import open_llm
    from assistant.case.source import CaseSource
    from assistant.memo.config import memo_config
    from assistant.memo.record import generate_memo
    from tests.test_cli import underwrite

    source = CaseSource(memo_workspace)
    target = tmp_path / "audit.sqlite"  # its own trail: this test tampers with it
    monkeypatch.setenv("UNDERWRITER_AUDIT__URL", str(target))
    with AuditStore.open(target) as audit:
        memo = generate_memo(
            source, source.ids("applicant")[2], open_llm(memo_workspace), audit, memo_config(memo_workspace)
        )
    ws = ("--workspace", str(memo_workspace.workspace))
    cwd = memo_workspace.workspace.parent
    replay = underwrite(*ws, "audit", "replay", memo.memo_id, cwd=cwd)
    assert replay.returncode == 0 and "byte for byte" in replay.stdout, replay.stderr
    decide = underwrite(
        *ws,
        "audit",
        "decide",
        memo.memo_id,
        "--decision",
        memo.case.score.band,
        "--underwriter",
        "ana",
        "--note",
        "ask for statements",
        "--conditions",
        "reserve 10%; monthly review",
        cwd=cwd,
    )
    assert decide.returncode == 0, decide.stderr
    other = next(b for b in ("approve", "refer", "decline") if b != memo.case.score.band)
    refused = underwrite(
        *ws, "audit", "decide", memo.memo_id, "--decision", other, "--underwriter", "ana", cwd=cwd
    )
    assert refused.returncode == 2 and "override reason" in refused.stderr
    verify = underwrite(*ws, "audit", "verify", cwd=cwd)
    assert verify.returncode == 0 and "BROKEN" not in verify.stdout
    assert underwrite(*ws, "audit", "replay", "memo-nope", cwd=cwd).stderr.startswith(
        "error: no memo 'memo-nope'"
    )

    db = sqlite3.connect(target)
    db.executescript(
        "DROP TRIGGER memos_no_update; UPDATE memos SET markdown = markdown || ' approved' WHERE memo_id = '"
        + memo.memo_id
        + "';"
    )
    db.close()
    tampered = underwrite(*ws, "audit", "verify", cwd=cwd)
    assert tampered.returncode == 1 and "memos" in tampered.stdout and "BROKEN" in tampered.stdout


def _postgres_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


@pytest.fixture(scope="module")
def postgres_url():
    """A throwaway PostgreSQL server on 127.0.0.1 (initdb + pg_ctl), when the binaries are installed."""
    bin_dir = _postgres_bin()
    if bin_dir is None:
        if os.environ.get("UNDERWRITER_REQUIRE_POSTGRES"):
            pytest.fail(
                "PostgreSQL server binaries (initdb, pg_ctl) are required here (UNDERWRITER_REQUIRE_POSTGRES)"
            )
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    pytest.importorskip("psycopg")
    root = Path(tempfile.mkdtemp(prefix="uw-pg-"))
    as_postgres: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        shutil.chown(root, "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    data, port = root / "data", _free_port()
    subprocess.run(
        [
            *as_postgres,
            str(bin_dir / "initdb"),
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            "underwriter",
            "--no-sync",
        ],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        [
            *as_postgres,
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(root / "log"),
            "-w",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql://underwriter@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*as_postgres, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_same_store_runs_on_postgresql(postgres_url: str):
    with AuditStore.open(postgres_url) as store:
        assert store.conn.dialect == "postgresql" and store.migrations() == [m.name for m in MIGRATIONS]
        store.append(
            "scores",
            merchant_id="M1",
            model_id="m",
            pd=0.1234567891,
            grade="E",
            band="refer",
            payload={"x": 1},
        )
        for n in range(3):
            _decision(store, n)
        assert store.rows("scores")[0]["pd"] == 0.1234567891 and store.verify().ok
        with pytest.raises(Exception, match="append-only"):
            store.conn.execute("UPDATE decisions SET note = 'x'")
    run_writers(postgres_url, 2)
    with AuditStore.open(postgres_url) as store:
        assert store.count("decisions") == 53 and store.verify().ok
        store.conn.execute("ALTER TABLE decisions DISABLE TRIGGER decisions_append_only")
        store.conn.execute("UPDATE decisions SET decision = 'approve' WHERE seq = 2")
        broken = next(t for t in store.verify().tables if t.table == "decisions")
        assert broken.broken_at == 2 and "edited" in (broken.problem or "")
    with AuditStore.open(postgres_url) as store:  # reopening applies no migration twice
        assert store.migrations() == [m.name for m in MIGRATIONS]


# ---- anchors: what an attacker with write access to the database can no longer hide ----------------


def _sqlite_attacker(path: Path) -> sqlite3.Connection:
    """Someone who opens the file directly: drops the guards first."""
    db = sqlite3.connect(path, isolation_level=None)
    for table in ("decisions",):
        db.execute(f"DROP TRIGGER {table}_no_update")
        db.execute(f"DROP TRIGGER {table}_no_delete")
    return db


def _rehash_from(db: sqlite3.Connection, table: str, start: int) -> None:
    """Recompute every hash from ``start`` on, as a careful forger would."""
    from assistant.audit.schema import TABLES
    from assistant.audit.store import row_hash

    columns = ["seq", "created_at", *TABLES[table], "prev_hash", "row_hash"]
    rows = [
        dict(zip(columns, r, strict=True))
        for r in db.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY seq")
    ]
    prev = rows[start - 2]["row_hash"] if start > 1 else "0" * 64
    for row in rows[start - 1 :]:
        row["prev_hash"] = prev
        row["row_hash"] = row_hash(table, row)
        db.execute(
            f"UPDATE {table} SET prev_hash = ?, row_hash = ? WHERE seq = ?",
            (prev, row["row_hash"], row["seq"]),
        )
        prev = row["row_hash"]


def _decisions_check(store: AuditStore):
    return next(t for t in store.verify().tables if t.table == "decisions")


def test_an_edit_rehashed_with_the_guards_dropped_is_caught_by_the_checkpoints(tmp_path: Path):
    path = tmp_path / "a.sqlite"
    with AuditStore.open(path) as store:
        for n in range(5):
            _decision(store, n)
        assert store.verify().ok and path.with_name("a.sqlite.checkpoints").is_file()
    db = _sqlite_attacker(path)
    db.execute("UPDATE decisions SET decision = 'approve' WHERE seq = 3")
    _rehash_from(db, "decisions", 3)
    db.close()
    with AuditStore.open(path) as store:
        check = _decisions_check(store)
    assert check.broken_at == 5 and "rewritten and rehashed" in (check.problem or "")
    # without its checkpoints the same store would read as whole but for the dropped guard
    with AuditStore.open(path, checkpoint=tmp_path / "elsewhere") as store:
        check = _decisions_check(store)
    assert (
        check.problem is not None
        and "missing trigger decisions_no_delete, decisions_no_update" in check.problem
    )


def test_deleting_the_last_rows_is_caught(tmp_path: Path):
    path = tmp_path / "a.sqlite"
    with AuditStore.open(path) as store:
        for n in range(6):
            _decision(store, n)
    db = _sqlite_attacker(path)
    db.execute("DELETE FROM decisions WHERE seq > 4")
    db.close()
    with AuditStore.open(path) as store:
        check = _decisions_check(store)
    assert check.broken_at == 5 and "rows were deleted or the table was emptied" in (check.problem or "")


def test_with_a_key_a_rewrite_is_caught_even_with_the_checkpoints_rewritten(tmp_path: Path):
    path, key = tmp_path / "a.sqlite", b"a secret the attacker does not have"
    with AuditStore.open(path, key=key) as store:
        for n in range(4):
            _decision(store, n)
        assert store.verify().ok and all(r["row_mac"] for r in store.rows("decisions"))
    db = _sqlite_attacker(path)
    db.execute("UPDATE decisions SET decision = 'approve' WHERE seq = 2")
    _rehash_from(db, "decisions", 2)
    db.close()
    path.with_name("a.sqlite.checkpoints").unlink()  # the forger removes the anchor file too
    with AuditStore.open(path, key=key) as store:
        check = _decisions_check(store)
    assert check.broken_at == 2 and "MAC does not match the audit key" in (check.problem or "")
    with AuditStore.open(path, key=b"another key") as store:
        first = _decisions_check(store)
    assert first.broken_at == 1 and "another key" in (first.problem or "")


def test_audit_verify_tells_the_user_where_the_trail_breaks(tmp_path: Path):
    ws = tmp_path / "ws"
    path = ws / "audit" / "audit.sqlite"
    with AuditStore.open(path) as store:
        for n in range(3):
            _decision(store, n)
    db = _sqlite_attacker(path)
    db.execute("DELETE FROM decisions WHERE seq = 3")
    db.close()
    result = underwrite("--workspace", str(ws), "audit", "verify", cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "decisions" in result.stdout and "BROKEN at row 3" in result.stdout
    assert "rows were deleted" in result.stdout and "Traceback" not in result.stderr


def test_postgresql_refuses_truncate_and_verify_catches_it_when_forced(postgres_url: str, tmp_path: Path):
    import psycopg

    with psycopg.connect(postgres_url, autocommit=True) as admin:  # a database of its own
        admin.execute("CREATE DATABASE anchored")
    url = postgres_url.rsplit("/", 1)[0] + "/anchored"
    anchor = tmp_path / "pg.checkpoints"
    with AuditStore.open(url, checkpoint=anchor) as store:
        _decision(store, 900)
        with pytest.raises(Exception, match="append-only"):
            store.conn.execute("TRUNCATE decisions")
        assert store.verify().ok
        store.conn.execute("ALTER TABLE decisions DISABLE TRIGGER decisions_no_truncate")
        store.conn.execute("TRUNCATE decisions")
        check = _decisions_check(store)
    assert check.broken_at == 1 and "emptied" in (check.problem or "")
