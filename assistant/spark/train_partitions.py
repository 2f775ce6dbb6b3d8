"""What the Spark executors run for training: each partition parsed by the file rule, encoded with the
fitted category codes, and scored to margins by the booster."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from models.data.dataset import parse_features
from models.data.spec import DatasetSpec, canonical_value
from models.learning.features import FeatureEncoder


def parse_partition(spec_json: str) -> Any:
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


def parsed_schema(spec: DatasetSpec) -> str:
    cols = [f"{c} double" for c in spec.numeric] + [f"{c} string" for c in spec.categorical]
    return ", ".join([*cols, "label int", "day string", "ok boolean", "unlabelled boolean"])


def encode_partition(encoder_json: str) -> Any:
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


def margin_partition(booster_bytes: bytes, feature_names: list[str], feature_types: list[str]) -> Any:
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
                {
                    "row": part["row"],
                    "role": part["role"],
                    "label": part["label"],
                    "margin": booster.predict(matrix, output_margin=True).astype("float64"),
                }
            )

    return run
