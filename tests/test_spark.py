"""Portfolio scoring on a real Spark (``local[2]`` started here): the same results as one machine,
row for row; a failed task retried without duplicate rows; bad rows reported, the job done."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from assistant.audit import AuditStore
from assistant.settings import Settings

pytest.importorskip("pyspark")
if not shutil.which("java"):
    pytest.skip("Spark needs Java 17+ (`java` not found)", allow_module_level=True)

from assistant.jobs.batch_score import score_locally
from assistant.spark.score import score_with_spark
from assistant.spark.session import spark_session
from assistant.workspace import Workspace
from models.errors import UnderwriterError

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def spark() -> Iterator[object]:
    session = spark_session("local[2,2]", app_name="underwriter-tests")  # 2 attempts per task
    yield session
    session.stop()


@pytest.fixture
def settings(memo_workspace: Settings, tmp_path: Path) -> Settings:
    """The test portfolio and model, with an audit trail of this test's own."""
    return memo_workspace.model_copy(
        update={"audit": memo_workspace.audit.model_copy(update={"url": str(tmp_path / "audit.sqlite")})}
    )


def _scores(folder: Path) -> pd.DataFrame:
    frame = pd.read_parquet(folder / "scores")
    frame["band"] = frame["band"].astype(str)  # partition columns come back as categories
    return frame.sort_values("id").reset_index(drop=True)


def test_spark_scores_equal_the_single_machine_path_row_for_row(
    spark, settings: Settings, tmp_path: Path
) -> None:
    data = Workspace(settings).portfolio.merchants
    on_spark = score_with_spark(
        settings,
        model=Workspace(settings).model_dir,
        data=data,
        out=tmp_path / "spark",
        partitions=3,
        spark=spark,
    )
    local = score_locally(settings, model=Workspace(settings).model_dir, data=data, out=tmp_path / "local")
    assert on_spark.rows_in == on_spark.rows_scored == local.rows_scored == len(pd.read_csv(data))
    assert on_spark.partitions == 3 and on_spark.rows_rejected == 0
    a, b = _scores(tmp_path / "spark"), _scores(tmp_path / "local")
    assert list(a.columns) != [] and set(a.columns) == set(b.columns)
    pd.testing.assert_frame_equal(a[sorted(a.columns)], b[sorted(b.columns)])
    assert {p.name for p in (tmp_path / "spark" / "scores").iterdir() if p.is_dir()} <= {
        "band=approve",
        "band=refer",
        "band=decline",
    }
    with AuditStore.open(Workspace(settings).audit_target) as audit:
        runs = audit.rows("runs")
    assert [r["engine"] for r in runs] == ["spark local[2,2]", "local"]
    assert runs[0]["input_sha256"] == runs[1]["input_sha256"] and runs[0]["rows_out"] == len(a)
    assert runs[0]["input_sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()  # a dataset's own hash


def fail_first_attempt_of_first_partition(marker: Path):
    """A task hook that makes the first attempt of partition 0 fail after touching ``marker``
    (pickled by value to the executors: a closure)."""

    def hook() -> None:
        from pyspark import TaskContext

        context = TaskContext.get()
        if context is not None and context.partitionId() == 0 and context.attemptNumber() == 0:
            Path(marker).touch()
            raise RuntimeError("injected failure of the first attempt")

    return hook


def test_a_failed_task_is_retried_without_duplicate_rows(spark, settings: Settings, tmp_path: Path) -> None:
    marker = tmp_path / "first-attempt-failed"
    data = Workspace(settings).portfolio.merchants
    run = score_with_spark(
        settings,
        model=Workspace(settings).model_dir,
        data=data,
        out=tmp_path / "out",
        partitions=3,
        spark=spark,
        before_task=fail_first_attempt_of_first_partition(marker),
    )
    assert marker.exists()  # the first attempt of partition 0 did fail
    scores = _scores(tmp_path / "out")
    rows = len(pd.read_csv(data))
    assert run.rows_scored == rows and len(scores) == rows and scores["id"].is_unique
    assert not list((tmp_path / "out").glob(".scores.*"))  # no staging folder left behind


def test_bad_rows_are_reported_and_the_job_goes_on(spark, settings: Settings, tmp_path: Path) -> None:
    raw = pd.read_csv(Workspace(settings).portfolio.merchants, dtype=str)
    raw.loc[3, "refund_rate"] = "about ten percent"
    raw.loc[7, "merchant_id"] = ""
    data = tmp_path / "portfolio.csv"
    raw.to_csv(data, index=False)
    previous = tmp_path / "out"
    run = score_with_spark(
        settings, model=Workspace(settings).model_dir, data=data, out=previous, spark=spark
    )
    assert (run.rows_in, run.rows_scored, run.rows_rejected) == (len(raw), len(raw) - 2, 2)
    rejected = pd.read_parquet(previous / "rejected").sort_values("error").reset_index(drop=True)
    assert list(rejected["error"]) == ["empty id", "refund_rate: not a number"]
    assert rejected.loc[1, "id"] == raw.loc[3, "merchant_id"]
    assert raw.loc[3, "merchant_id"] not in set(_scores(previous)["id"])
    with pytest.raises(Exception, match="is not an output column"):
        score_with_spark(
            settings,
            model=Workspace(settings).model_dir,
            data=data,
            out=previous,
            partition_by=["pd"],
            spark=spark,
        )
    assert len(_scores(previous)) == len(raw) - 2  # a refused run leaves the last one in place


def test_batch_score_command_on_spark_and_locally(memo_workspace: Settings, tmp_path: Path) -> None:
    data = Workspace(memo_workspace).portfolio.merchants
    env_args = ["--workspace", str(memo_workspace.workspace)]

    def underwrite(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "assistant.cli", *env_args, *args],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=1800,
            env={
                "UNDERWRITER_AUDIT__URL": str(tmp_path / "audit.sqlite"),
                "PATH": "/usr/bin:/bin",
                "HOME": str(tmp_path),
            },
        )

    spark_run = underwrite(
        "batch", "score", "--data", str(data), "--out", str(tmp_path / "s"), "--master", "local[1]"
    )
    assert spark_run.returncode == 0, spark_run.stderr[-2000:]
    assert "rejected of" in spark_run.stdout and "(spark local[1])" in spark_run.stdout
    local_run = underwrite(
        "batch", "score", "--engine", "local", "--data", str(data), "--out", str(tmp_path / "l")
    )
    assert local_run.returncode == 0, local_run.stderr[-2000:]
    pd.testing.assert_frame_equal(
        _scores(tmp_path / "s"), _scores(tmp_path / "l")[_scores(tmp_path / "s").columns]
    )
    bad = underwrite(
        "batch",
        "score",
        "--engine",
        "local",
        "--data",
        str(tmp_path / "none.csv"),
        "--out",
        str(tmp_path / "x"),
    )
    assert bad.returncode == 2 and "error:" in bad.stderr


def test_memos_on_spark_once_per_case_and_resumable(spark, settings: Settings, tmp_path: Path) -> None:
    from assistant.case.source import CaseSource
    from assistant.spark.memos import memos_with_spark

    ids = CaseSource(settings).ids("applicant")[:4]
    out = tmp_path / "memos"
    first = memos_with_spark(settings, ids, out, partitions=2, spark=spark)
    assert (first.written, first.skipped, first.failed) == (4, 0, {})
    assert all((out / f"{i}.{fmt}").is_file() for i in ids for fmt in ("md", "json", "html"))
    with AuditStore.open(Workspace(settings).audit_target) as audit:
        memos = audit.rows("memos")
        calls = audit.count("llm_calls")
    assert sorted(m["merchant_id"] for m in memos) == sorted(ids) and {m["run_id"] for m in memos} == {
        first.run_id
    }
    # a task killed after recording a memo but before writing its files: the rerun writes them
    # from the audit trail, with no new LLM call and no second memo
    for fmt in ("md", "json", "html"):
        (out / f"{ids[1]}.{fmt}").unlink()
    again = memos_with_spark(settings, ids, out, partitions=2, spark=spark)
    assert again.run_id == first.run_id and (again.written, again.skipped) == (1, 3)
    with AuditStore.open(Workspace(settings).audit_target) as audit:
        assert audit.count("memos") == 4 and audit.count("llm_calls") == calls
        runs = audit.rows("runs")
    assert [r["kind"] for r in runs] == ["memo", "memo"] and runs[1]["rows_out"] == 4
    assert json.loads((out / f"{ids[1]}.json").read_text())["case_id"] == ids[1]


def test_similar_cases_on_spark_match_the_single_machine_search(
    spark, settings: Settings, tmp_path: Path
) -> None:
    from assistant.jobs.evidence import similar_cases
    from assistant.spark.similar import similar_with_spark

    data = Workspace(settings).portfolio.merchants
    queries, rows, _ = similar_with_spark(settings, data=data, out=tmp_path, k=3, partitions=2, spark=spark)
    found = pd.read_parquet(tmp_path / "similar")
    merchants = pd.read_csv(data, dtype=str)
    assert (
        queries == len(merchants)
        and rows == len(found)
        and set(found["query_id"]) <= set(merchants["merchant_id"])
    )
    for status in ("applicant", "historical"):  # one outside the library, one inside
        for case_id in merchants.loc[merchants["status"] == status, "merchant_id"].head(3):
            expected = similar_cases(settings, case_id, k=3)
            got = found[found["query_id"] == case_id].sort_values("rank")
            assert list(got["case_id"]) == [h.case_id for h in expected.hits], case_id
            assert got["similarity"].to_numpy() == pytest.approx(
                [h.similarity for h in expected.hits], abs=1e-6
            )


def test_distributed_training_writes_the_trainers_artifact(
    spark, settings: Settings, portfolio, trained, tmp_path: Path
) -> None:
    from assistant.jobs.modeling import score_file
    from assistant.spark.train import train_with_spark
    from models.store.artifacts import load_model

    version, report = train_with_spark(
        settings,
        spec="merchant_portfolio",
        data=portfolio.merchants,
        out=tmp_path / "model",
        spark=spark,
        num_workers=2,
    )
    model = load_model(tmp_path / "model")  # the manifest's hashes verify
    assert model.spec.name == "merchant_portfolio" and model.booster.num_boosted_rounds() == report["trees"]
    single_dir = trained.version_dir
    # the kind's own files, and the model-choice plot (Spark makes no choice)
    kind_files = {"booster.ubj", "scorecard.json", "blend.json", "plots/model_choice.png"}
    ours_files, their_files = (
        {str(p.relative_to(d)) for p in d.rglob("*") if p.is_file()} - kind_files
        for d in (version, single_dir)
    )
    assert ours_files == their_files and (version / "booster.ubj").is_file()
    shipped = json.loads((version / "metrics.json").read_text())["shipped"]
    assert (
        shipped["refit"]
        and shipped["rows"] == report["rows"] - report["rejected"] - report["skipped_unlabelled"]
    )
    assert "refit with the same settings" in (version / "model_card.md").read_text()
    ours, theirs = (json.loads((d / "metrics.json").read_text()) for d in (version, single_dir))
    assert (
        "Spark, 2 workers" in ours["split"]
        and report["skipped_unlabelled"] == theirs["rows"]["skipped_unlabelled"]
    )
    assert abs(ours["rows"]["test"] - theirs["rows"]["test"]) <= 0.02 * theirs["rows"]["test"]
    assert abs(ours["test"]["auc"] - theirs["test"]["auc"]) < 0.05, (
        ours["test"]["auc"],
        theirs["test"]["auc"],
    )
    scored = score_file(settings, model=tmp_path / "model", data=portfolio.merchants, out=None).batch.frame
    assert scored["pd"].between(0, 1).all() and scored["reason_codes"].str.len().gt(0).any()
    with AuditStore.open(Workspace(settings).audit_target) as audit:
        [run] = audit.rows("runs", {"kind": "train"})
    assert run["rows_out"] == len(pd.read_csv(portfolio.merchants)) - report["skipped_unlabelled"]


def test_spark_reads_every_file_the_local_path_reads(spark, settings: Settings, tmp_path: Path) -> None:
    """The shared Lending Club file has long quoted descriptions spanning lines: Spark scores every row
    the local path scores, with the same results."""
    from assistant.jobs.modeling import train_model

    data = ROOT / "data" / "lc_small_business_2007_2010.csv"
    model = train_model(settings, spec="lending_club", data=data, out=tmp_path / "model", progress=False)
    on_spark = score_with_spark(
        settings, model=model.version_dir, data=data, out=tmp_path / "spark", partitions=2, spark=spark
    )
    local = score_locally(settings, model=model.version_dir, data=data, out=tmp_path / "local")
    assert on_spark.rows_scored == local.rows_scored == 903 and on_spark.rows_rejected == local.rows_rejected
    a, b = _scores(tmp_path / "spark"), _scores(tmp_path / "local")
    pd.testing.assert_frame_equal(a[sorted(a.columns)], b[sorted(b.columns)])


def test_spark_refuses_the_candidates_it_does_not_train(
    settings: Settings, portfolio, tmp_path: Path
) -> None:
    from assistant.spark.train import train_with_spark

    for model in ("scorecard", "blend"):
        with pytest.raises(UnderwriterError, match="run with --engine local"):
            train_with_spark(
                settings,
                spec="merchant_portfolio",
                data=portfolio.merchants,
                out=tmp_path / model,
                model=model,
            )
        assert not (tmp_path / model).exists()
