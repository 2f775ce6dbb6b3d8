"""``underwrite``: the command line, a thin shell over ``assistant.workflows``.

Every error a user can cause prints one clear message and exits with status 2;
no traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date
from pathlib import Path

from models.errors import UnderwriterError


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date (YYYY-MM-DD): {text!r}") from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="underwrite", description="LLM-assisted merchant credit underwriting."
    )
    parser.add_argument(
        "--config", type=Path, help="settings TOML file (default: ./underwriter.toml if present)"
    )
    parser.add_argument("--workspace", type=Path, help="folder for all artifacts (default: ./workspace)")
    parser.add_argument("--threads", type=int, help="threads for XGBoost; results do not depend on it")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo",
        help="main job: build the demo portfolio, train, score, index the evidence, print a summary",
    )
    demo.add_argument("--retrain", action="store_true", help="train a new model version even if one exists")
    demo.add_argument(
        "--no-evidence",
        action="store_true",
        help="skip the document index and similar cases (built on first use, ~2 min for 5,000 merchants)",
    )
    demo.add_argument(
        "--no-memos", action="store_true", help="skip the credit memos for the riskiest applicants"
    )

    gen = commands.add_parser("demo-data", help="generate a synthetic merchant portfolio with documents")
    gen.add_argument("--merchants", type=int, help="number of merchants (default from settings: 5000)")
    gen.add_argument("--seed", type=int, help="random seed (default from settings: 7)")
    gen.add_argument("--out", type=Path, help="output folder (default: WORKSPACE/demo/portfolio)")
    gen.add_argument("--force", action="store_true", help="replace an existing portfolio in --out")

    tr = commands.add_parser("train", help="train a new model version")
    tr.add_argument(
        "--spec",
        required=True,
        help="dataset spec file, or a shipped spec name (see `underwrite specs`)",
    )
    tr.add_argument("--data", required=True, type=Path, help="CSV or Parquet file")
    tr.add_argument("--out", required=True, type=Path, help="model directory; each run adds a version")
    tr.add_argument("--policy", help="policy file or shipped policy name (default: the spec's)")
    tr.add_argument("--test-from", type=_date, help="out-of-time test set: rows dated on or after this day")
    tr.add_argument("--engine", choices=["local", "spark"], default="local", help="spark: xgboost.spark")
    tr.add_argument("--master", help="with --engine spark: the Spark master (default [spark] master)")
    tr.add_argument(
        "--workers", type=_positive, help="with --engine spark: XGBoost workers (default: parallelism)"
    )

    sc = commands.add_parser("score", help="score a file: PD, grade, band, policy flags, reason codes")
    sc.add_argument(
        "--model",
        required=True,
        type=Path,
        help="model directory (current version) or a version folder",
    )
    sc.add_argument("--data", required=True, type=Path)
    sc.add_argument("--out", required=True, type=Path, help="output CSV, or Parquet if it ends in .parquet")
    sc.add_argument("--force", action="store_true", help="replace an existing --out file")
    sc.add_argument(
        "--reasons",
        choices=["all", "adverse", "none"],
        default="all",
        help="which rows get reason codes: all (default), adverse (refer/decline only), none",
    )

    ev = commands.add_parser("evaluate-model", help="print a model's metrics on a labelled file as JSON")
    ev.add_argument("--model", required=True, type=Path)
    ev.add_argument("--data", required=True, type=Path)

    commands.add_parser("specs", help="list the shipped dataset specs")

    ix = commands.add_parser("index", help="build the document index and the similar-case library")
    ix_commands = ix.add_subparsers(dest="index_command", required=True, metavar="ACTION")
    build = ix_commands.add_parser(
        "build",
        help="demo workspace: documents + merchant case library; with --spec/--data: that dataset's library",
    )
    build.add_argument(
        "--spec", help="dataset spec for a case library from a labelled file (e.g. lending_club)"
    )
    build.add_argument("--data", type=Path, help="the file of past cases for --spec")
    build.add_argument("--model", type=Path, help="model directory whose PDs the library records (optional)")
    build.add_argument(
        "--outcome-window-days",
        type=int,
        default=0,
        help="days after a decision before its outcome counts as known (default 0 for --spec)",
    )
    build.add_argument("--json", action="store_true", help="print the report as JSON")

    se = commands.add_parser("search", help="hybrid (meaning + keyword) search of a merchant's documents")
    se.add_argument("question")
    se.add_argument("--merchant", help="merchant id (default: search every merchant's documents)")
    se.add_argument("--k", type=_positive, default=8, help="passages to return (default 8)")
    se.add_argument("--doc-type", action="append", help="only these document types (repeatable)")
    se.add_argument("--as-of", type=_date, help="only documents received before this day")
    se.add_argument("--json", action="store_true", help="print passages as JSON")

    si = commands.add_parser(
        "similar", help="the most similar past cases, decided before the case under review"
    )
    si.add_argument("id", help="merchant id (demo portfolio) or case id (a --library built from a spec)")
    si.add_argument("--k", type=_positive, default=10, help="cases to return (default 10)")
    si.add_argument("--as-of", type=_date, help="point in time (default: the case's own decision date)")
    si.add_argument("--library", default="merchants", help="case library name (default: merchants)")
    si.add_argument("--json", action="store_true", help="print cases as JSON")

    me = commands.add_parser(
        "memo", help="credit memo for one case (printed), or for many (--all) into --out, resumable"
    )
    me.add_argument("id", nargs="*", help="merchant or case id(s)")
    me.add_argument("--all", action="store_true", help="every case (see --status and --limit)")
    me.add_argument("--status", help="with --all: only cases with this status (demo: applicant, historical)")
    me.add_argument("--limit", type=_positive, help="with --all: the first N cases only")
    me.add_argument("--out", type=Path, help="folder for memo files (.md, .json, .html) and the run ledger")
    me.add_argument("--workers", type=_positive, default=1, help="parallel memo processes (default 1)")
    me.add_argument("--format", choices=["md", "json", "html"], default="md", help="printed format (one id)")
    _case_source_args(me)

    ch = commands.add_parser("chat", help="talk about one case: score, what-if, similar cases, documents")
    ch.add_argument("id", help="merchant or case id")
    ch.add_argument("--ask", action="append", help="ask this and exit (repeatable); default: interactive")
    _case_source_args(ch)

    au = commands.add_parser("audit", help="verify the audit trail, replay a memo, record a decision")
    au_commands = au.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    au_commands.add_parser("verify", help="recompute every hash chain; exit 1 if any row was edited")
    rp = au_commands.add_parser("replay", help="rebuild a memo from its stored inputs and LLM calls")
    rp.add_argument("memo_id")
    rp.add_argument("--show", action="store_true", help="print the rebuilt Markdown")
    de = au_commands.add_parser("decide", help="record an underwriter's decision on a memo")
    de.add_argument("memo_id")
    de.add_argument("--decision", required=True, choices=["approve", "refer", "decline"])
    de.add_argument("--underwriter", required=True)
    de.add_argument("--note", default="")
    de.add_argument("--conditions", default="", help="conditions, separated by semicolons")
    de.add_argument(
        "--override-reason", default="", help="required when the decision differs from the model's band"
    )
    _eval_parser(commands)

    ba = commands.add_parser("batch", help="portfolio jobs on one machine or on Apache Spark")
    ba_commands = ba.add_subparsers(dest="batch_command", required=True, metavar="JOB")
    bs = ba_commands.add_parser("score", help="score a portfolio file into Parquet (scores/ and rejected/)")
    bs.add_argument("--data", type=Path, required=True, help="CSV or Parquet file (or a Parquet folder)")
    bs.add_argument("--model", type=Path, help="model directory (default: the demo model)")
    bs.add_argument("--out", type=Path, required=True, help="output folder")
    bs.add_argument("--engine", choices=["spark", "local"], default="spark")
    bs.add_argument("--master", help="Spark master (default [spark] master: local[*])")
    bs.add_argument("--partition-by", help="comma-separated output partitions: band, grade (default [spark])")
    bs.add_argument("--partitions", type=_positive, help="Spark: repartition the input into N tasks")
    bn = ba_commands.add_parser(
        "similar", help="similar past cases for every record, the case library on each executor"
    )
    bn.add_argument("--data", type=Path, required=True, help="CSV or Parquet file of merchants")
    bn.add_argument("--out", type=Path, required=True, help="output folder (similar/ in Parquet)")
    bn.add_argument("--k", type=_positive, default=10)
    bn.add_argument("--library", default="merchants")
    bn.add_argument("--master", help="Spark master (default [spark] master: local[*])")
    bn.add_argument("--partitions", type=_positive, help="repartition the input into N tasks")
    bm = ba_commands.add_parser("memo", help="credit memos as a Spark job (resumable, once per case)")
    bm.add_argument("id", nargs="*", help="case ids (default: every case, see --status and --limit)")
    bm.add_argument("--out", type=Path, required=True, help="memo folder; the same folder resumes its run")
    bm.add_argument("--status", help="only cases with this status (demo: applicant, historical)")
    bm.add_argument("--limit", type=_positive, help="the first N cases only")
    bm.add_argument("--master", help="Spark master (default [spark] master: local[*])")
    bm.add_argument("--partitions", type=_positive, help="tasks (default: the cluster's parallelism)")
    _case_source_args(bm)

    ui = commands.add_parser(
        "ui", help="serve the Gradio workbench on 127.0.0.1 (builds the demo workspace first)"
    )
    ui.add_argument("--host", help="listen address (default 127.0.0.1)")
    ui.add_argument("--port", type=int, help="port (default 7860; 0 = a free one)")
    ui.add_argument("--no-prepare", action="store_true", help="fail instead of building a missing workspace")
    us = commands.add_parser("ui-user", help="manage workbench logins (a file of salted password hashes)")
    us.add_argument("action", choices=["add"])
    us.add_argument("name")
    us.add_argument(
        "--file", type=Path, help="users file (default: [ui] auth_file, else WORKSPACE/ui/users.txt)"
    )
    us.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    return parser


def _eval_parser(commands: argparse._SubParsersAction) -> None:
    ev = commands.add_parser(
        "eval", help="evaluate prompts and models: case sets, runs, comparison, gate, reports"
    )
    ev_commands = ev.add_subparsers(dest="eval_command", required=True, metavar="ACTION")
    cs = ev_commands.add_parser(
        "cases", help="build a versioned case set (JSONL) with what is known to be true"
    )
    cs.add_argument("--set", required=True, choices=["demo", "adversarial", "lending_club", "sec"])
    cs.add_argument("--count", type=_positive, default=20)
    cs.add_argument("--out", type=Path, help="folder (default: WORKSPACE/eval/cases)")
    cs.add_argument(
        "--data", type=Path, help="lending_club: the CSV (default: data/lc_small_business_2007_2010.csv)"
    )
    cs.add_argument(
        "--model",
        type=Path,
        help="lending_club: the model directory (default: WORKSPACE/models/lending_club)",
    )
    rn = ev_commands.add_parser(
        "run", help="memos for every prompt variant x model x case, scored; cached calls"
    )
    rn.add_argument("--task", choices=["memo", "summary"], help="checked against the case set's task")
    rn.add_argument("--cases", required=True, type=Path, help="a case set from `eval cases`")
    rn.add_argument(
        "--prompts",
        help="variants, e.g. document_summary@1,document_summary@2 (a+b pins two); default: current",
    )
    rn.add_argument(
        "--models",
        default="llamacpp",
        help="comma-separated: llamacpp[:PATH], openai:MODEL@URL, transformers:DIR",
    )
    rn.add_argument("--repeats", type=_positive, default=1, help="samples per cell (seed + repeat)")
    rn.add_argument("--out", type=Path, help="run folder (default: WORKSPACE/eval/runs/RUN_ID)")
    rn.add_argument("--judge", help="also grade each memo with this model (same syntax as --models)")
    rn.add_argument("--judge-repeats", type=_positive, default=1, help="judge samples per memo (variance)")
    jc = ev_commands.add_parser(
        "judge-check", help="agreement of a judge model with the human-labelled narratives"
    )
    jc.add_argument("--judge", default="llamacpp")
    jc.add_argument("--repeats", type=_positive, default=1)
    cp = ev_commands.add_parser(
        "compare", help="per-metric means with bootstrap intervals, paired test, case changes"
    )
    cp.add_argument("a", help="RUN or RUN:VARIANT")
    cp.add_argument("b", help="RUN or RUN:VARIANT")
    gt = ev_commands.add_parser(
        "gate", help="exit 1 when a gated metric got worse than the baseline beyond --max-drop"
    )
    gt.add_argument("run", help="RUN or RUN:VARIANT")
    gt.add_argument("--baseline", required=True, help="RUN or RUN:VARIANT")
    gt.add_argument("--max-drop", type=float, default=0.02)
    rp = ev_commands.add_parser("report", help="write report.md and report.html into the run folder")
    rp.add_argument("run", type=Path)


def _eval(settings, args: argparse.Namespace, progress: bool) -> int:
    if args.eval_command == "cases":
        from assistant.eval import cases

        folder = args.out or settings.workspace / "eval" / "cases"
        if args.set == "sec":
            archive = args.data or Path("../shared/data/sec_10k/filings_dev.zip")
            built = cases.sec_cases(args.count, archive)
        elif args.set == "lending_club":
            data = args.data or Path("data/lc_small_business_2007_2010.csv")
            model = args.model or settings.workspace / "models" / "lending_club"
            built = cases.lending_club_cases(settings, args.count, data, model)
        else:
            built = cases.demo_cases(settings, args.count, adversarial=args.set == "adversarial")
        path = cases.write_case_set(built, folder, args.set)
        print(f"{len(built)} cases -> {path}")
        return 0
    if args.eval_command == "run":
        from assistant.eval.cases import read_case_set
        from assistant.eval.report import write_reports
        from assistant.eval.runner import load_run, parse_model, parse_variants, run_eval

        task = read_case_set(args.cases)[1][0].task if args.task else None
        if args.task and task != args.task:
            raise UnderwriterError(f"{args.cases} holds {task} cases, not {args.task} cases")
        folder = run_eval(
            settings,
            args.cases,
            variants=parse_variants(args.prompts),
            models=[m.strip() for m in args.models.split(",") if m.strip()],
            repeats=args.repeats,
            out=args.out,
            progress=progress,
            judge=parse_model(args.judge, settings) if args.judge else None,
            judge_repeats=args.judge_repeats,
        )
        md, _ = write_reports(folder)
        timing = load_run(folder)["timing"]
        print(md.read_text())
        print(
            f"run {folder} ({timing['seconds']:.1f} s; cache {timing['cache_hits']} hits, {timing['cache_misses']} misses)"
        )
        return 0
    if args.eval_command == "judge-check":
        from assistant.eval.judge import agreement
        from assistant.eval.runner import EvalCache, parse_model

        cache = EvalCache(settings.workspace / "eval" / "cache.sqlite")
        result = agreement(parse_model(args.judge, settings), repeats=args.repeats, cache=cache)
        cache.close()
        print(json.dumps(result, indent=2))
        return 0
    if args.eval_command == "compare":
        from assistant.eval.compare import compare, comparison_text

        print(comparison_text(compare(args.a, args.b)))
        return 0
    if args.eval_command == "gate":
        from assistant.eval.compare import gate

        ok, failures = gate(args.run, args.baseline, args.max_drop)
        for failure in failures:
            print(f"REGRESSION {failure}")
        print("gate passed" if ok else f"gate FAILED ({len(failures)} metric(s))")
        return 0 if ok else 1
    from assistant.eval.report import write_reports

    md, page = write_reports(args.run)
    print(f"wrote {md} and {page}")
    return 0


def _case_source_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--spec", help="a dataset spec for cases outside the demo portfolio (e.g. lending_club)"
    )
    parser.add_argument("--data", type=Path, help="with --spec: the CSV or Parquet file of cases")
    parser.add_argument("--model", type=Path, help="with --spec: the model directory that scores them")
    parser.add_argument("--library", help="with --spec: the similar-case library name (index build --spec)")


def run(args: argparse.Namespace) -> int:
    from assistant import workflows
    from assistant.settings import load_settings

    settings = load_settings(args.config, workspace=args.workspace, threads=args.threads)
    progress = not args.quiet and sys.stderr.isatty()
    if args.command == "batch" and args.batch_command == "similar":
        from assistant.spark_jobs import similar_with_spark

        queries, rows, seconds = similar_with_spark(
            settings, data=args.data, out=args.out, k=args.k, library=args.library, master=args.master,
            partitions=args.partitions,
        )  # fmt: skip
        print(f"{queries:,} merchants, {rows:,} similar cases in {seconds:.1f} s -> {args.out / 'similar'}")
        return 0
    if args.command == "batch" and args.batch_command == "memo":
        from assistant.casefile import CaseSource
        from assistant.spark_jobs import memos_with_spark

        source_args = _source_args(args)
        ids = args.id or CaseSource(settings, **source_args).ids(args.status)[: args.limit]
        memo_run = memos_with_spark(
            settings, ids, args.out, master=args.master, source_args=source_args, partitions=args.partitions
        )
        print(
            f"{memo_run.run_id}: {memo_run.written} written, {memo_run.skipped} already done, "
            f"{len(memo_run.failed)} failed of {memo_run.cases} in {memo_run.seconds:.1f} s ({memo_run.master}) "
            f"-> {memo_run.out}"
        )
        for case_id, error in memo_run.failed.items():
            print(f"  {case_id}: {error}", file=sys.stderr)
        return 1 if memo_run.failed else 0
    if args.command == "batch":
        from assistant.spark_jobs import score_locally, score_with_spark

        partition_by = args.partition_by.split(",") if args.partition_by else None
        model = args.model or settings.model_dir
        if args.engine == "local":
            run = score_locally(
                settings, model=model, data=args.data, out=args.out, partition_by=partition_by
            )
        else:
            run = score_with_spark(
                settings, model=model, data=args.data, out=args.out, master=args.master,
                partition_by=partition_by, partitions=args.partitions,
            )  # fmt: skip
        print(
            f"{run.run_id}: {run.rows_scored:,} scored, {run.rows_rejected:,} rejected of {run.rows_in:,} rows "
            f"in {run.seconds:.1f} s ({run.master}) -> {run.out / 'scores'}"
            + (f"; rejected rows and reasons in {run.out / 'rejected'}" if run.rows_rejected else "")
        )
        return 0
    if args.command == "ui":
        from assistant.ui.launch import main as serve_ui

        forwarded = [f"--{k}={v}" for k, v in (("host", args.host), ("port", args.port)) if v is not None]
        forwarded += ["--workspace", str(settings.workspace)] + (
            ["--config", str(args.config)] if args.config else []
        )
        return serve_ui(forwarded + (["--no-prepare"] if args.no_prepare else []))
    if args.command == "ui-user":
        import getpass

        from assistant.ui.auth import add_user

        users = args.file or settings.ui.auth_file or settings.workspace / "ui" / "users.txt"
        if args.password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = getpass.getpass(f"password for {args.name}: ")
            if getpass.getpass("again: ") != password:
                raise UnderwriterError("the passwords differ; nothing was changed")
        add_user(Path(users), args.name, password)
        print(
            f"{args.name} can sign in; start the workbench with UNDERWRITER_UI__AUTH_FILE={users} (or [ui] auth_file)"
        )
        return 0
    if args.command == "demo":
        from assistant.summary import demo_summary

        demo_report = workflows.run_demo(settings, retrain=args.retrain, progress=progress)
        print(demo_summary(demo_report))
        if not args.no_evidence:
            from assistant import indexing
            from assistant.evidence_views import demo_evidence_text

            built = None
            if not indexing.indexes_are_current(settings):
                print("\nbuilding the document index and the case library (first run only) ...", flush=True)
                built = indexing.build_indexes(settings, progress=progress)
            top = workflows.highest_risk(demo_report, count=3)["id"].astype(str).tolist()
            print(demo_evidence_text(indexing.evidence_for(settings, top), built))
            if not args.no_memos:
                from assistant.batch import run_batch

                out = settings.workspace / "memos"
                print(f"\nCredit memos for these applicants (embedded LLM, validated) -> {out}", flush=True)
                summary = run_batch(settings, top, out, progress=progress)
                for case_id in top:
                    print(f"  {out / (case_id + '.md')}")
                print(
                    f"  {summary.done} written, {summary.skipped} already there; audit trail "
                    f"{settings.audit_target} (`underwrite audit verify`)"
                )
    elif args.command == "demo-data":
        files = workflows.build_demo_portfolio(
            settings,
            merchants=args.merchants,
            seed=args.seed,
            out=args.out,
            force=args.force,
            progress=progress,
        )
        meta = json.loads(files.manifest.read_text())
        print(
            f"wrote {meta['merchants']:,} merchants and {meta['documents']:,} documents to {files.root} "
            f"in {meta['seconds']:.1f}s"
        )
    elif args.command == "train" and args.engine == "spark":
        from assistant.spark_training import train_with_spark

        version_dir, spark_training = train_with_spark(
            settings, spec=args.spec, data=args.data, out=args.out, policy=args.policy, test_from=args.test_from,
            master=args.master, num_workers=args.workers,
        )  # fmt: skip
        t = spark_training["test"]
        print(
            f"trained {version_dir} on Spark ({spark_training['workers']} workers, {spark_training['trees']} trees, "
            f"{spark_training['seconds']:.1f}s; {spark_training['rejected']} rows rejected): test AUC {t['auc']:.3f}, "
            f"Brier {t['brier']:.4f}, ECE {t['ece']:.4f}; model card {version_dir / 'model_card.md'}"
        )
    elif args.command == "train":
        outcome = workflows.train_model(
            settings,
            spec=args.spec,
            data=args.data,
            out=args.out,
            policy=args.policy,
            test_from=args.test_from,
            progress=progress,
        )
        t = outcome.result.metrics["test"]
        print(
            f"trained {outcome.version_dir} ({outcome.result.metrics['trees']} trees, {outcome.seconds:.1f}s): "
            f"test AUC {t['auc']:.3f}, Brier {t['brier']:.4f} (raw {t['brier_uncalibrated']:.4f}), "
            f"ECE {t['ece']:.4f}; model card {outcome.version_dir / 'model_card.md'}"
        )
    elif args.command == "score":
        scored = workflows.score_file(
            settings,
            model=args.model,
            data=args.data,
            out=args.out,
            force=args.force,
            reasons=args.reasons,
            progress=progress,
        )
        bands = scored.batch.frame["band"].value_counts().to_dict()
        print(
            f"scored {len(scored.batch.frame):,} rows with {scored.model.label} in {scored.seconds:.1f}s "
            f"-> {args.out}; bands {bands}"
        )
        for column, count in scored.batch.unseen_categories.items():
            print(
                f"note: {count} value(s) of {column!r} are not among the model's categories (unseen or rare in training) and were scored as 'other'"
            )
    elif args.command == "evaluate-model":
        print(json.dumps(workflows.evaluate_model(settings, model=args.model, data=args.data), indent=2))
    elif args.command == "index":
        from assistant import indexing
        from assistant.evidence_views import index_report_text

        report = indexing.build_indexes(
            settings,
            spec=args.spec,
            data=args.data,
            model=args.model,
            outcome_window_days=args.outcome_window_days,
            progress=progress,
        )
        print(json.dumps(_jsonable(report), indent=2) if args.json else index_report_text(report))
    elif args.command == "search":
        from assistant import indexing
        from assistant.evidence_views import passages_text

        passages = indexing.search_documents(
            settings,
            args.question,
            merchant_id=args.merchant,
            k=args.k,
            doc_types=args.doc_type,
            as_of=args.as_of.isoformat() if args.as_of else None,
        )
        if args.json:
            print(json.dumps([p.to_dict() for p in passages], indent=2))
        else:
            print(passages_text(args.question, passages))
    elif args.command == "similar":
        from assistant import indexing
        from assistant.evidence_views import similar_text

        found = indexing.similar_cases(
            settings,
            args.id,
            k=args.k,
            as_of=args.as_of.isoformat() if args.as_of else None,
            library=args.library,
        )
        print(json.dumps(_jsonable(found), indent=2) if args.json else similar_text(found))
    elif args.command == "memo":
        return _memo(settings, args, progress)
    elif args.command == "chat":
        return _chat(settings, args)
    elif args.command == "audit":
        return _audit(settings, args)
    elif args.command == "eval":
        return _eval(settings, args, progress)
    elif args.command == "specs":
        from models.spec import load_spec, shipped_spec_names

        for name in shipped_spec_names():
            spec = load_spec(name)
            print(
                f"{name:<20} {len(spec.features):>3} features  {spec.description.strip().splitlines()[0][:60]}"
            )
    return 0


def _source_args(args: argparse.Namespace) -> dict:
    if not args.spec:
        return {}
    return {
        "spec": args.spec,
        "data": str(args.data) if args.data else None,
        "model": str(args.model) if args.model else None,
        "library": args.library,
    }


def _memo(settings, args: argparse.Namespace, progress: bool) -> int:
    from assistant.casefile import CaseSource

    source_args = _source_args(args)
    if args.all or args.out:
        from assistant.batch import run_batch

        if not args.out:
            raise UnderwriterError("memo --all needs --out DIR")
        source = CaseSource(settings, **source_args)
        ids = args.id or source.ids(args.status)
        if args.all and args.limit:
            ids = ids[: args.limit]
        if not ids:
            raise UnderwriterError("no cases to write memos for (check --status)")
        del source
        summary = run_batch(
            settings, ids, args.out, workers=args.workers, source_args=source_args, progress=progress
        )
        print(
            f"{summary.run_id}: {summary.done} done, {summary.failed} failed, {summary.skipped} skipped "
            f"(already done), {summary.recovered} recovered after an interruption; "
            f"{summary.memos_per_minute:.1f} memos/min, {summary.tokens_per_second:.1f} tokens/s, "
            f"{summary.seconds:.1f}s -> {args.out}"
        )
        for case_id, error in summary.failures.items():
            print(f"failed {case_id}: {error}", file=sys.stderr)
        return 1 if summary.failed else 0
    if len(args.id) != 1:
        raise UnderwriterError("give one id to print a memo, or --all / several ids with --out DIR")
    from assistant.audit import AuditStore
    from assistant.memos import generate_memo, memo_config, open_llm

    source = CaseSource(settings, **source_args)
    with AuditStore.open(settings.audit_target) as audit:
        result = generate_memo(source, args.id[0], open_llm(settings), audit, memo_config(settings))
    print(result.rendered.text(args.format))
    print(
        f"memo {result.memo_id} recorded in {settings.audit_target} ({result.calls} LLM calls, "
        f"{result.cached_calls} cached, {result.tokens} tokens)",
        file=sys.stderr,
    )
    return 0


def _chat(settings, args: argparse.Namespace) -> int:
    from assistant.audit import AuditStore
    from assistant.casefile import CaseSource
    from assistant.chat import ChatSession
    from assistant.memos import open_llm

    source = CaseSource(settings, **_source_args(args))
    index = None
    if source.store is not None:
        from assistant.indexing import open_embedder
        from retrieval.passages import DocumentIndex

        index = DocumentIndex.load(settings.documents_index_dir, open_embedder(settings))
    with AuditStore.open(settings.audit_target) as audit:
        session = ChatSession(source, args.id, open_llm(settings), audit, document_index=index)
        print(session.score_text())
        questions = args.ask or _prompt_lines()
        for question in questions:
            if args.ask:
                print(f"\n> {question}")
            try:
                for piece in session.ask(question):
                    print(piece, end="", flush=True)
            except UnderwriterError as exc:
                print(f"error: {exc}", end="")
            print()
    return 0


def _prompt_lines():
    print("ask about the case; /score, /whatif FEATURE=VALUE, /similar, /search QUESTION; empty line to quit")
    while True:
        try:
            line = input("> ").strip()
        except EOFError:
            return
        if not line:
            return
        yield line


def _audit(settings, args: argparse.Namespace) -> int:
    from assistant.audit import AuditStore

    with AuditStore.open(settings.audit_target) as audit:
        if args.audit_command == "verify":
            report = audit.verify()
            print(f"audit trail {settings.audit_target}; migrations: {', '.join(report.migrations)}")
            for t in report.tables:
                state = "ok" if t.broken_at is None else f"BROKEN at row {t.broken_at}: {t.problem}"
                print(f"  {t.table:<10} {t.rows:>7} rows  {state}")
            return 0 if report.ok else 1
        if args.audit_command == "replay":
            from assistant.memos import replay_memo

            result = replay_memo(audit, args.memo_id)
            if args.show:
                print(result.rendered.markdown)
            if result.identical:
                print(
                    f"{args.memo_id}: rebuilt byte for byte from the stored calls (sha256 {result.rebuilt_sha256[:16]})"
                )
                return 0
            print(f"{args.memo_id}: rebuilt memo DIFFERS in {', '.join(result.differences)}")
            return 1
        from assistant.decisions import Decision, parse_conditions, record_decision
        from assistant.memos import stored_memo

        memo = stored_memo(audit, args.memo_id)
        score = json.loads(memo["inputs"])["case"]["score"]
        decision = Decision(
            merchant_id=memo["merchant_id"],
            decision=args.decision,
            underwriter=args.underwriter,
            memo_id=args.memo_id,
            model_band=score["band"],
            model_pd=score["pd"],
            conditions=parse_conditions(args.conditions),
            note=args.note,
            override_reason=args.override_reason,
        )
        record_decision(audit, decision)
        override = f" (overrides the model's {score['band']})" if decision.is_override else ""
        print(f"recorded {args.decision}{override} by {args.underwriter} on {args.memo_id}")
    return 0


def _jsonable(obj: object) -> object:
    """Dataclasses (reports) to plain JSON types."""
    import dataclasses

    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: _jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    return obj


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return run(args)
    except UnderwriterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and closed early
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
        return 0
    except KeyboardInterrupt:
        print("interrupted; nothing partial was left in place", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
