"""A Spark session bound to loopback in local mode, and records read the way a local file is read."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from models.errors import UnderwriterError


def spark_session(master: str, *, app_name: str = "underwriter", conf: dict[str, str] | None = None) -> Any:
    """A Spark session bound to 127.0.0.1 in local mode, with Arrow on for pandas exchange."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise UnderwriterError(
            "Spark is not installed: pip install 'underwriter[spark]' (pyspark; Java 17+ on the machine)"
        ) from None
    builder = SparkSession.builder.master(master).appName(app_name)
    settings = {
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.shuffle.partitions": "8",
    }
    if master.startswith("local"):  # one machine: loopback only, workers run this interpreter
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        settings |= {
            "spark.driver.host": "127.0.0.1",
            "spark.driver.bindAddress": "127.0.0.1",
            "spark.pyspark.python": sys.executable,
            "spark.pyspark.driver.python": sys.executable,
        }
    for key, value in (settings | (conf or {})).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def read_records(spark: Any, data: Path, columns: list[str]) -> Any:
    """The columns the model needs, from CSV (every cell as text, parsed like a local file) or Parquet."""
    text = str(data)
    parquet = data.suffix.lower() in {".parquet", ".pq"} or (data.is_dir() and any(data.rglob("*.parquet")))
    if parquet:
        frame = spark.read.parquet(text)
    else:  # as pandas reads it: quoted cells may span lines, a quote inside one is doubled ("")
        frame = spark.read.csv(text, header=True, inferSchema=False, multiLine=True, escape='"', quote='"')
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise UnderwriterError(f"{data}: missing column(s) {', '.join(missing)}")
    from pyspark.sql import functions as F  # noqa: N812 - Spark's own convention

    return frame.select(*[F.col(c).cast("string") if not parquet else F.col(c) for c in columns])
