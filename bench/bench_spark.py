"""Spark scoring benchmark: 1M merchants, ``local[1]`` vs ``local[2]`` vs the single-process path.

Baselines, measured in the same run on the same 1M-row file:

* the single-process path (``underwrite batch score --engine local``: read, validate, score
  with reason codes on 2 threads, write Parquet);
* the pure scoring work: :func:`models.scoring.partition.score_records` on the whole file
  in this process with one thread. Spark ``local[1]``'s wall time minus this is Spark's
  overhead (JVM, CSV parsing, Arrow transfer to Python workers, Parquet writing, commit).

Run: ``.venv/bin/python bench/bench_spark.py [--rows 1000000]``; results in
``bench/results/spark.json``. Needs the demo workspace (built if missing) and Java 17+.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from assistant.jobs.batch_score import score_locally  # noqa: E402
from assistant.jobs.prepare import prepare_workspace  # noqa: E402
from assistant.settings import load_settings  # noqa: E402
from assistant.spark.score import score_with_spark  # noqa: E402
from assistant.spark.session import spark_session  # noqa: E402
from assistant.workspace import Workspace  # noqa: E402
from bench.machine import describe, machine  # noqa: E402
from models.scoring.partition import model_from_payload, model_payload, score_records  # noqa: E402


def big_portfolio(source: Path, rows: int, target: Path) -> Path:
    """The demo merchants repeated to ``rows`` rows, each with its own id."""
    if target.exists():
        with open(target) as handle:
            if sum(1 for _ in handle) - 1 == rows:
                return target
    base = pd.read_csv(source, dtype=str)
    reps = -(-rows // len(base))
    frame = pd.concat([base] * reps, ignore_index=True).head(rows)
    frame["merchant_id"] = [f"M{i:08d}" for i in range(rows)]
    target.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(target, index=False)
    return target


def main() -> None:
    print(describe(), flush=True)
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    settings = load_settings()
    if not Workspace(settings).ready():
        prepare_workspace(settings)
    work = settings.workspace / "bench" / "spark"
    shutil.rmtree(work / "out", ignore_errors=True)
    data = big_portfolio(
        Workspace(settings).portfolio.merchants, args.rows, work / f"merchants_{args.rows}.csv"
    )
    size_mb = data.stat().st_size / 1e6
    print(f"{args.rows:,} rows, {size_mb:.0f} MB CSV")
    results: dict = {"rows": args.rows, "csv_mb": round(size_mb, 1), "machine": machine()}

    t = time.perf_counter()
    local = score_locally(
        settings, model=Workspace(settings).model_dir, data=data, out=work / "out" / "local"
    )
    results["single_process_s"] = time.perf_counter() - t
    print(f"single process (2 threads): {results['single_process_s']:.1f} s ({local.rows_scored:,} rows)")

    raw = pd.read_csv(data, dtype=str)
    model = model_from_payload(model_payload(Workspace(settings).model_dir), nthread=1)
    t = time.perf_counter()
    for start in range(0, len(raw), 100_000):  # the batches Spark would hand a worker, in one thread
        score_records(model, raw.iloc[start : start + 100_000], nthread=1)
    results["pure_scoring_1_thread_s"] = time.perf_counter() - t
    del raw
    print(f"pure scoring, 1 thread, in process: {results['pure_scoring_1_thread_s']:.1f} s")

    for master in ("local[1]", "local[2]"):
        t = time.perf_counter()
        spark = spark_session(master, conf={"spark.sql.files.maxPartitionBytes": str(32 * 1024 * 1024)})
        started = time.perf_counter() - t
        t = time.perf_counter()
        run = score_with_spark(
            settings, model=Workspace(settings).model_dir, data=data, out=work / "out" / master, spark=spark
        )
        job = time.perf_counter() - t
        spark.stop()
        results[master] = {
            "session_start_s": started,
            "job_s": job,
            "total_s": started + job,
            "partitions": run.partitions,
            "rows_scored": run.rows_scored,
        }
        print(f"spark {master}: session {started:.1f} s + job {job:.1f} s, {run.partitions} tasks")
    check = pd.read_parquet(work / "out" / "local[2]" / "scores", columns=["id", "pd"]).sort_values("id")
    ref = pd.read_parquet(work / "out" / "local" / "scores", columns=["id", "pd"]).sort_values("id")
    results["identical_pd"] = bool(np.array_equal(check["pd"].to_numpy(), ref["pd"].to_numpy()))

    one, two = results["local[1]"], results["local[2]"]
    results["rows_per_s"] = {
        "single_process": args.rows / results["single_process_s"],
        "spark_local_1": args.rows / one["total_s"],
        "spark_local_2": args.rows / two["total_s"],
    }
    results["spark_overhead_local_1"] = {
        "seconds": one["total_s"] - results["pure_scoring_1_thread_s"],
        "share": 1 - results["pure_scoring_1_thread_s"] / one["total_s"],
    }
    results["speedup_local_2_vs_1"] = one["job_s"] / two["job_s"]
    out = ROOT / "bench" / "results" / "spark.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    r = results["rows_per_s"]
    print(
        f"rows/s: single process {r['single_process']:,.0f}, spark local[1] {r['spark_local_1']:,.0f}, "
        f"local[2] {r['spark_local_2']:,.0f}; local[2] job {results['speedup_local_2_vs_1']:.2f}x local[1]; "
        f"Spark overhead at local[1]: {results['spark_overhead_local_1']['seconds']:.1f} s "
        f"({results['spark_overhead_local_1']['share']:.0%}); identical PDs: {results['identical_pd']}"
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
