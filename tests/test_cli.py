"""The command line end to end, in a fresh process like a user runs it."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]


SLOW_MACHINE_S = 1800
"""A subprocess limit well above what `underwrite demo` needs on a loaded 2-core AVX2 machine (it ran
past 300 s there): a limit that catches a hang, never a slow machine."""


def underwrite(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("UNDERWRITER_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=SLOW_MACHINE_S,
    )


def test_generate_train_score_evaluate(tmp_path: Path):
    score_args = ("score", "--model", "model", "--data", "pf/merchants.csv", "--out", "scores.csv")
    done = underwrite("demo-data", "--merchants", "800", "--seed", "2", "--out", "pf", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "wrote 800 merchants" in done.stdout

    done = underwrite(
        "train",
        "--spec",
        "merchant_portfolio",
        "--data",
        "pf/merchants.csv",
        "--out",
        "model",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "trained model/versions/v0001" in done.stdout and "test AUC" in done.stdout

    done = underwrite(*score_args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    scores = pd.read_csv(tmp_path / "scores.csv", keep_default_na=False)
    assert list(scores.columns[:6]) == ["id", "pd", "grade", "band", "policy_flags", "reason_codes"]
    assert len(scores) == 800 and scores["pd"].between(0, 1).all()
    assert set(scores["band"]) <= {"approve", "refer", "decline"}

    done = underwrite(*score_args, cwd=tmp_path)
    assert done.returncode == 2 and "already exists" in done.stderr

    before = (tmp_path / "scores.csv").read_bytes()
    bad = pd.read_csv(tmp_path / "pf/merchants.csv", dtype=str)
    bad.loc[10, "refund_rate"] = "twelve percent"
    bad.to_csv(tmp_path / "bad.csv", index=False)
    done = underwrite(
        "score", "--model", "model", "--data", "bad.csv", "--out", "scores.csv", "--force", cwd=tmp_path
    )
    assert done.returncode == 2 and "column 'refund_rate': non-numeric values at row 11" in done.stderr
    assert (tmp_path / "scores.csv").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv", "model", "pf", "scores.csv"]

    done = underwrite("evaluate-model", "--model", "model", "--data", "pf/merchants.csv", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert {
        "auc",
        "gini",
        "ks",
        "brier",
        "log_loss",
        "ece",
        "psi_vs_training",
        "calibration_by_grade",
    } <= set(report)


def test_errors_are_one_clear_message_without_traceback(tmp_path: Path):
    (tmp_path / "bad.csv").write_text("merchant_id,tenure_months\nM1,abc\n")
    cases = [
        (("similar", "M1", "--k", "0"), "must be at least 1"),
        (("search", "refunds", "--k", "many"), "not a whole number"),
        (("index", "build", "--spec", "lending_club"), "--spec needs --data"),
        (
            ("train", "--spec", "merchant_portfolio", "--data", "bad.csv", "--out", "m"),
            "missing column(s)",
        ),
        (
            ("train", "--spec", "nope", "--data", "bad.csv", "--out", "m"),
            "no dataset spec file 'nope'",
        ),
        (("score", "--model", "m", "--data", "bad.csv", "--out", "s.csv"), "no model at m"),
        (("--config", "missing.toml", "specs"), "settings file missing.toml does not exist"),
        (
            (
                "train",
                "--spec",
                "lending_club",
                "--data",
                "bad.csv",
                "--out",
                "m",
                "--test-from",
                "2010-13-01",
            ),
            "not an ISO date",
        ),
    ]
    for args, needle in cases:
        done = underwrite(*args, cwd=tmp_path)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert needle in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr


def test_demo_main_job_prints_the_summary(tmp_path: Path):
    (tmp_path / "underwriter.toml").write_text('workspace = "ws"\n[demo]\nmerchants = 300\n')
    done = underwrite("demo", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for needle in (
        "300 merchants",
        "AUC",
        "Applicants by grade",
        "Highest-risk applicants",
        "bands: approve",
        "Evidence for the highest-risk applicants",
        "most similar past cases",
    ):
        assert needle in out, needle
    assert (tmp_path / "ws/index/documents/CURRENT").is_file()
    assert (tmp_path / "ws/index/cases/merchants/CURRENT").is_file()
    assert (tmp_path / "ws/demo/scores.csv").is_file()
    assert (tmp_path / "ws/models/merchant/CURRENT").read_text().strip() == "v0001"
    again = underwrite("demo", "--no-memos", cwd=tmp_path)  # what is checked here is reuse, not memos
    assert again.returncode == 0 and "(existing)" in again.stdout
    assert "first run only" not in again.stdout, "up-to-date indexes are reused"
    assert (tmp_path / "ws/index/documents/CURRENT").read_text().strip() == "v0001"
    assert not (tmp_path / "ws/models/merchant/versions/v0002").exists()


def test_specs_lists_shipped_specs(tmp_path: Path):
    done = underwrite("specs", cwd=tmp_path)
    assert done.returncode == 0
    assert "lending_club" in done.stdout and "merchant_portfolio" in done.stdout


def test_train_on_lending_club_says_what_ships_and_how_it_compares_with_the_lenders_price(tmp_path: Path):
    from tests.conftest import LENDING_CLUB, require_file

    data = require_file(LENDING_CLUB)
    done = underwrite(
        "train",
        "--spec",
        "lending_club",
        "--data",
        str(data),
        "--out",
        str(tmp_path / "lc"),
        "--test-from",
        "2010-01-01",
        "--text",
        "off",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "the model beats int_rate alone on the test rows (AUC 0.654)" in done.stdout
    assert "shipped: the recipe refit on 903 labelled rows through 2010-12-01" in done.stdout
    card = (tmp_path / "lc" / "versions" / "v0001" / "model_card.md").read_text()
    assert "## Model choice" in card and "| AUC of `int_rate` alone" in card
    bad = underwrite(
        "train",
        "--spec",
        "lending_club",
        "--data",
        str(data),
        "--out",
        str(tmp_path / "x"),
        "--refit-until",
        "2001-01-01",
        "--text",
        "off",
        cwd=tmp_path,
    )
    assert (
        bad.returncode != 0 and "choose a later --refit-until" in bad.stderr and "Traceback" not in bad.stderr
    )
    assert not (tmp_path / "x").exists()
