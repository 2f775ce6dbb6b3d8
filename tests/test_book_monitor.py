"""The book monitor on the real generator's later months: planted deteriorations are caught before their
default, benign merchants rarely alerted, alerts deduplicated and recorded, bad input refused with nothing
changed, signals in new documents alerted, and the Spark form equal to the local one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from assistant.cli.main import main
from assistant.jobs.modeling import TrainOutcome
from assistant.monitor.checks import WatchConfig, check_feature
from assistant.monitor.history import BookHistory
from assistant.monitor.run import MonitorReport, monitor_month
from assistant.settings import Settings, load_settings
from assistant.workspace import Workspace
from models.demo_data.book import BookFiles, generate_book
from models.demo_data.generate import PortfolioFiles
from models.errors import UnderwriterError
from tests.conftest import LENDING_CLUB

pytestmark = pytest.mark.slow
MONTHS = 9


@pytest.fixture(scope="module")
def book(portfolio: PortfolioFiles, tmp_path_factory: pytest.TempPathFactory) -> BookFiles:
    return generate_book(portfolio, tmp_path_factory.mktemp("book") / "book", months=MONTHS, seed=3)


def _settings(root: Path, trained: TrainOutcome) -> Settings:
    settings = load_settings(None, workspace=root / "ws", threads=2)
    return settings.model_copy(
        update={"service": settings.service.model_copy(update={"champion": str(trained.version_dir)})}
    )


@pytest.fixture(scope="module")
def monitored(
    book: BookFiles, trained: TrainOutcome, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Settings, list[MonitorReport]]:
    settings = _settings(tmp_path_factory.mktemp("monitor"), trained)
    return settings, [monitor_month(settings, path) for path in book.months()]


def test_the_generator_plants_deteriorations_and_records_them(
    book: BookFiles, portfolio: PortfolioFiles
) -> None:
    truth = pd.read_csv(book.truth, dtype=str, keep_default_na=False)
    months = [pd.read_csv(p, dtype={"merchant_id": str}) for p in book.months()]
    assert len(months) == MONTHS and {"disputes", "blip"} <= set(truth["kind"])
    on_book = set(months[0]["merchant_id"])
    defaulted = pd.read_csv(portfolio.merchants, dtype={"merchant_id": str}).query("default_12m == 1")
    assert not on_book & set(defaulted["merchant_id"])  # the book holds performing merchants only
    names = [p.stem for p in book.months()]
    for row in truth[(truth["kind"] == "disputes") & (truth["default_month"] <= names[-1])].itertuples():
        gone = names.index(row.default_month)
        assert row.merchant_id not in set(months[gone]["merchant_id"])  # defaulted: off the book
        before = months[names.index(row.onset_month) - 1].set_index("merchant_id").loc[row.merchant_id]
        after = months[gone - 1].set_index("merchant_id").loc[row.merchant_id]
        assert after["dispute_rate"] > 1.5 * before["dispute_rate"]
    again = generate_book(portfolio, book.root.parent / "again", months=MONTHS, seed=3)
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(again.months(), book.months(), strict=True))


def test_planted_deteriorations_are_caught_before_default_and_benign_ones_rarely(
    book: BookFiles, monitored: tuple[Settings, list[MonitorReport]]
) -> None:
    _, reports = monitored
    alerts = pd.concat([r.alerts.assign(month=r.month) for r in reports])
    truth = pd.read_csv(book.truth, dtype=str, keep_default_na=False)
    last = reports[-1].month
    planted = truth[(truth["kind"] != "blip") & (truth["onset_month"] < last)]
    caught = [
        not alerts[
            (alerts["merchant_id"] == t.merchant_id)
            & (alerts["month"] >= t.onset_month)
            & (alerts["month"] < (t.default_month or "9999"))
        ].empty
        for t in planted.itertuples()
    ]
    assert len(planted) >= 10 and np.mean(caught) >= 0.75
    marked = set(truth["merchant_id"])
    benign = alerts[~alerts["merchant_id"].isin(marked)]
    merchant_months = sum(r.merchants for r in reports)
    assert 1000 * len(benign) / merchant_months < 40  # false alerts per 1,000 merchants a month
    assert reports[0].alerts.empty or reports[0].alerts["kinds"].str.contains("policy").all()


def test_alerts_are_one_per_merchant_and_month_ranked_and_recorded(
    monitored: tuple[Settings, list[MonitorReport]],
) -> None:
    settings, reports = monitored
    with Workspace(settings).open_audit() as audit:
        rows = pd.DataFrame(audit.rows("alerts"))
        runs = audit.rows("runs", {"kind": "monitor"})
    assert len(rows) == sum(len(r.alerts) for r in reports) and len(runs) == MONTHS
    assert not rows.duplicated(["merchant_id", "month"]).any()
    for r in reports:
        assert list(r.alerts["score"]) == sorted(r.alerts["score"], reverse=True)
    window = settings.monitor.repeat_after_months
    for merchant, part in rows.groupby("merchant_id"):
        seen: dict[str, pd.Period] = {}
        for row in part.itertuples():
            month = pd.Period(row.month, freq="M")
            for kind in json.loads(row.kinds):
                assert kind not in seen or (month - seen[kind]).n > window, (merchant, kind)
                seen[kind] = month
    trend = BookHistory(Workspace(settings).root / "monitor" / "merchant_portfolio").trend(
        rows["merchant_id"].iloc[0], ["pd"]
    )
    assert len(trend) >= 2 and trend["pd"].between(0, 1).all()


def test_bad_months_are_refused_and_nothing_changes(
    book: BookFiles,
    monitored: tuple[Settings, list[MonitorReport]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings, _ = monitored
    history = BookHistory(Workspace(settings).root / "monitor" / "merchant_portfolio")
    before = [(p, p.read_bytes()) for p in sorted(history.months_dir.iterdir())]
    with Workspace(settings).open_audit() as audit:
        counts = audit.count("alerts"), audit.count("runs")
    with pytest.raises(UnderwriterError, match="monitored already"):
        monitor_month(settings, book.months()[-1])
    with pytest.raises(UnderwriterError, match="older than the latest"):
        monitor_month(settings, book.months()[0], month="2020-01")
    with pytest.raises(UnderwriterError, match="YYYY-MM"):
        monitor_month(settings, book.months()[-1], month="next month")
    with pytest.raises(UnderwriterError, match="merchant_id"):  # a real file of another dataset
        monitor_month(settings, LENDING_CLUB, month="2099-01")
    twice = tmp_path / "twice.csv"
    month = pd.read_csv(book.months()[-1], dtype=str)
    pd.concat([month, month.head(2)]).assign(month="2099-02").to_csv(twice, index=False)
    with pytest.raises(UnderwriterError, match="duplicate ids"):
        monitor_month(settings, twice)
    broken = tmp_path / "broken.csv"
    month.assign(month="2099-03", dispute_rate="lots").to_csv(broken, index=False)
    config = tmp_path / "u.toml"
    config.write_text(
        f'workspace = "{settings.workspace}"\n[service]\nchampion = "{settings.service.champion}"\n'
    )
    assert main(["--config", str(config), "monitor", "--data", str(broken)]) == 2
    err = capsys.readouterr().err
    assert "dispute_rate" in err and "Traceback" not in err
    assert [(p, p.read_bytes()) for p in sorted(history.months_dir.iterdir())] == before
    with Workspace(settings).open_audit() as audit:
        assert (audit.count("alerts"), audit.count("runs")) == counts


def test_risk_signals_in_new_documents_raise_an_alert(
    book: BookFiles, trained: TrainOutcome, tmp_path: Path
) -> None:
    settings = _settings(tmp_path, trained)
    first, second = book.months()[:2]
    monitor_month(settings, first)
    merchant = pd.read_csv(second, dtype={"merchant_id": str})["merchant_id"].iloc[5]
    folder = tmp_path / "docs" / merchant
    folder.mkdir(parents=True)
    (folder / "letter.txt").write_text(
        "Quarterly update to our processor.\n\nOur auditors have expressed substantial doubt about the "
        "company's ability to continue as a going concern for the next twelve months.\n"
    )
    report = monitor_month(settings, second, documents=tmp_path / "docs")
    [row] = report.alerts[report.alerts["merchant_id"] == merchant].to_dict("records")
    assert "new_signal:going_concern" in row["kinds"] and "going_concern" in row["detail"]
    (tmp_path / "docs" / "NOBODY").mkdir()
    with pytest.raises(UnderwriterError, match="not in this month"):
        monitor_month(settings, book.months()[2], documents=tmp_path / "docs")


def test_a_merchant_is_compared_with_itself() -> None:
    config = WatchConfig()
    history = np.array([[0.010, 0.011, 0.009, 0.010], [0.0005, 0.0006, 0.0004, 0.0005]])
    same_rate = np.array([0.010, 0.010])  # normal for the first, a 20x jump for the second
    check = check_feature(history, same_rate, np.zeros(2), 1, 0.0, config)
    assert list(check.spike) == [False, True]
    slow = np.array([[0.010] * 6])
    state = np.zeros(1)
    drifted = False
    for month in range(4):  # +0.8 sd a month more: no single month is a spike, the sum is a drift
        rate = np.array([0.010 * (1 + 0.08 * (month + 1))])
        check = check_feature(slow, rate, state, 1, 0.0, config)
        state = check.cusum
        assert not check.spike[0]
        drifted |= bool(check.drift[0])
    assert drifted
    falling = check_feature(history, np.array([0.002, 0.0001]), np.zeros(2), 1, 0.0, config)
    assert not falling.spike.any() and not falling.drift.any()  # a fall is good news for a dispute rate


def test_the_spark_form_scores_like_the_local_one(
    book: BookFiles, trained: TrainOutcome, tmp_path: Path
) -> None:
    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip("no Java")
    local = monitor_month(_settings(tmp_path / "a", trained), book.months()[0])
    from assistant.spark.monitor import spark_scorer

    on_spark = _settings(tmp_path / "b", trained)
    spark = monitor_month(on_spark, book.months()[0], engine="spark", scorer=spark_scorer(on_spark))
    a = pd.read_parquet(local.history).sort_values("id").reset_index(drop=True)
    b = pd.read_parquet(spark.history).sort_values("id").reset_index(drop=True)
    assert len(a) == len(b) == local.merchants
    assert np.allclose(a["pd"], b["pd"]) and (a["band"].astype(str) == b["band"].astype(str)).all()
