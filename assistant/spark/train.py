"""Distributed training with ``xgboost.spark`` for data that does not fit one machine.

The steps follow the single-machine trainer (``models/training.py``) with Spark doing the
heavy parts:

1. Every partition is parsed by the file rule (``parse_features``). Rows with bad cells or
   unknown labels are counted and left out.
2. The split is out of time, with the cut dates computed by Spark.
3. The category codes are fitted on the training rows' counts.
4. ``SparkXGBClassifier`` trains on ``num_workers`` tasks with the same parameters, with
   early stopping on the validation rows.
5. The margins are computed on the executors.

The Platt calibration, the metrics, the plots and the artifact (files, manifest, hashes)
are then the single-machine code's own (:func:`models.training.finish_training`,
:func:`training_files`), so a model trained here loads, scores and explains exactly like
one trained by ``underwrite train``.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from assistant.audit import AuditStore
from assistant.jobs.runs import input_sha256
from assistant.settings import Settings
from assistant.spark.session import read_records, spark_session
from assistant.workspace import Workspace
from models.artifacts import write_model_version
from models.dataset import Dataset, parse_features
from models.errors import UnderwriterError
from models.features import MAX_CATEGORIES, OTHER, FeatureEncoder
from models.policy import load_policy
from models.spec import DatasetSpec, canonical_value, load_spec
from models.training import Split, booster_params, finish_training, training_files, training_manifest


def _parse_partition(spec_json: str) -> Any:
    def run(frames: Any) -> Any:
        spec = DatasetSpec.model_validate(json.loads(spec_json))
        for raw in frames:
            raw = raw.reset_index(drop=True)
            typed, bad = parse_features(raw, spec)
            canon = raw[spec.label.column].map(lambda v: "" if pd.isna(v) else canonical_value(v))
            label = np.where(
                canon.isin(spec.label.positive_values),
                1,
                np.where(canon.isin(spec.label.negative_values), 0, -1),
            )
            ok = (label >= 0) & ~np.any([b.to_numpy() for b in bad.values()], axis=0) if bad else label >= 0
            unlabelled = (canon == "").to_numpy() & (spec.label.unlabelled == "skip")
            day = (
                pd.to_datetime(raw[spec.date.column], format=spec.date.format, errors="coerce")
                if spec.date
                else None
            )
            if day is not None:
                ok &= day.notna().to_numpy()
            out = typed.copy()
            out["label"] = label.astype("int32")
            out["day"] = day.dt.strftime("%Y-%m-%d") if day is not None else ""
            out["ok"] = ok
            out["unlabelled"] = unlabelled & ~ok
            yield out

    return run


def _schema(spec: DatasetSpec) -> str:
    cols = [f"{c} double" for c in spec.numeric] + [f"{c} string" for c in spec.categorical]
    return ", ".join([*cols, "label int", "day string", "ok boolean", "unlabelled boolean"])


def _encode_partition(encoder_json: str) -> Any:
    def run(frames: Any) -> Any:
        encoder = FeatureEncoder.from_dict(json.loads(encoder_json))
        for part in frames:
            x, _ = encoder.transform(part)
            out = pd.DataFrame(x.astype("float64"), columns=encoder.feature_names)
            out["label"] = part["label"].to_numpy()
            out["role"] = part["role"].to_numpy()
            out["row"] = part["row"].to_numpy()
            yield out

    return run


def _margin_partition(booster_bytes: bytes, feature_names: list[str], feature_types: list[str]) -> Any:
    def run(frames: Any) -> Any:
        import xgboost as xgb

        booster = xgb.Booster()
        booster.load_model(bytearray(booster_bytes))
        booster.set_param({"nthread": 1})
        for part in frames:
            matrix = xgb.DMatrix(
                part[feature_names].to_numpy(dtype=np.float32),
                feature_names=feature_names,
                feature_types=feature_types,
                enable_categorical=True,
            )
            yield pd.DataFrame(
                {"row": part["row"], "role": part["role"], "label": part["label"],
                 "margin": booster.predict(matrix, output_margin=True).astype("float64")}
            )  # fmt: skip

    return run


def train_with_spark(
    settings: Settings,
    *,
    spec: str | Path,
    data: str | Path,
    out: str | Path,
    policy: str | Path | None = None,
    test_from: date | None = None,
    master: str | None = None,
    num_workers: int | None = None,
    spark: Any | None = None,
) -> tuple[Path, dict[str, Any]]:
    """Train on Spark; write a model version in the trainer's format. Returns (version folder, report)."""
    from pyspark.sql import functions as F  # noqa: N812 - Spark's own convention
    from xgboost.spark import SparkXGBClassifier

    started = time.perf_counter()
    data = Path(data)
    dataset_spec = load_spec(spec)
    if dataset_spec.date is None:
        raise UnderwriterError(
            f"spec {dataset_spec.name!r} has no date column; Spark training splits out of time"
        )
    chosen_policy = load_policy(policy or dataset_spec.policy)
    chosen_policy.check_columns(dataset_spec)
    config = settings.training.to_config(1)
    own_session = spark is None
    session = spark or spark_session(master or settings.spark.master, conf=dict(settings.spark.conf))
    workers = num_workers or session.sparkContext.defaultParallelism
    try:
        columns = [*dataset_spec.features, dataset_spec.label.column, dataset_spec.date.column]
        raw = read_records(session, data, list(dict.fromkeys(columns)))
        parsed = raw.mapInPandas(
            _parse_partition(dataset_spec.model_dump_json()), schema=_schema(dataset_spec)
        )
        parsed = parsed.withColumn("row", F.monotonically_increasing_id()).persist()
        total = parsed.count()
        skipped = parsed.filter(F.col("unlabelled")).count()
        rejected = parsed.filter(~F.col("ok") & ~F.col("unlabelled")).count()
        usable = parsed.filter(F.col("ok"))
        epoch = F.datediff(F.to_date("day"), F.lit("1970-01-01"))
        usable = usable.withColumn("epoch", epoch)
        cut = (
            (test_from - date(1970, 1, 1)).days
            if test_from
            else int(usable.approxQuantile("epoch", [1 - config.test_fraction], 0.0)[0])
        )
        valid_cut = int(
            usable.filter(F.col("epoch") < cut).approxQuantile("epoch", [1 - config.valid_fraction], 0.0)[0]
        )
        role = F.when(F.col("epoch") >= cut, 2).when(F.col("epoch") >= valid_cut, 1).otherwise(0)
        usable = usable.withColumn("role", role).persist()
        encoder = _fit_encoder(usable.filter(F.col("role") == 0), dataset_spec)
        encoded = usable.select(*dataset_spec.features, "label", "role", "row").mapInPandas(
            _encode_partition(json.dumps(encoder.to_dict())),
            schema=", ".join(
                [*(f"{n} double" for n in encoder.feature_names), "label int", "role int", "row long"]
            ),
        )
        fit_rows = encoded.filter(F.col("role") < 2).withColumn("is_valid", F.col("role") == 1)
        counts = {
            r["label"]: r["count"]
            for r in fit_rows.filter(~F.col("is_valid")).groupBy("label").count().collect()
        }
        params = booster_params(
            dataset_spec, encoder, config, negatives=counts.get(0, 0), positives=counts.get(1, 0)
        )
        classifier = SparkXGBClassifier(
            features_col=encoder.feature_names,
            label_col="label",
            validation_indicator_col="is_valid",
            num_workers=workers,
            n_estimators=config.max_rounds,
            early_stopping_rounds=config.early_stopping_rounds,
            feature_types=encoder.feature_types,
            **{
                k: v for k, v in params.items() if k not in {"nthread", "objective"}
            },  # binary:logistic is its own
        )
        fitted = classifier.fit(fit_rows)
        booster = fitted.get_booster()
        best = (
            booster.best_iteration if booster.best_iteration is not None else booster.num_boosted_rounds() - 1
        )
        booster = booster[: best + 1]
        margins = (
            encoded.mapInPandas(
                _margin_partition(
                    bytes(booster.save_raw("ubj")), encoder.feature_names, encoder.feature_types
                ),
                schema="row long, role int, label int, margin double",
            )
            .toPandas()
            .sort_values("row")
        )
        test_rows = (
            usable.filter(F.col("role") == 2)
            .select("row", *dataset_spec.features)
            .toPandas()
            .sort_values("row")
        )
    finally:
        if own_session:
            session.stop()
    parts = {
        name: margins[margins["role"] == code] for name, code in (("train", 0), ("valid", 1), ("test", 2))
    }
    split = Split(
        np.arange(len(parts["train"])),
        np.arange(len(parts["valid"])),
        np.arange(len(parts["test"])),
        f"out of time on {dataset_spec.date.column}: train before {_day(valid_cut)}, validation {_day(valid_cut)} "
        f"to {_day(cut)}, test from {_day(cut)} (Spark, {workers} workers)",
    )
    result = finish_training(
        booster,
        encoder,
        chosen_policy,
        split,
        margins={k: v["margin"].to_numpy() for k, v in parts.items()},
        labels={k: v["label"].to_numpy() for k, v in parts.items()},
        test_frame=test_rows.drop(columns="row").reset_index(drop=True),
        params={**params, "engine": f"xgboost.spark, {workers} workers", "config": asdict(config)},
        skipped=skipped,
    )
    digest = input_sha256(data)
    dataset = Dataset(
        spec=dataset_spec, source=str(data), sha256=digest,
        frame=pd.DataFrame(index=range(total - rejected - skipped)), ids=pd.Series(dtype=str), labels=None, dates=None,
    )  # fmt: skip  # stands for the distributed input: spec, source, hash and labelled row count
    version_dir = write_model_version(
        out, training_files(result, dataset), training_manifest(result, dataset)
    )
    report = {"rows": total, "rejected": rejected, "skipped_unlabelled": skipped, "trees": result.metrics["trees"], "test": result.metrics["test"],
              "seconds": time.perf_counter() - started, "workers": workers}  # fmt: skip
    with AuditStore.open(Workspace(settings).audit_target) as audit:
        audit.append(
            "runs", run_id=f"spark-train-{version_dir.name}-{int(time.time())}", kind="train",
            engine=f"spark {master or settings.spark.master}", model_id=json.loads(
                (version_dir / "manifest.json").read_text()).get("model_id", ""),
            input_sha256=digest, rows_in=total, rows_out=total - rejected - skipped, rows_rejected=rejected,
            output=str(version_dir), params=json.dumps({"spec": dataset_spec.name, "workers": workers}),
        )  # fmt: skip
    return version_dir, report


def _day(epoch_days: int) -> str:
    return str(np.datetime64(int(epoch_days), "D"))


def _fit_encoder(train_rows: Any, spec: DatasetSpec) -> FeatureEncoder:
    """``FeatureEncoder.fit``'s rule over Spark counts: most frequent first, ties by value."""
    categories = {}
    for column in spec.categorical:
        counts = [
            (r[column], r["count"])
            for r in train_rows.groupBy(column).count().collect()
            if r[column] is not None
        ]
        ordered = sorted(counts, key=lambda kv: (-kv[1], str(kv[0])))
        categories[column] = [str(v) for v, _ in ordered[:MAX_CATEGORIES]] + [OTHER]
    return FeatureEncoder(numeric=list(spec.numeric), categories=categories)
