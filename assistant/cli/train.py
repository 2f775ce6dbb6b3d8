"""``underwrite train``: a new model version, on this machine (model choice by rolling-origin folds) or on
Spark (``--engine spark``)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from assistant.cli.args import iso_date, positive
from assistant.jobs.modeling import train_model
from assistant.settings import Settings
from models.training.config import MODEL_CHOICES

COMMANDS = ("train",)


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


def run(args: argparse.Namespace, settings: Settings, progress: bool) -> int:
    return _train_on_spark(args, settings) if args.engine == "spark" else _train(args, settings, progress)


def _what_to_train(args: argparse.Namespace) -> dict[str, Any]:
    """The flags both engines take: data, spec, policy, split, model and refit."""
    names = ("spec", "data", "out", "policy", "test_from", "model", "refit", "refit_until")
    return {name: getattr(args, name) for name in names}


def _train_on_spark(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.spark.train import train_with_spark

    version_dir, spark_training = train_with_spark(
        settings, **_what_to_train(args), master=args.master, num_workers=args.workers
    )
    t = spark_training["test"]
    print(
        f"trained {version_dir} on Spark ({spark_training['workers']} workers, {spark_training['trees']} trees, "
        f"{spark_training['seconds']:.1f}s; {spark_training['rejected']} rows rejected): test AUC {t['auc']:.3f}, "
        f"Brier {t['brier']:.4f}, ECE {t['ece']:.4f}; model card {version_dir / 'model_card.md'}"
    )
    return 0


def _train(args: argparse.Namespace, settings: Settings, progress: bool) -> int:
    outcome = train_model(settings, **_what_to_train(args), progress=progress, text=args.text)
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
