"""Batch memos: exactly once through SIGKILL and restart, no partial file, failures recorded."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.audit import AuditStore
from assistant.backends import open_llm
from assistant.case.source import CaseSource
from assistant.jobs.memo_batch import LEDGER, Ledger, run_batch
from assistant.memo.config import memo_config
from assistant.memo.record import generate_memo
from assistant.workspace import Workspace
from tests.conftest import REPO


def cli(settings, *args: str, background: bool = False):
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "UNDERWRITER_LLM__MAX_TOKENS": str(settings.llm.max_tokens),
        "UNDERWRITER_MEMO__SIMILAR_CASES": str(settings.memo.similar_cases),
    }
    env.pop("UNDERWRITER_CONFIG", None)
    command = [sys.executable, "-m", "assistant.cli", "--workspace", str(settings.workspace), *args]
    if background:
        return subprocess.Popen(
            command,
            env=env,
            cwd=settings.workspace.parent,
            start_new_session=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    return subprocess.run(
        command, env=env, cwd=settings.workspace.parent, capture_output=True, text=True, timeout=600
    )


def done_count(out: Path) -> int:
    if not (out / LEDGER).exists():
        return 0
    try:
        with sqlite3.connect(out / LEDGER, timeout=5) as db:
            return int(db.execute("SELECT COUNT(*) FROM cases WHERE status = 'done'").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def assert_only_whole_files(out: Path) -> list[str]:
    visible = sorted(p for p in out.iterdir() if not p.name.startswith("."))
    cases = sorted({p.stem for p in visible})
    for case in cases:
        memo = json.loads(
            (out / f"{case}.json").read_text()
        )  # JSON is written last: its presence means a whole set
        assert memo["case_id"] == case
        markdown = (out / f"{case}.md").read_text()
        assert "## Recommendation" in markdown and "## Sources" in markdown and markdown.endswith("\n")
        assert (out / f"{case}.html").read_text().endswith("</html>\n")
    return cases


def test_a_batch_killed_with_sigkill_resumes_and_writes_each_memo_exactly_once(memo_workspace, tmp_path):
    out = tmp_path / "memos"
    args = ("memo", "--all", "--status", "applicant", "--limit", "6", "--out", str(out), "--workers", "2")
    running = cli(memo_workspace, *args, background=True)
    deadline = time.time() + 300
    while done_count(out) < 2 and time.time() < deadline and running.poll() is None:
        time.sleep(0.2)
    assert running.poll() is None, running.communicate()
    os.killpg(running.pid, signal.SIGKILL)
    running.wait(30)
    before = assert_only_whole_files(out)
    assert 2 <= len(before) < 6

    finished = cli(memo_workspace, *args)
    assert finished.returncode == 0, finished.stderr
    assert "0 failed" in finished.stdout and "skipped" in finished.stdout
    cases = assert_only_whole_files(out)
    assert len(cases) == 6 and not list(out.glob(".*.partial"))
    run_id = finished.stdout.split(":")[0]
    with AuditStore.open(Workspace(memo_workspace).audit_target) as audit:
        memos = [r for r in audit.rows("memos") if r["run_id"] == run_id]
        assert sorted(r["merchant_id"] for r in memos) == cases  # one memo per case, none twice
        stored = {r["merchant_id"]: r["memo_id"] for r in memos}
        assert audit.verify().ok
    for case in cases:
        assert json.loads((out / f"{case}.json").read_text())["case_id"] == case
    ledger = Ledger(out)
    assert ledger.status(cases) == dict.fromkeys(cases, "done")
    memo_ids = dict(ledger.db.execute("SELECT case_id, memo_id FROM cases").fetchall())
    ledger.close()
    assert memo_ids == stored

    again = cli(memo_workspace, *args)  # a third run finds everything done
    assert again.returncode == 0 and "0 done" in again.stdout and "6 skipped" in again.stdout


def test_a_memo_recorded_before_a_kill_is_recovered_without_a_new_llm_call(memo_workspace, tmp_path):
    out = tmp_path / "memos"
    source = CaseSource(memo_workspace, similar_k=3)
    cases = source.ids("applicant")[:2]
    ledger = Ledger(out)
    run_id = ledger.run_id()
    ledger.close()
    with AuditStore.open(
        Workspace(memo_workspace).audit_target
    ) as audit:  # step 1 done, then the process died
        generate_memo(
            source, cases[0], open_llm(memo_workspace), audit, memo_config(memo_workspace), run_id=run_id
        )
        calls_before = audit.count("llm_calls")
    summary = run_batch(memo_workspace, cases, out, workers=1, progress=False)
    assert summary.recovered == 1 and summary.done == 1 and summary.failed == 0
    with AuditStore.open(Workspace(memo_workspace).audit_target) as audit:
        assert len([r for r in audit.rows("memos") if r["run_id"] == run_id]) == 2
        assert audit.count("llm_calls") > calls_before  # only the second case called the LLM
    assert assert_only_whole_files(out) == sorted(cases)


def test_one_failing_case_is_recorded_and_the_rest_go_on(memo_workspace, tmp_path):
    out = tmp_path / "memos"
    good = CaseSource(memo_workspace).ids("applicant")[:1]
    summary = run_batch(memo_workspace, [*good, "NO-SUCH-MERCHANT"], out, workers=1, progress=False)
    assert summary.done == 1 and summary.failed == 1
    assert "not in the data" in summary.failures["NO-SUCH-MERCHANT"]
    ledger = Ledger(out)
    assert ledger.status([*good, "NO-SUCH-MERCHANT"]) == {good[0]: "done", "NO-SUCH-MERCHANT": "failed"}
    ledger.close()
    with pytest.raises(Exception, match="at least 1"):
        run_batch(memo_workspace, good, out, workers=0)


def test_two_starts_of_one_selection_write_each_memo_once(memo_workspace, tmp_path):
    """The workbench's second start of a running selection shows the running job; a second run on the
    same folder from anywhere else is refused by the folder's lock while the first holds it."""
    from assistant.jobs.batch_plan import plan_batch
    from assistant.jobs.memo_batch import run_lock
    from assistant.ui.batch_jobs import start_job
    from models.errors import UnderwriterError

    plan = plan_batch(memo_workspace, upload=None, status="applicant", limit=2)
    plan.out = tmp_path / "run"
    first, started = start_job(plan, memo_workspace)
    second, again = start_job(plan, memo_workspace)
    assert started and not again and second is first
    lock = plan.out / ".run.lock"
    deadline = time.monotonic() + 120
    while not (lock.is_file() and lock.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)  # until the run holds its folder's lock
    # what a CLI run on the same folder meets while the first holds it
    with pytest.raises(UnderwriterError, match="a batch run is already writing"), run_lock(plan.out):
        pass
    assert first.thread is not None
    first.thread.join(timeout=600)
    assert first.error is None and first.summary is not None and first.summary.done == 2
    with AuditStore.open(Workspace(memo_workspace).audit_target) as audit:
        memos = [r for r in audit.rows("memos") if r["run_id"] == first.summary.run_id]
    assert sorted(r["merchant_id"] for r in memos) == sorted(plan.case_ids)  # each memo once
    third, started = start_job(plan, memo_workspace)  # finished: a new start resumes and skips all
    assert started and third.thread is not None
    third.thread.join(timeout=600)
    assert third.summary is not None and third.summary.skipped == 2 and third.summary.done == 0
