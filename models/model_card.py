"""The model card: what the model was trained on, how well it does, and what it is not for."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from models.dataset import Dataset
    from models.training import TrainingResult


def model_card(result: TrainingResult, dataset: Dataset) -> str:
    return (
        _use_and_data(result, dataset)
        + _model(result, dataset)
        + _test_metrics(result)
        + _limitations(result)
    )


def _use_and_data(result: TrainingResult, dataset: Dataset) -> str:
    spec, m = dataset.spec, result.metrics
    return f"""# Model card: {spec.name}

## Intended use
Ranks {"merchants" if spec.name == "merchant_portfolio" else "applicants"} by probability of default (PD) to support, not replace, an
underwriter's decision. Grades and bands come from policy `{result.policy.label}`; reason
codes are the features whose exact TreeSHAP contribution raised the PD above the
model's average. Not for use on populations unlike the training data, for pricing
without a separate validation, or as the sole basis of an adverse decision.

## Data
- Dataset: {spec.description.strip() or spec.name}
- Source: {spec.source or dataset.source}
- File: `{dataset.source}` (SHA-256 `{dataset.sha256[:16]}…`), {len(dataset)} labelled rows
  ({m["rows"]["skipped_unlabelled"]} unlabelled rows skipped)
- Split: {m["split"]}; rows train / validation / test = {m["rows"]["train"]} / {m["rows"]["valid"]} / {m["rows"]["test"]}

"""


def _model(result: TrainingResult, dataset: Dataset) -> str:
    spec, m = dataset.spec, result.metrics
    features = "\n".join(
        f"- `{f}`: {spec.display_name(f)}"
        + (f" (monotone {spec.monotone[f]:+d})" if spec.monotone.get(f) else "")
        for f in spec.features
    )
    return f"""## Model
XGBoost, {m["trees"]} trees of depth <= {result.params["max_depth"]}, early stopping on validation precision-recall AUC,
class weight {result.params["scale_pos_weight"]:.2f} on defaults, monotone constraints from the spec, then
Platt calibration on the validation split (a = {result.calibrator.a:.4f}, b = {result.calibrator.b:.4f}).

Features:
{features}

"""


def _test_metrics(result: TrainingResult) -> str:
    m, t = result.metrics, result.metrics["test"]
    grades = "\n".join(
        f"| {r['grade']} | {r['count']} | {r['mean_pd'] if r['mean_pd'] is not None else '-'} | "
        f"{r['observed_default_rate'] if r['observed_default_rate'] is not None else '-'} |"
        for r in m["calibration_by_grade"]
    )
    return f"""## Test metrics
| metric | value |
|---|---|
| rows | {t["rows"]} |
| default rate | {t["default_rate"]:.2%} |
| AUC | {t["auc"]:.4f} |
| Gini | {t["gini"]:.4f} |
| KS | {t["ks"]:.4f} |
| Brier (calibrated / raw) | {t["brier"]:.5f} / {t["brier_uncalibrated"]:.5f} |
| log loss (calibrated / raw) | {t["log_loss"]:.5f} / {t["log_loss_uncalibrated"]:.5f} |
| expected calibration error | {t["ece"]:.5f} |
| PSI of PD, train vs test | {m["psi_train_vs_test"]:.4f} |

Calibration by grade (test):

| grade | count | mean PD | observed default rate |
|---|---|---|---|
{grades}

Plots: `plots/roc.png`, `plots/calibration.png`, `plots/score_distribution.png`.

"""


def _limitations(result: TrainingResult) -> str:
    t = result.metrics["test"]
    return f"""## Limitations
- The model sees only the tabular features above. Facts that appear only in documents
  (litigation, adverse news, going-concern doubt) are not in the score; the memo
  surfaces them separately.
- Test metrics come from {t["rows"]} rows with {round(t["rows"] * t["default_rate"])} defaults; small test sets give wide
  uncertainty around AUC and calibration.
- PSI above 0.1 between training and scoring populations calls for a review; above
  0.25, for recalibration or retraining.
"""
