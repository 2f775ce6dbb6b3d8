"""Real XGBoost on the small portfolio: calibration, splits, constraints, artifacts."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from assistant.jobs.modeling import train_model
from models.errors import ArtifactError, DatasetError, SpecError
from models.scoring.score import margins
from models.store.artifacts import load_model


def test_chosen_model_is_calibrated_on_the_later_test_period(trained):
    test = trained.result.metrics["test"]
    assert abs(test["mean_pd"] - test["default_rate"]) < 0.05
    assert test["ece"] < 0.05
    assert test["auc"] > 0.65


def test_previous_recipe_calibration_lowers_brier_and_log_loss(portfolio, settings):
    outcome = train_model(
        settings,
        spec="merchant_portfolio",
        data=portfolio.merchants,
        out=settings.workspace / "prev",
        progress=False,
        model="previous",
    )
    test = outcome.result.metrics["test"]
    assert test["brier"] < test["brier_uncalibrated"]
    assert test["log_loss"] < test["log_loss_uncalibrated"]
    # calibrated mean PD is close to the observed default rate; the class-weighted raw one is not
    assert abs(test["mean_pd"] - test["default_rate"]) < 0.05
    assert "model_choice" not in outcome.result.metrics and outcome.result.predictor.kind == "xgboost"


def test_split_is_out_of_time(trained):
    split, dates = trained.result.split, trained.dataset.dates
    assert dates[split.train].max() < dates[split.valid].min()
    assert dates[split.valid].max() < dates[split.test].min()
    assert "out of time" in trained.result.metrics["split"]


def test_test_from_date_sets_the_cut(portfolio, settings):
    from datetime import date

    outcome = train_model(
        settings,
        spec="merchant_portfolio",
        data=portfolio.merchants,
        out=settings.workspace / "m",
        test_from=date(2024, 1, 1),
        progress=False,
    )
    dates = outcome.dataset.dates
    assert dates[outcome.result.split.test].min() >= pd.Timestamp("2024-01-01")
    assert dates[outcome.result.split.train].max() < pd.Timestamp("2024-01-01")


def test_monotone_constraints_hold(trained):
    model = load_model(trained.version_dir)
    frame = trained.dataset.frame.iloc[:200].reset_index(drop=True)
    x, _ = model.encoder.transform(frame)
    j = model.encoder.feature_names.index("dispute_rate")
    previous = None
    for value in np.linspace(0, 0.05, 12):
        x[:, j] = value
        current = margins(model, x)
        if previous is not None:
            assert (current >= previous - 1e-6).all()
        previous = current


def test_artifacts_are_complete_and_hashed(trained):
    version = trained.version_dir
    manifest = json.loads((version / "manifest.json").read_text())
    for name in (
        "booster.ubj",
        "calibrator.json",
        "features.json",
        "spec.yaml",
        "policy.yaml",
        "metrics.json",
        "model_card.md",
        "plots/roc.png",
        "plots/calibration.png",
        "plots/score_distribution.png",
    ):
        assert name in manifest["files"], name
        assert (version / name).stat().st_size > 0
    assert manifest["dataset"]["sha256"] == trained.dataset.sha256
    assert (version / "plots/roc.png").read_bytes().startswith(b"\x89PNG")
    card = (version / "model_card.md").read_text()
    assert "AUC" in card and "Limitations" in card and "Intended use" in card
    assert not list(version.rglob("*.pkl")) and not list(version.rglob("*.pickle"))


def test_new_version_never_overwrites_and_current_switches(portfolio, settings):
    root = settings.workspace / "models"
    first = train_model(
        settings, spec="merchant_portfolio", data=portfolio.merchants, out=root, progress=False
    )
    first_bytes = (first.version_dir / "booster.ubj").read_bytes()
    second = train_model(
        settings, spec="merchant_portfolio", data=portfolio.merchants, out=root, progress=False
    )
    assert (first.version_dir.name, second.version_dir.name) == ("v0001", "v0002")
    assert (root / "CURRENT").read_text().strip() == "v0002"
    assert (first.version_dir / "booster.ubj").read_bytes() == first_bytes
    assert load_model(root).version == "v0002"
    assert load_model(first.version_dir).version == "v0001"
    assert not [p for p in (root / "versions").iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("target", ["booster.ubj", "policy.yaml", "calibrator.json"])
def test_tampered_model_is_refused(trained, tmp_path, target):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(trained.version_dir, copy)
    path = copy / target
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match=f"{target} does not match its SHA-256"):
        load_model(copy)


def test_missing_file_and_foreign_folder_are_refused(trained, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(trained.version_dir, copy)
    (copy / "calibrator.json").unlink()
    with pytest.raises(ArtifactError, match=r"calibrator\.json is missing"):
        load_model(copy)
    with pytest.raises(ArtifactError, match="not a model directory"):
        load_model(tmp_path)
    with pytest.raises(ArtifactError, match="does not exist"):
        load_model(tmp_path / "nowhere")


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_bad_input_leaves_existing_artifacts_untouched(portfolio, settings, tmp_path):
    root = settings.workspace / "models"
    train_model(settings, spec="merchant_portfolio", data=portfolio.merchants, out=root, progress=False)
    before = snapshot(root)
    bad = tmp_path / "bad.csv"
    frame = pd.read_csv(portfolio.merchants, dtype=str)
    frame.loc[3, "dispute_rate"] = "n/a%"
    frame.loc[7, "default_12m"] = "perhaps"
    frame.to_csv(bad, index=False)
    with pytest.raises(DatasetError) as err:
        train_model(settings, spec="merchant_portfolio", data=bad, out=root, progress=False)
    assert "row 4" in str(err.value) and "row 8" in str(err.value)
    with pytest.raises(SpecError):
        train_model(
            settings,
            spec="merchant_portfolio",
            data=portfolio.merchants,
            out=root,
            policy="nope",
            progress=False,
        )
    with pytest.raises(SpecError, match="not numeric features"):
        train_model(
            settings,
            spec="lending_club",
            data=Path(__file__).parents[1] / "data/lc_small_business_2007_2010.csv",
            out=root,
            policy="merchant",
            progress=False,
        )
    assert snapshot(root) == before
