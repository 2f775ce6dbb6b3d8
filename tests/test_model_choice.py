"""Model choice by time-ordered folds (issue 16): real XGBoost, the optbinning scorecard, real data.

The claims tried here: no test row enters fold training, tuning or calibration; folds only ever
look forward in time; every kind of model writes, loads, scores and explains like the others; the
shipped model is the refit and says so; the scorecard stored as JSON scores as optbinning does.
"""

from datetime import date

import numpy as np
import pandas as pd
import pytest

from assistant.jobs.modeling import score_file, train_model
from models.artifacts import load_model
from models.dataset import load_dataset
from models.errors import ArtifactError, UnderwriterError
from models.features import FeatureEncoder
from models.policy import load_policy
from models.recipe import training_folds
from models.scorecard import Scorecard, _frame, fit_scorecard
from models.scoring import contributions, margins
from models.spec import load_spec
from models.training import TrainConfig, make_split, train
from tests.conftest import LENDING_CLUB, require_file


@pytest.fixture(scope="module")
def lending_club():
    spec = load_spec("lending_club")
    return load_dataset(require_file(LENDING_CLUB), spec, require_label=True)


def _scrambled_test_period(dataset, split):
    """The same file with every test row's label flipped and features shuffled among test rows."""
    frame = dataset.frame.copy()
    rng = np.random.default_rng(5)
    order = rng.permutation(split.test)
    for column in dataset.spec.features:
        frame.loc[frame.index[split.test], column] = frame[column].to_numpy()[order]
    labels = dataset.labels.copy()
    labels[split.test] = 1 - labels[split.test]
    return type(dataset)(**{**dataset.__dict__, "frame": frame, "labels": labels})


def test_test_rows_never_enter_fold_training_tuning_or_calibration(lending_club):
    config = TrainConfig(nthread=2)
    split = make_split(lending_club, config, date(2010, 1, 1))
    folds = training_folds(lending_club, split, config.seed)
    for fold in folds:
        assert not set(fold.train) & set(split.test) and not set(fold.valid) & set(split.test)
    policy = load_policy("generic")
    original = train(lending_club, policy, config, test_from=date(2010, 1, 1), refit=False)
    scrambled = train(
        _scrambled_test_period(lending_club, split), policy, config, test_from=date(2010, 1, 1), refit=False
    )
    # every choice (candidate, grid point, tree count, blend weight, screen, calibration) is the same
    assert scrambled.metrics["model_choice"] == original.metrics["model_choice"]
    assert scrambled.metrics["valid"] == original.metrics["valid"]
    # and the measured model scores the untouched training rows identically
    x, _ = original.encoder.transform(lending_club.frame.iloc[split.train])
    np.testing.assert_allclose(scrambled.predictor.margin(x), original.predictor.margin(x))
    assert scrambled.metrics["test"]["auc"] != original.metrics["test"]["auc"]  # the scramble did bite


def test_rolling_origin_folds_only_look_forward(lending_club):
    split = make_split(lending_club, TrainConfig(), date(2010, 1, 1))
    folds = training_folds(lending_club, split, 42)
    days = lending_club.dates.to_numpy(dtype="datetime64[D]")
    assert len(folds) >= 2
    for fold in folds:
        assert days[fold.train].max() < days[fold.valid].min()
    assert [len(f.train) for f in folds] == sorted(len(f.train) for f in folds)  # the origin rolls


def test_lending_club_report_names_the_candidates_and_the_refit(lending_club):
    result = train(lending_club, load_policy("generic"), TrainConfig(nthread=2), test_from=date(2010, 1, 1))
    choice = result.metrics["model_choice"]
    assert set(choice["candidates"]) == {"xgboost", "scorecard", "blend"}
    for figures in choice["candidates"].values():
        for metric in ("auc", "brier", "log_loss"):
            assert figures[metric]["low"] <= figures[metric]["mean"] <= figures[metric]["high"]
    chosen = choice["candidates"][choice["chosen"]]["auc"]["mean"]
    assert all(chosen >= c["auc"]["mean"] - 0.002 for c in choice["candidates"].values())
    assert result.metrics["shipped"] == {**result.metrics["shipped"], "refit": True, "rows": 903,
                                         "includes_test_period": True}  # fmt: skip


@pytest.mark.parametrize("kind", ["scorecard", "blend"])
def test_every_kind_writes_loads_scores_and_explains(portfolio, settings, kind):
    outcome = train_model(
        settings, spec="merchant_portfolio", data=portfolio.merchants, out=settings.workspace / kind,
        progress=False, model=kind,
    )  # fmt: skip
    model = load_model(outcome.version_dir)
    assert model.kind == kind and model.manifest["model_kind"] == kind
    dataset = load_dataset(portfolio.merchants, model.spec, require_label=False)
    x, _ = model.encoder.transform(dataset.frame.head(300))
    contrib = contributions(model, x)
    np.testing.assert_allclose(contrib.sum(axis=1), margins(model, x), atol=1e-4)  # TreeSHAP is float32
    scored = score_file(settings, model=outcome.version_dir, data=portfolio.merchants,
                        out=settings.workspace / f"{kind}.csv", force=False, reasons="all")  # fmt: skip
    frame = scored.batch.frame
    flagged = frame[frame["band"] != "approve"]
    assert (flagged["reason_codes"] != "").mean() > 0.95 and frame["reason_1"].str.len().max() > 5
    card = (outcome.version_dir / "model_card.md").read_text()
    assert "## Model choice" in card and f"| {kind} (chosen) |" in card


def test_a_changed_scorecard_file_is_refused(portfolio, settings):
    outcome = train_model(
        settings, spec="merchant_portfolio", data=portfolio.merchants, out=settings.workspace / "sc",
        progress=False, model="scorecard",
    )  # fmt: skip
    path = outcome.version_dir / "scorecard.json"
    path.write_text(path.read_text().replace('"intercept": ', '"intercept": 1 + ', 1))
    with pytest.raises(ArtifactError, match=r"scorecard\.json does not match its SHA-256"):
        load_model(outcome.version_dir)


@pytest.mark.filterwarnings("ignore:Setting an item of incompatible dtype")  # inside optbinning, on pandas 3
def test_json_scorecard_scores_as_optbinning_does_on_real_data():
    from optbinning import BinningProcess

    spec = load_spec("german_credit")
    dataset = load_dataset(_german(), spec, require_label=True)
    encoder = FeatureEncoder.fit(spec, dataset.frame)
    x, _ = encoder.transform(dataset.frame)
    y = dataset.labels.astype(int)
    card = fit_scorecard(x, y, encoder, spec.monotone, min_information_value=0.0)
    process = BinningProcess(variable_names=encoder.feature_names, categorical_variables=list(encoder.categories),
                             binning_fit_params={f: {"monotonic_trend": "ascending" if m > 0 else "descending"}
                                                 for f, m in spec.monotone.items() if m})  # fmt: skip
    frame = _frame(x, encoder)
    process.fit(frame, y)
    woe = process.transform(frame, metric="woe", metric_missing="empirical").to_numpy(dtype=float)
    expected = card.intercept + woe @ np.array([f.coefficient for f in card.features])
    np.testing.assert_allclose(card.margin(x), expected, atol=1e-9)
    again = Scorecard.from_dict(card.to_dict())
    np.testing.assert_array_equal(again.margin(x), card.margin(x))
    table = pd.DataFrame(card.points_table())
    best = table.groupby("feature")["points"].max().sum()
    assert card.score_points(x).max() <= best + 1e-6  # nobody scores above every best attribute


def _german():
    from tests.conftest import SHARED_DATA

    return require_file(SHARED_DATA / "german_credit.csv")


def test_unseen_and_missing_values_score_without_error(portfolio, settings):
    outcome = train_model(
        settings, spec="merchant_portfolio", data=portfolio.merchants, out=settings.workspace / "u",
        progress=False, model="scorecard",
    )  # fmt: skip
    model = load_model(outcome.version_dir)
    frame = pd.read_csv(portfolio.merchants).head(20)
    frame.loc[:4, "mcc"] = 9999
    frame.loc[5:9, model.spec.numeric[0]] = np.nan
    path = settings.workspace / "odd.csv"
    frame.to_csv(path, index=False)
    scored = score_file(settings, model=outcome.version_dir, data=path, out=settings.workspace / "o.csv",
                        force=False, reasons="all")  # fmt: skip
    assert scored.batch.frame["pd"].between(0, 1).all() and scored.batch.unseen_categories == {"mcc": 5}


def test_bad_refit_requests_get_clear_errors(portfolio, settings, lending_club):
    with pytest.raises(UnderwriterError, match="--refit-until needs a date column"):
        train_model(settings, spec="german_credit", data=_german(), out=settings.workspace / "g",
                    progress=False, refit_until=date(2020, 1, 1))  # fmt: skip
    with pytest.raises(UnderwriterError, match="choose a later --refit-until"):
        train(lending_club, load_policy("generic"), TrainConfig(nthread=2), test_from=date(2010, 1, 1),
              refit_until=date(2007, 7, 1))  # fmt: skip
    with pytest.raises(UnderwriterError, match="--model must be one of"):
        train(lending_club, load_policy("generic"), model="forest")
    assert not (settings.workspace / "g").exists()
