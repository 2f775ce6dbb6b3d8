"""``underwrite train``, ``score``, ``evaluate-model`` and ``specs``: the risk model's commands."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from assistant.cli.args import iso_date, positive
from assistant.jobs.modeling import evaluate_model, score_file, train_model
from assistant.settings import Settings
from models.data.spec import load_spec, shipped_spec_names
from models.training.fit import MODEL_CHOICES

COMMANDS = ("train", "score", "evaluate-model", "specs")


def add_parsers(commands: Any) -> None:
    tr = commands.add_parser("train", help="train a new model version")
    tr.add_argument(
        "--spec", required=True, help="dataset spec file, or a shipped spec name (see `underwrite specs`)"
    )
    tr.add_argument("--data", required=True, type=Path, help="CSV or Parquet file")
    tr.add_argument("--out", required=True, type=Path, help="model directory; each run adds a version")
    tr.add_argument("--policy", help="policy file or shipped policy name (default: the spec's)")
    tr.add_argument(
        "--test-from", type=iso_date, help="out-of-time test set: rows dated on or after this day"
    )
    tr.add_argument(
        "--model",
        choices=list(MODEL_CHOICES),
        default="auto",
        help="auto (default): choose among xgboost, scorecard and their blend by rolling-origin folds over "
        "the training period; a name forces that candidate; previous: the recipe before model choice",
    )
    tr.add_argument(
        "--no-refit",
        dest="refit",
        action="store_false",
        help="ship the model measured on the test rows instead of the recipe refit on every labelled row",
    )
    tr.add_argument(
        "--refit-until",
        type=iso_date,
        help="refit on labelled rows dated on or before this day (default: all)",
    )
    tr.add_argument(
        "--text",
        choices=["auto", "on", "off"],
        default="auto",
        help="the spec's text columns as a stacked score, kept only when the folds show a gain: auto (default) "
        "tries them on files of up to 5,000 rows, on always, off never",
    )
    tr.add_argument("--engine", choices=["local", "spark"], default="local", help="spark: xgboost.spark")
    tr.add_argument("--master", help="with --engine spark: the Spark master (default [spark] master)")
    tr.add_argument(
        "--workers", type=positive, help="with --engine spark: XGBoost workers (default: parallelism)"
    )
    sc = commands.add_parser("score", help="score a file: PD, grade, band, policy flags, reason codes")
    sc.add_argument(
        "--model", required=True, type=Path, help="model directory (current version) or a version folder"
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


def run(args: argparse.Namespace, settings: Settings, progress: bool) -> int:
    if args.command == "train":
        return _train(args, settings, progress)
    if args.command == "score":
        scored = score_file(
            settings, model=args.model, data=args.data, out=args.out, force=args.force, reasons=args.reasons,
            progress=progress,
        )  # fmt: skip
        bands = scored.batch.frame["band"].value_counts().to_dict()
        print(
            f"scored {len(scored.batch.frame):,} rows with {scored.model.label} in {scored.seconds:.1f}s "
            f"-> {args.out}; bands {bands}"
        )
        for column, count in scored.batch.unseen_categories.items():
            print(
                f"note: {count} value(s) of {column!r} are not among the model's categories (unseen or rare in "
                "training) and were scored as 'other'"
            )
    elif args.command == "evaluate-model":
        print(json.dumps(evaluate_model(settings, model=args.model, data=args.data), indent=2))
    else:
        for name in shipped_spec_names():
            spec = load_spec(name)
            print(
                f"{name:<20} {len(spec.features):>3} features  {spec.description.strip().splitlines()[0][:60]}"
            )
    return 0


def _train(args: argparse.Namespace, settings: Settings, progress: bool) -> int:
    if args.engine == "spark":
        from assistant.spark.train import train_with_spark

        version_dir, spark_training = train_with_spark(
            settings, spec=args.spec, data=args.data, out=args.out, policy=args.policy, test_from=args.test_from,
            master=args.master, num_workers=args.workers, model=args.model, refit=args.refit,
            refit_until=args.refit_until,
        )  # fmt: skip
        t = spark_training["test"]
        print(
            f"trained {version_dir} on Spark ({spark_training['workers']} workers, {spark_training['trees']} trees, "
            f"{spark_training['seconds']:.1f}s; {spark_training['rejected']} rows rejected): test AUC {t['auc']:.3f}, "
            f"Brier {t['brier']:.4f}, ECE {t['ece']:.4f}; model card {version_dir / 'model_card.md'}"
        )
        return 0
    outcome = train_model(
        settings, spec=args.spec, data=args.data, out=args.out, policy=args.policy, test_from=args.test_from,
        progress=progress, model=args.model, refit=args.refit, refit_until=args.refit_until, text=args.text,
    )  # fmt: skip
    m = outcome.result.metrics
    t = m["test"]
    shipped = m.get("shipped")
    what = f"{outcome.result.predictor.kind}" + (f", {m['trees']} trees" if m["trees"] else "")
    print(
        f"trained {outcome.version_dir} ({what}, {outcome.seconds:.1f}s): "
        f"test AUC {t['auc']:.3f}, Brier {t['brier']:.4f} (raw {t['brier_uncalibrated']:.4f}), "
        f"ECE {t['ece']:.4f}; model card {outcome.version_dir / 'model_card.md'}"
    )
    if "benchmark" in t:
        b = t["benchmark"]
        verdict = "beats" if t["auc"] > b["auc"] else "does NOT beat"
        print(f"the model {verdict} {b['column']} alone on the test rows (AUC {b['auc']:.3f})")
    if "text_feature" in m:
        print(f"text ({', '.join(m['text_feature']['columns'])}): {m['text_feature']['verdict']}")
    if shipped and shipped["refit"]:
        through = f" through {shipped['through']}" if shipped["through"] else ""
        print(
            f"shipped: the recipe refit on {shipped['rows']:,} labelled rows{through}; the test figures above "
            "are the recipe's, measured before the refit (--no-refit ships the measured model)"
        )
    return 0
