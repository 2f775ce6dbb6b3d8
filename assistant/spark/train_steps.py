"""The distributed steps of Spark training: the rows parsed and split out of time, the category codes and
the booster fitted on the executors (with early stopping, then refit), and the population's quantiles."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from assistant.spark.session import read_records
from assistant.spark.train_partitions import (
    encode_partition,
    margin_partition,
    parse_partition,
    parsed_schema,
)
from models.data.population import QUANTILES, Population
from models.data.spec import DatasetSpec
from models.learning.features import MAX_CATEGORIES, OTHER, FeatureEncoder
from models.training.config import TrainConfig
from models.training.fit import booster_params


@dataclass
class Prepared:
    usable: Any
    """The labelled rows as a Spark frame, each with its role: 0 train, 1 validation, 2 test."""
    total: int
    skipped: int
    rejected: int
    cut: int
    valid_cut: int
    """Day numbers (since 1970) where the test and the validation periods begin."""

    @property
    def labelled(self) -> int:
        return self.total - self.rejected - self.skipped


def population_quantiles(prepared: Prepared, spec: DatasetSpec) -> Population:
    """Each numeric feature's quantiles over the labelled rows, computed by Spark where the data is."""
    columns = [c for c in spec.numeric if c in prepared.usable.columns]
    probabilities = [i / (QUANTILES - 1) for i in range(QUANTILES)]
    found = prepared.usable.approxQuantile(columns, probabilities, 1e-3) if columns else []
    return Population.from_quantiles(prepared.labelled, dict(zip(columns, found, strict=True)))


def prepare(
    session: Any, data: Path, spec: DatasetSpec, config: TrainConfig, test_from: date | None
) -> Prepared:
    """Every partition parsed by the file rule, the rows counted, and the out-of-time cuts computed by Spark."""
    from pyspark.sql import functions as F  # noqa: N812 - Spark's own convention

    assert spec.date is not None
    columns = [*spec.features, spec.labelled().column, spec.date.column]
    raw = read_records(session, data, list(dict.fromkeys(columns)))
    parsed = raw.mapInPandas(parse_partition(spec.model_dump_json()), schema=parsed_schema(spec))
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
    return Prepared(usable.withColumn("role", role).persist(), total, skipped, rejected, cut, valid_cut)


@dataclass
class Fitted:
    booster: Any
    encoder: FeatureEncoder
    params: dict[str, Any]
    margins: pd.DataFrame
    """Each labelled row's margin, with its role and label, in row order."""
    test_rows: pd.DataFrame
    shipped: Any
    """The refit booster, or the measured one without refit."""
    refit_margins: np.ndarray | None


def fit_booster(
    prepared: Prepared,
    spec: DatasetSpec,
    config: TrainConfig,
    workers: int,
    refit: bool,
    refit_until: date | None,
) -> Fitted:
    """Category codes from the training rows, ``SparkXGBClassifier`` with early stopping on the validation
    rows, every row's margin computed on the executors; then, with ``refit``, the same settings and tree
    count fitted again on every labelled row (through ``refit_until``): the model that ships."""
    from pyspark.sql import functions as F  # noqa: N812 - Spark's own convention
    from xgboost.spark import SparkXGBClassifier

    usable = prepared.usable
    encoder = fit_encoder(usable.filter(F.col("role") == 0), spec)
    encoded = usable.select(*spec.features, "label", "role", "row").mapInPandas(
        encode_partition(json.dumps(encoder.to_dict())),
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
    margins = margins_of(encoded, booster, encoder)
    test_rows = usable.filter(F.col("role") == 2).select("row", *spec.features)
    shipped, refit_margins = booster, None
    if refit:
        shipped, refit_margins = _refit(encoded, usable, encoder, params, best + 1, workers, refit_until)
    return Fitted(
        booster, encoder, params, margins, test_rows.toPandas().sort_values("row"), shipped, refit_margins
    )


def _refit(
    encoded: Any,
    usable: Any,
    encoder: FeatureEncoder,
    params: dict[str, Any],
    trees: int,
    workers: int,
    refit_until: date | None,
) -> tuple[Any, np.ndarray]:
    """The same settings and tree count on every labelled row up to the refit day: the booster that
    ships, and its margins."""
    from pyspark.sql import functions as F  # noqa: N812 - Spark's own convention
    from xgboost.spark import SparkXGBClassifier

    chosen = {k: v for k, v in params.items() if k not in {"nthread", "objective"}}
    refit_rows = encoded
    if refit_until is not None:
        day = (refit_until - date(1970, 1, 1)).days
        refit_rows = encoded.join(usable.filter(F.col("epoch") <= day).select("row"), "row")
    shipped = (
        SparkXGBClassifier(
            features_col=encoder.feature_names,
            label_col="label",
            num_workers=workers,
            n_estimators=trees,
            feature_types=encoder.feature_types,
            **chosen,
        )
        .fit(refit_rows)
        .get_booster()
    )
    return shipped, margins_of(refit_rows, shipped, encoder)["margin"].to_numpy()


def margins_of(encoded: Any, booster: Any, encoder: FeatureEncoder) -> Any:
    """Every row's margin, computed on the executors; collected in row order."""
    return (
        encoded.mapInPandas(
            margin_partition(bytes(booster.save_raw("ubj")), encoder.feature_names, encoder.feature_types),
            schema="row long, role int, label int, margin double",
        )
        .toPandas()
        .sort_values("row")
    )


def fit_encoder(train_rows: Any, spec: DatasetSpec) -> FeatureEncoder:
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
