"""Scores and reason codes from the real model: exact, positive, deterministic."""

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb

from models.scoring.score import MAX_REASONS, contributions, margins, reason_code, score_dataset
from models.store.artifacts import load_model


@pytest.fixture(scope="module")
def model(trained):
    return load_model(trained.version_dir, nthread=2)


def test_attributions_sum_to_the_margin(model, trained):
    x, _ = model.encoder.transform(trained.dataset.frame)
    contrib = contributions(model, x, nthread=2)
    np.testing.assert_allclose(contrib.sum(axis=1), margins(model, x), atol=1e-4)
    # the reference point is the same expected margin for every row
    assert np.ptp(contrib[:, -1]) < 1e-6


def test_reasons_name_only_factors_that_raised_risk(model, trained):
    batch = score_dataset(model, trained.dataset, nthread=2)
    names = model.encoder.feature_names
    contrib = batch.contributions
    checked = 0
    for i, codes in enumerate(batch.frame["reason_codes"]):
        chosen = [c for c in codes.split(";") if c]
        assert len(chosen) <= MAX_REASONS
        values = [contrib[i, [reason_code(n) for n in names].index(c)] for c in chosen]
        assert all(v > 0 for v in values)
        assert values == sorted(values, reverse=True)
        positives = sorted((v for v in contrib[i, :-1] if v > 1e-6), reverse=True)
        assert values == positives[:MAX_REASONS]
        texts = [batch.frame.loc[i, f"reason_{k + 1}"] for k in range(len(chosen))]
        assert all(texts) and all(
            model.spec.reason_text(names[[reason_code(n) for n in names].index(c)]) == t
            for c, t in zip(chosen, texts, strict=True)
        )
        checked += bool(chosen)
    assert checked > len(batch.frame) * 0.5


def test_same_scores_and_reasons_for_one_and_two_threads(model, trained):
    one = score_dataset(load_model(trained.version_dir, nthread=1), trained.dataset, nthread=1).frame
    two = score_dataset(model, trained.dataset, nthread=2).frame
    pd.testing.assert_frame_equal(one, two)


def test_adverse_scope_explains_exactly_the_adverse_rows(model, trained):
    full = score_dataset(model, trained.dataset, nthread=2).frame
    adverse = score_dataset(model, trained.dataset, nthread=2, reasons="adverse").frame
    mask = full["band"] != "approve"
    assert mask.any() and (~mask).any()
    pd.testing.assert_frame_equal(full[mask], adverse[mask])
    assert (adverse.loc[~mask, "reason_codes"] == "").all()
    pd.testing.assert_series_equal(full["pd"], adverse["pd"])


def test_unseen_category_is_counted_and_scored(model, trained, tmp_path):
    frame = pd.read_csv(trained.dataset.source, dtype=str).head(20)
    frame.loc[:4, "mcc"] = "0000"
    path = tmp_path / "new.csv"
    frame.to_csv(path, index=False)
    from models.data.dataset import load_dataset

    batch = score_dataset(model, load_dataset(path, model.spec, require_label=False), nthread=2)
    assert batch.unseen_categories == {"mcc": 5}
    assert batch.frame["pd"].between(0, 1).all()


def test_chunked_contributions_equal_xgboosts_own(model, trained, monkeypatch):
    import models.learning.predictors

    monkeypatch.setattr(models.learning.predictors, "CHUNK_ROWS", 7)
    x, _ = model.encoder.transform(trained.dataset.frame.head(50))
    direct = model.booster.predict(
        xgb.DMatrix(
            x,
            feature_names=model.encoder.feature_names,
            feature_types=model.encoder.feature_types,
            enable_categorical=True,
        ),
        pred_contribs=True,
    )
    np.testing.assert_array_equal(contributions(model, x), direct.astype(np.float64))


def test_score_file_writes_parquet_equal_to_csv(trained, settings, tmp_path):
    from assistant.jobs.modeling import score_file

    for name in ("s.csv", "s.parquet"):
        score_file(settings, model=trained.version_dir, data=trained.dataset.source, out=tmp_path / name)
    as_csv = pd.read_csv(tmp_path / "s.csv", keep_default_na=False)
    as_parquet = pd.read_parquet(tmp_path / "s.parquet")
    pd.testing.assert_frame_equal(
        as_csv[["id", "grade", "band", "reason_codes"]].astype(str),
        as_parquet[["id", "grade", "band", "reason_codes"]].astype(str),
    )
    np.testing.assert_allclose(as_csv["pd"], as_parquet["pd"])
