"""``underwrite batch score | similar | memo``: portfolio jobs on Apache Spark (or, for scoring and memos, locally)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from assistant.cli.args import add_case_source_args, case_source_args, positive
from assistant.jobs.batch_score import score_locally
from assistant.jobs.memo_batch import select_cases
from assistant.settings import Settings
from assistant.workspace import PORTFOLIO_LIBRARY, Workspace

COMMANDS = ("batch",)
MASTER_HELP = "Spark master (default [spark] master: local[*])"


def add_parsers(commands: Any) -> None:
    ba = commands.add_parser("batch", help="portfolio jobs on one machine or on Apache Spark")
    jobs = ba.add_subparsers(dest="batch_command", required=True, metavar="JOB")
    bs = jobs.add_parser("score", help="score a portfolio file into Parquet (scores/ and rejected/)")
    bs.add_argument("--data", type=Path, required=True, help="CSV or Parquet file (or a Parquet folder)")
    bs.add_argument("--model", type=Path, help="model directory (default: the demo model)")
    bs.add_argument("--out", type=Path, required=True, help="output folder")
    bs.add_argument("--engine", choices=["spark", "local"], default="spark")
    bs.add_argument("--master", help=MASTER_HELP)
    bs.add_argument("--partition-by", help="comma-separated output partitions: band, grade (default [spark])")
    bs.add_argument("--partitions", type=positive, help="Spark: repartition the input into N tasks")
    bn = jobs.add_parser(
        "similar", help="similar past cases for every record, the case library on each executor"
    )
    bn.add_argument("--data", type=Path, required=True, help="CSV or Parquet file of merchants")
    bn.add_argument("--out", type=Path, required=True, help="output folder (similar/ in Parquet)")
    bn.add_argument("--k", type=positive, default=10)
    bn.add_argument("--library", default=PORTFOLIO_LIBRARY)
    bn.add_argument("--master", help=MASTER_HELP)
    bn.add_argument("--partitions", type=positive, help="repartition the input into N tasks")
    bm = jobs.add_parser(
        "memo",
        help="credit memos as a Spark job (resumable, once per case; `memo --all` runs them on this machine)",
    )
    bm.add_argument("id", nargs="*", help="case ids (default: every case, see --status and --limit)")
    bm.add_argument("--out", type=Path, required=True, help="memo folder; the same folder resumes its run")
    bm.add_argument("--status", help="only cases with this status (demo: applicant, historical)")
    bm.add_argument("--limit", type=positive, help="the first N cases only")
    bm.add_argument("--master", help=MASTER_HELP)
    bm.add_argument("--partitions", type=positive, help="tasks (default: the cluster's parallelism)")
    add_case_source_args(bm)


def run(args: argparse.Namespace, settings: Settings, progress: bool) -> int:
    if args.batch_command == "similar":
        from assistant.spark.similar import similar_with_spark

        queries, rows, seconds = similar_with_spark(
            settings,
            data=args.data,
            out=args.out,
            k=args.k,
            library=args.library,
            master=args.master,
            partitions=args.partitions,
        )
        print(f"{queries:,} merchants, {rows:,} similar cases in {seconds:.1f} s -> {args.out / 'similar'}")
        return 0
    if args.batch_command == "memo":
        return _memos(args, settings)
    partition_by = args.partition_by.split(",") if args.partition_by else None
    model = args.model or Workspace(settings).model_dir
    if args.engine == "local":
        done = score_locally(settings, model=model, data=args.data, out=args.out, partition_by=partition_by)
    else:
        from assistant.spark.score import score_with_spark

        done = score_with_spark(
            settings,
            model=model,
            data=args.data,
            out=args.out,
            master=args.master,
            partition_by=partition_by,
            partitions=args.partitions,
        )
    print(
        f"{done.run_id}: {done.rows_scored:,} scored, {done.rows_rejected:,} rejected of {done.rows_in:,} rows "
        f"in {done.seconds:.1f} s ({done.master}) -> {done.out / 'scores'}"
        + (f"; rejected rows and reasons in {done.out / 'rejected'}" if done.rows_rejected else "")
    )
    return 0


def _memos(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.spark.memos import memos_with_spark

    source_args = case_source_args(args)
    ids = select_cases(settings, source_args, args.id, status=args.status, limit=args.limit)
    done = memos_with_spark(
        settings, ids, args.out, master=args.master, source_args=source_args, partitions=args.partitions
    )
    print(
        f"{done.run_id}: {done.written} written, {done.skipped} already done, {len(done.failed)} failed of "
        f"{done.cases} in {done.seconds:.1f} s ({done.master}) -> {done.out}"
    )
    for case_id, error in done.failed.items():
        print(f"  {case_id}: {error}", file=sys.stderr)
    return 1 if done.failed else 0
