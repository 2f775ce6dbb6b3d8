"""Scoring one partition of raw records: what a Spark task (or any worker) runs.

The model travels as the bytes of its version folder (:func:`model_payload`); a worker
rebuilds the folder once per process, and :func:`load_model` verifies every hash as usual.
A partition's cells are parsed by the same rule as a whole file
(:func:`models.data.dataset.parse_features`); a row that breaks it (a non-numeric value, an empty
id) is returned with an ``error`` instead of failing the partition, so one bad row never
costs a job.
"""

from __future__ import annotations

import hashlib
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from models.data.dataset import parse_features
from models.data.spec import DatasetSpec
from models.scoring.score import MAX_REASONS, score_matrix
from models.store.artifacts import RiskModel, load_model, resolve_version_dir

OUTPUT_COLUMNS = [
    "id",
    "pd",
    "grade",
    "band",
    "policy_flags",
    "reason_codes",
    *[f"reason_{k + 1}" for k in range(MAX_REASONS)],
    "model_version",
    "model_id",
    "error",
]
"""The single-machine scores' columns, plus ``error`` (empty for a scored row)."""

_LOADED: dict[str, RiskModel] = {}
_LOCK = threading.Lock()


def model_payload(path: str | Path) -> dict[str, bytes]:
    """Every file of a model version, by name: small (a booster of a few hundred kB), broadcastable."""
    folder = resolve_version_dir(path)
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def model_from_payload(payload: dict[str, bytes], nthread: int = 1) -> RiskModel:
    """The model, rebuilt once per process from its bytes and verified like any other load."""
    key = hashlib.sha256(
        b"".join(k.encode() + hashlib.sha256(v).digest() for k, v in sorted(payload.items()))
    ).hexdigest()
    with _LOCK:
        if key not in _LOADED:
            root = Path(tempfile.mkdtemp(prefix="underwriter-model-"))
            for name, data in payload.items():
                target = (root / name).resolve()
                if not target.is_relative_to(root.resolve()):
                    raise ValueError(f"model payload names a file outside its folder: {name!r}")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            _LOADED[key] = load_model(root, nthread=nthread)
        return _LOADED[key]


def score_records(
    model: RiskModel, raw: pd.DataFrame, *, nthread: int = 1, reasons: str = "all"
) -> pd.DataFrame:
    """Score raw records (strings or typed cells, the spec's columns); bad rows carry an ``error``."""
    spec: DatasetSpec = model.spec
    ids = raw[spec.id].astype("string").str.strip() if spec.id else pd.Series(raw.index.astype(str))
    frame, bad_values = parse_features(raw.reset_index(drop=True), spec)
    ids = ids.reset_index(drop=True)
    errors = pd.Series([""] * len(raw), dtype=object)
    for column, bad in bad_values.items():
        errors[bad.to_numpy()] += f"{column}: not a number; "
    empty = (ids.isna() | (ids == "")).to_numpy()
    errors[empty] += "empty id; "
    good = (errors == "").to_numpy()
    out = pd.DataFrame({c: pd.Series([None] * len(raw), dtype=object) for c in OUTPUT_COLUMNS})
    out["id"] = ids.fillna("").astype(str).to_numpy()
    out["pd"] = np.nan
    out["error"] = errors.str.rstrip("; ").to_numpy()
    if good.any():
        part = frame[good].reset_index(drop=True)
        x, _ = model.encoder.transform(part)
        scored, _ = score_matrix(model, x, part, nthread=nthread, reasons=reasons)
        rows = np.flatnonzero(good)
        for column in scored.columns:
            out.loc[rows, column] = scored[column].to_numpy()
        out.loc[rows, "model_version"] = model.label
        out.loc[rows, "model_id"] = model.model_id[:16]
    out["pd"] = out["pd"].astype("float64")
    for column in OUTPUT_COLUMNS:
        if column != "pd":
            out[column] = out[column].where(out[column].notna(), None).astype(object)
    return out


def score_partitions(
    payload: dict[str, bytes], *, nthread: int = 1, reasons: str = "all"
) -> Callable[[Iterable[pd.DataFrame]], Iterator[pd.DataFrame]]:
    """The function ``mapInPandas`` runs: an iterator of raw frames in, scored frames out."""

    def run(frames: Iterable[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        model = model_from_payload(payload, nthread)
        for raw in frames:
            yield score_records(model, raw, nthread=nthread, reasons=reasons)

    return run
