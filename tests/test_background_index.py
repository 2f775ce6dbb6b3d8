"""Serve first, index in the background: a case read on the spot carries exactly what the index will,
a killed build is reported, never half-loaded and resumes from its cached vectors, a failing
build says why, and the workbench serves cases (memo included) before any index exists."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import time
from pathlib import Path

import pandas as pd
import pytest

from assistant.case.source import CaseSource
from assistant.jobs.background_index import read_state, start_build
from assistant.jobs.demo import run_demo
from assistant.settings import Settings, load_settings
from assistant.workspace import Workspace
from tests.test_cli import underwrite

pytestmark = pytest.mark.slow


def _settings(root: Path, **overrides: object) -> Settings:
    return load_settings(
        None,
        workspace=root,
        threads=2,
        demo={"merchants": 150, "seed": 5},
        llm={"max_tokens": 24},
        memo={"similar_cases": 3},
        **overrides,
    )


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Portfolio, model and scores only (what the workbench has when it starts serving), built once."""
    root = tmp_path_factory.mktemp("scored") / "ws"
    run_demo(_settings(root), progress=False)
    return root


def _scored_workspace(scored: Path, root: Path, **overrides: object) -> Settings:
    """A private copy of the scored workspace: each test's build writes only its own."""
    shutil.copytree(scored, root)
    return _settings(root, **overrides)


def _wait(workspace: Workspace, until: object, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    path = workspace.root / "index" / "build.json"
    while time.monotonic() < deadline:
        if path.is_file():
            state = json.loads(path.read_text())
            if until(state):  # type: ignore[operator]
                return state
        time.sleep(0.05)
    raise AssertionError(f"the build did not reach the expected state in {timeout} s: {path.read_text()}")


def _cached_vectors(workspace: Workspace) -> int:
    with sqlite3.connect(workspace.embedding_cache_path) as db:
        return int(db.execute("SELECT count(*) FROM embeddings").fetchone()[0])


def test_a_case_read_on_the_spot_is_the_case_the_index_serves(memo_workspace: Settings) -> None:
    indexed = CaseSource(memo_workspace)
    assert indexed.store is not None
    read_now = CaseSource(memo_workspace)
    read_now.store = None  # as before the background build has published the index
    checked = 0
    for case_id in indexed.ids("applicant")[:6] + indexed.ids("historical")[:6]:
        from_index = indexed.case_file(case_id, generated_at="t").documents
        on_the_spot = read_now.case_file(case_id, generated_at="t").documents
        assert [d.model_dump() for d in on_the_spot] == [d.model_dump() for d in from_index]
        checked += sum(len(d.chunks) for d in from_index)
    assert checked > 20


def test_a_killed_build_is_reported_never_loaded_and_resumes(scored: Path, tmp_path: Path) -> None:
    settings = _scored_workspace(scored, tmp_path / "ws")
    workspace = Workspace(settings)
    process = start_build(settings)
    assert process is not None
    assert start_build(settings) is None, "a second build started beside a running one"
    state = _wait(workspace, lambda s: s["stage"] == "embedding passages" and s["done"] >= 256)
    os.kill(state["pid"], signal.SIGKILL)
    process.wait(30)

    after = read_state(workspace)
    assert after is not None and after.state == "interrupted" and after.resumable
    assert "ended without finishing" in after.summary()
    assert not workspace.has_document_index(), "a half-built document index was published"
    kept = _cached_vectors(workspace)
    assert kept >= 256

    resumed = start_build(settings)
    assert resumed is not None
    done = _wait(workspace, lambda s: s["state"] != "running")
    resumed.wait(30)
    assert done["state"] == "done", done
    assert workspace.ready()
    assert _cached_vectors(workspace) > kept
    assert done["reused"] >= kept, "the resumed build embedded again what the killed one had cached"


def test_a_failing_build_says_why_and_can_be_resumed(scored: Path, tmp_path: Path) -> None:
    settings = _scored_workspace(scored, tmp_path / "ws", index={"embedder": str(tmp_path / "no-such-model")})
    process = start_build(settings)
    assert process is not None and process.wait(120) == 1
    state = read_state(Workspace(settings))
    assert state is not None and state.state == "failed" and state.resumable
    assert "no-such-model" in state.summary() and "neither" in state.summary()
    assert "Traceback" in (tmp_path / "ws" / "index" / "build.log").read_text()
    told = underwrite("--workspace", str(tmp_path / "ws"), "index", "status", cwd=tmp_path)
    assert told.returncode == 2 and "failed" in told.stdout and "no-such-model" in told.stdout, told


def test_the_workbench_serves_a_case_and_its_memo_before_any_index(scored: Path, tmp_path: Path) -> None:
    from assistant.memo.schema import Memo
    from assistant.ui.workbench import Workbench

    settings = _scored_workspace(scored, tmp_path / "ws")
    bench = Workbench(settings)
    assert not Workspace(settings).has_document_index()
    merchant = str(bench.work_queue.rows("applicant").iloc[0]["merchant"])
    view = bench.open_case(merchant)
    assert view.case.documents and any(d.chunks for d in view.case.documents)
    assert any("still being built" in note for note in view.notes)
    memo = [done for _, done, _ in bench.memo_stream(merchant) if done is not None]
    assert len(memo) == 1 and isinstance(memo[0], Memo)
    tags = {c.tag for d in view.case.documents for c in d.chunks}
    assert tags, "the case has passages to cite"
    assert "No document index" in bench.indexing.status()

    process = start_build(settings)
    assert process is not None
    assert bench.indexing.building() or process.poll() is not None
    state = _wait(Workspace(settings), lambda s: s["state"] != "running")
    process.wait(30)
    assert state["state"] == "done"
    assert bench.indexing.status().startswith("Document index ready")
    reopened = bench.open_case(merchant)
    assert bench.source.store is not None, "the workbench kept reading files after the index was published"
    assert not reopened.notes and reopened.case.similar


def test_an_unreadable_state_file_reads_as_a_failed_build_to_start_again(
    scored: Path, tmp_path: Path
) -> None:
    from assistant.ui.workbench import Workbench

    settings = _scored_workspace(scored, tmp_path / "ws")
    status = tmp_path / "ws" / "index" / "build.json"
    status.parent.mkdir(parents=True, exist_ok=True)
    status.write_text('{"state": "running", "pid": ')  # cut off mid-write by a full disk, say
    state = read_state(Workspace(settings))
    assert state is not None and state.state == "failed" and state.resumable
    assert "unreadable" in Workbench(settings).indexing.status()
    told = underwrite("--workspace", str(tmp_path / "ws"), "index", "status", cwd=tmp_path)
    assert told.returncode == 2 and "unreadable" in told.stdout


def test_a_case_read_on_the_spot_names_the_file_it_could_not_read(scored: Path, tmp_path: Path) -> None:
    from assistant.ui.workbench import Workbench

    settings = _scored_workspace(scored, tmp_path / "ws")
    bench = Workbench(settings)
    merchant = str(bench.work_queue.rows("applicant").iloc[0]["merchant"])
    documents = pd.read_csv(Workspace(settings).portfolio.documents, dtype=str)
    mine = documents[documents["merchant_id"] == merchant]
    broken = Workspace(settings).portfolio.root / str(mine.iloc[0]["path"])
    broken.unlink()  # listed in documents.csv, gone from the disk
    view = bench.open_case(merchant)
    assert any(broken.name in note and "could not be read" in note for note in view.notes), view.notes
    assert len(view.case.documents) == len(mine) - 1


def test_the_status_line_says_where_the_build_is_and_how_long_is_left() -> None:
    from assistant.jobs.background_index import BuildState

    early = BuildState(
        "running", stage="embedding passages", done=100, total=10_240, updated_at=100, stage_started_at=90
    )
    assert early.eta_s() is None and "100 of 10,240" in early.summary()  # too early to promise a time
    half = BuildState(
        "running", stage="embedding passages", done=5_120, total=10_240, updated_at=400, stage_started_at=100
    )
    assert half.eta_s() == pytest.approx(300) and "about 5 min left" in half.summary()
    failed = BuildState("failed", stage="embedding passages", error="OSError: disk full")
    assert failed.resumable and not failed.active
    assert failed.summary() == "The document index build failed while embedding passages: OSError: disk full"
    done = BuildState("done", chunks=13_105, reused=4_096, started_at=0, updated_at=214)
    assert done.summary().startswith("Document index ready: 13,105 passages, 4,096 of them cached")
    assert done.summary().endswith("in 4 min")
