"""Distributed training with ``xgboost.spark`` for data that does not fit one machine.

The steps follow the single-machine trainer (``models/training/fit.py``) with Spark doing the
heavy parts:

1. Every partition is parsed by the file rule (``parse_features``). Rows with bad cells or
   unknown labels are counted and left out.
2. The split is out of time, with the cut dates computed by Spark.
3. The category codes are fitted on the training rows' counts.
4. ``SparkXGBClassifier`` trains on ``num_workers`` tasks with the same parameters, with
   early stopping on the validation rows.
5. The margins are computed on the executors.

The Platt calibration, the metrics, the plots and the artifact (files, manifest, hashes)
are then the single-machine code's own (:func:`models.training.fit.finish_training`,
:func:`training_files`), so a model trained here loads, scores and explains exactly like
one trained by ``underwrite train``.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from assistant.jobs.runs import input_sha256, record_run
from assistant.settings import Settings
from assistant.spark.session import read_records, spark_session
from assistant.workspace import Workspace
from models.data.dataset import Dataset, parse_features
from models.data.policy import Policy, load_policy
from models.data.population import QUANTILES, Population
from models.data.spec import DatasetSpec, canonical_value, load_spec
from models.errors import UnderwriterError
from models.learning.features import MAX_CATEGORIES, OTHER, FeatureEncoder
from models.learning.predictors import BoosterPredictor
from models.store.artifacts import write_model_version
from models.store.versioned import MANIFEST
from models.training.files import training_files, training_manifest
from models.training.fit import (
    Split,
    TrainConfig,
    TrainingResult,
    booster_params,
    finish_training,
)

SPARK_MODELS = ("auto", "xgboost", "previous")


def _parse_partition(spec_json: str) -> Any:
    def run(frames: Any) -> Any:
        spec = DatasetSpec.model_validate(json.loads(spec_json))
        for raw in frames:
            raw = raw.reset_index(drop=True)
            typed, bad = parse_features(raw, spec)
            canon = raw[spec.labelled().column].map(lambda v: "" if pd.isna(v) else canonical_value(v))
            label = np.where(
                canon.isin(spec.labelled().positive_values),
                1,
                np.where(canon.isin(spec.labelled().negative_values), 0, -1),
            )
            ok = (label >= 0) & ~np.any([b.to_numpy() for b in bad.values()], axis=0) if bad else label >= 0
            unlabelled = (canon == "").to_numpy() & (spec.labelled().unlabelled == "skip")
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
    model: str = "auto",
    refit: bool = True,
    refit_until: date | None = None,
) -> tuple[Path, dict[str, Any]]:
    """Train on Spark; write a model version in the trainer's format. Returns (version folder, report).

    Spark trains the ``xgboost`` candidate (``model`` ``auto`` or ``xgboost``) and refits it on every
    labelled row, or the ``previous`` recipe (no refit). The scorecard, the blend and the choice among
    them by rolling-origin folds run with ``--engine local``: it is refused here, not ignored."""
    started = time.perf_counter()
    data = Path(data)
    _check_model(model)
    refit = refit and model != "previous"
    dataset_spec, chosen_policy = _spec_and_policy(spec, policy)
    config = settings.training.to_config(1)
    own_session = spark is None
    session = spark or spark_session(master or settings.spark.master, conf=dict(settings.spark.conf))
    workers = num_workers or session.sparkContext.defaultParallelism
    try:
        prepared = _prepare(session, data, dataset_spec, config, test_from)
        fitted = _fit(prepared, dataset_spec, config, workers, refit, refit_until)
        population = _population(prepared, dataset_spec)
    finally:
        if own_session:
            session.stop()
    result = _finish(fitted, prepared, dataset_spec, chosen_policy, config, workers)
    result.metrics["shipped"] = _shipped_report(fitted, result, refit, refit_until)
    digest = input_sha256(data)
    labelled = prepared.total - prepared.rejected - prepared.skipped
    dataset = Dataset(
        spec=dataset_spec, source=str(data), sha256=digest,
        frame=pd.DataFrame(index=range(labelled)), ids=pd.Series(dtype=str), labels=None, dates=None,
    )  # fmt: skip  # stands for the distributed input: spec, source, hash and labelled row count
    version_dir = write_model_version(
        out, training_files(result, dataset, population), training_manifest(result, dataset)
    )
    record_run(
        Workspace(settings), run_id=f"spark-train-{version_dir.name}-{int(time.time())}", kind="train",
        engine=f"spark {master or settings.spark.master}",
        model_id=json.loads((version_dir / MANIFEST).read_text()).get("model_id", ""), input_sha256=digest,
        rows_in=prepared.total, rows_out=labelled, rows_rejected=prepared.rejected, output=str(version_dir),
        params={"spec": dataset_spec.name, "workers": workers},
    )  # fmt: skip
    report = {"rows": prepared.total, "rejected": prepared.rejected, "skipped_unlabelled": prepared.skipped,
              "trees": result.metrics["trees"], "test": result.metrics["test"],
              "seconds": time.perf_counter() - started, "workers": workers}  # fmt: skip
    return version_dir, report


def _spec_and_policy(spec: str | Path, policy: str | Path | None) -> tuple[DatasetSpec, Policy]:
    dataset_spec = load_spec(spec)
    if dataset_spec.date is None:
        raise UnderwriterError(
            f"spec {dataset_spec.name!r} has no date column; Spark training splits out of time"
        )
    chosen_policy = load_policy(policy or dataset_spec.policy)
    chosen_policy.check_columns(dataset_spec)
    return dataset_spec, chosen_policy


def _check_model(model: str) -> None:
    if model not in SPARK_MODELS:
        raise UnderwriterError(
            f"--engine spark trains {', '.join(SPARK_MODELS)} models; the scorecard, the blend and the "
            "choice among candidates by rolling-origin folds run with --engine local"
        )


def _shipped_report(fitted: _Fitted, result: TrainingResult, refit: bool, refit_until: date | None) -> dict:
    return {
        "refit": refit, "kind": "xgboost",
        "rows": len(fitted.refit_margins) if fitted.refit_margins is not None else len(result.split.train),
        "through": str(refit_until) if refit_until else None, "includes_test_period": refit,
        "note": "Spark: the xgboost candidate with early stopping on the validation period"
        + (", refit on every labelled row with that tree count" if refit else " (no refit)"),
    }  # fmt: skip


@dataclass
class _Prepared:
    usable: Any
    """The labelled rows as a Spark frame, each with its role: 0 train, 1 validation, 2 test."""
    total: int
    skipped: int
    rejected: int
    cut: int
    valid_cut: int
    """Day numbers (since 1970) where the test and the validation periods begin."""


def _population(prepared: _Prepared, spec: DatasetSpec) -> Population:
    """Each numeric feature's quantiles over the labelled rows, computed by Spark where the data is."""
    columns = [c for c in spec.numeric if c in prepared.usable.columns]
    probabilities = [i / (QUANTILES - 1) for i in range(QUANTILES)]
    found = prepared.usable.approxQuantile(columns, probabilities, 1e-3) if columns else []
    labelled = prepared.total - prepared.rejected - prepared.skipped
    return Population.from_quantiles(labelled, dict(zip(columns, found, strict=True)))


def _prepare(
    session: Any, data: Path, spec: DatasetSpec, config: TrainConfig, test_from: date | None
) -> _Prepared:
    """Every partition parsed by the file rule, the rows counted, and the out-of-time cuts computed by Spark."""
    from pyspark.sql import functions as F  # noqa: N812 - Spark's own convention

    assert spec.date is not None
    columns = [*spec.features, spec.labelled().column, spec.date.column]
    raw = read_records(session, data, list(dict.fromkeys(columns)))
    parsed = raw.mapInPandas(_parse_partition(spec.model_dump_json()), schema=_schema(spec))
    parsed = parsed.withColumn("row", F.monotonically_increasing_id()).persist()
    total = parsed.count()
    skipped = parsed.filter(F.col("unlabelled")).count()
    rejected = parsed.filter(~F.col("ok") & ~F.col("unlabelled")).count()
    usable = parsed.filter(F.col("ok")).withColumn("epoch", F.datediff(F.to_date("day"), F.lit("1970-01-01")))
    cut = (
        (test_from - date(1970, 1, 1)).days
        if test_from
        else int(usable.approxQuantile("epoch", [1 - config.test_fraction], 0.0)[0])
    )
    valid_cut = int(
        usable.filter(F.col("epoch") < cut).approxQuantile("epoch", [1 - config.valid_fraction], 0.0)[0]
    )
    role = F.when(F.col("epoch") >= cut, 2).when(F.col("epoch") >= valid_cut, 1).otherwise(0)
    return _Prepared(usable.withColumn("role", role).persist(), total, skipped, rejected, cut, valid_cut)


@dataclass
class _Fitted:
    booster: Any
    encoder: FeatureEncoder
    params: dict[str, Any]
    margins: pd.DataFrame
    """Each labelled row's margin, with its role and label, in row order."""
    test_rows: pd.DataFrame
    shipped: Any
    """The refit booster, or the measured one without refit."""
    refit_margins: np.ndarray | None


def _fit(
    prepared: _Prepared, spec: DatasetSpec, config: TrainConfig, workers: int, refit: bool,
    refit_until: date | None,
) -> _Fitted:  # fmt: skip
    """Category codes from the training rows, ``SparkXGBClassifier`` with early stopping on the validation
    rows, every row's margin computed on the executors; then, with ``refit``, the same settings and tree
    count fitted again on every labelled row (through ``refit_until``): the model that ships."""
    from pyspark.sql import functions as F  # noqa: N812 - Spark's own convention
    from xgboost.spark import SparkXGBClassifier

    usable = prepared.usable
    encoder = _fit_encoder(usable.filter(F.col("role") == 0), spec)
    encoded = usable.select(*spec.features, "label", "role", "row").mapInPandas(
        _encode_partition(json.dumps(encoder.to_dict())),
        schema=", ".join(
            [*(f"{n} double" for n in encoder.feature_names), "label int", "role int", "row long"]
        ),
    )
    fit_rows = encoded.filter(F.col("role") < 2).withColumn("is_valid", F.col("role") == 1)
    counts = {
        r["label"]: r["count"] for r in fit_rows.filter(~F.col("is_valid")).groupBy("label").count().collect()
    }
    params = booster_params(spec, encoder, config, negatives=counts.get(0, 0), positives=counts.get(1, 0))
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
    booster = classifier.fit(fit_rows).get_booster()
    best = booster.best_iteration if booster.best_iteration is not None else booster.num_boosted_rounds() - 1
    booster = booster[: best + 1]
    margins = _margins(encoded, booster, encoder)
    test_rows = usable.filter(F.col("role") == 2).select("row", *spec.features)
    shipped, refit_margins = booster, None
    if refit:  # the same settings and tree count on every labelled row up to the refit day
        chosen = {k: v for k, v in params.items() if k not in {"nthread", "objective"}}
        refit_rows = encoded
        if refit_until is not None:
            day = (refit_until - date(1970, 1, 1)).days
            refit_rows = encoded.join(usable.filter(F.col("epoch") <= day).select("row"), "row")
        shipped = SparkXGBClassifier(
            features_col=encoder.feature_names, label_col="label", num_workers=workers, n_estimators=best + 1,
            feature_types=encoder.feature_types, **chosen,
        ).fit(refit_rows).get_booster()  # fmt: skip
        refit_margins = _margins(refit_rows, shipped, encoder)["margin"].to_numpy()
    return _Fitted(
        booster, encoder, params, margins, test_rows.toPandas().sort_values("row"), shipped, refit_margins
    )


def _margins(encoded: Any, booster: Any, encoder: FeatureEncoder) -> Any:
    """Every row's margin, computed on the executors; collected in row order."""
    return (
        encoded.mapInPandas(
            _margin_partition(bytes(booster.save_raw("ubj")), encoder.feature_names, encoder.feature_types),
            schema="row long, role int, label int, margin double",
        )
        .toPandas()
        .sort_values("row")
    )


def _finish(
    fitted: _Fitted, prepared: _Prepared, spec: DatasetSpec, policy: Policy, config: TrainConfig, workers: int
) -> TrainingResult:
    """Calibration, metrics and plots by the single-machine trainer's own code, on the Spark margins."""
    assert spec.date is not None
    margins = fitted.margins
    parts = {
        name: margins[margins["role"] == code] for name, code in (("train", 0), ("valid", 1), ("test", 2))
    }
    cut, valid_cut = prepared.cut, prepared.valid_cut
    split = Split(
        np.arange(len(parts["train"])),
        np.arange(len(parts["valid"])),
        np.arange(len(parts["test"])),
        f"out of time on {spec.date.column}: train before {_day(valid_cut)}, validation {_day(valid_cut)} "
        f"to {_day(cut)}, test from {_day(cut)} (Spark, {workers} workers)",
    )
    return finish_training(
        BoosterPredictor(fitted.shipped, fitted.encoder),
        fitted.encoder,
        policy,
        split,
        margins={k: v["margin"].to_numpy() for k, v in parts.items()},
        labels={k: v["label"].to_numpy() for k, v in parts.items()},
        test_frame=fitted.test_rows.drop(columns="row").reset_index(drop=True),
        params={**fitted.params, "engine": f"xgboost.spark, {workers} workers", "config": asdict(config)},
        skipped=prepared.skipped,
        reference_margin=fitted.refit_margins,
    )


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
