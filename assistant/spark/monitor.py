"""The book monitor's Spark form (``underwrite monitor --engine spark``): the month is re-scored on Spark by
the same partition scorer as ``batch score``; the per-merchant checks then run on the driver over
the scores and the watched columns (a few numbers per merchant)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from assistant.settings import Settings
from assistant.spark.score import score_with_spark
from models.errors import UnderwriterError
from models.store.artifacts import RiskModel


def spark_scorer(settings: Settings) -> Callable[[RiskModel, pd.DataFrame, Path], pd.DataFrame]:
    """The monitor's scorer (:data:`assistant.monitor.run.Scorer`) on Spark."""
    return lambda model, frame, data: score_month_with_spark(settings, model, data)


def score_month_with_spark(settings: Settings, model: RiskModel, data: Path) -> pd.DataFrame:
    """``pd``, ``grade``, ``band``, ``policy_flags`` per merchant id, scored on Spark."""
    out = Path(tempfile.mkdtemp(prefix="monitor-spark-"))
    try:
        run = score_with_spark(settings, model=model.path, data=data, out=out, reasons="none")
        if run.rows_rejected:
            raise UnderwriterError(
                f"{data}: {run.rows_rejected:,} rows could not be scored (see a batch run's rejected/)"
            )
        scores = pd.read_parquet(out / "scores")
    finally:
        shutil.rmtree(out, ignore_errors=True)
    scores["id"] = scores["id"].astype(str)
    scores["policy_flags"] = scores["policy_flags"].fillna("")
    return scores.set_index("id")[["pd", "grade", "band", "policy_flags"]]
