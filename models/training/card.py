"""The model card: what the model was trained on, how well it does, and what it is not for."""

from __future__ import annotations

from typing import TYPE_CHECKING

from models.learning.scorecard import BASE_ODDS, BASE_POINTS, PDO

if TYPE_CHECKING:
    from models.data.dataset import Dataset
    from models.training.fit import TrainingResult


def model_card(result: TrainingResult, dataset: Dataset) -> str:
    return (
        _use_and_data(result, dataset)
        + _model(result, dataset)
        + model_choice_section(result.metrics)
        + _points_section(result)
        + _test_metrics(result)
        + _limitations(result)
    )


def _use_and_data(result: TrainingResult, dataset: Dataset) -> str:
    spec, m = dataset.spec, result.metrics
    return f"""# Model card: {spec.name}

## Intended use
Ranks {"merchants" if spec.name == "merchant_portfolio" else "applicants"} by probability of default (PD) to support, not replace, an
underwriter's decision. Grades and bands come from policy `{result.policy.label}`; reason
codes are {REASONS[result.predictor.kind]}. Not for use on populations unlike the training data, for pricing
without a separate validation, or as the sole basis of an adverse decision.

## Data
- Dataset: {spec.description.strip() or spec.name}
- Source: {spec.source or dataset.source}
- File: `{dataset.source}` (SHA-256 `{dataset.sha256[:16]}…`), {len(dataset)} labelled rows
  ({m["rows"]["skipped_unlabelled"]} unlabelled rows skipped)
- Split: {m["split"]}; rows {"training period / fold validation" if "model_choice" in m else "train / validation"} / test = {m["rows"]["train"]} / {m["rows"]["valid"]} / {m["rows"]["test"]}

"""


REASONS = {
    "xgboost": "the features whose exact TreeSHAP contribution raised the PD above the\nmodel's average",
    "scorecard": "the features whose attribute scored the most points below that feature's\nbest attribute",
    "blend": "the features with the largest weighted sum of the two members' contributions\n"
    "(TreeSHAP for the trees, points below the best attribute for the scorecard)",
}


def _model(result: TrainingResult, dataset: Dataset) -> str:
    spec, m = dataset.spec, result.metrics
    features = "\n".join(
        f"- `{f}`: {spec.display_name(f)}"
        + (f" (monotone {spec.monotone[f]:+d})" if spec.monotone.get(f) else "")
        for f in spec.features
    )
    cal = f"(a = {result.calibrator.a:.4f}, b = {result.calibrator.b:.4f})"
    if "model_choice" not in m:
        what = f"""XGBoost, {m["trees"]} trees of depth <= {result.params["max_depth"]}, early stopping on validation precision-recall AUC,
class weight {result.params["scale_pos_weight"]:.2f} on defaults, monotone constraints from the spec, then
Platt calibration on the validation split {cal}. {_refit_sentence(m.get("shipped"))}"""
    else:
        shipped = m["shipped"]
        what = f"""{KIND_NAMES[result.predictor.kind]}, chosen by rolling-origin validation over the training period
(below), with Platt calibration on the chosen candidate's out-of-fold margins {cal}.
**The shipped model** {"is the recipe refit on " + str(shipped["rows"]) + " labelled rows" + (" through " + shipped["through"] if shipped["through"] else "") + (" (the test period included)" if shipped["includes_test_period"] else "") if shipped["refit"] else "is the one measured on the test rows (`--no-refit`)"};
the test figures below are the recipe's, fitted on the training period only."""
    return f"""## Model
{what}

Features:
{features}

"""


def _refit_sentence(shipped: dict | None) -> str:
    if not shipped or not shipped["refit"]:
        return "The shipped model is the one measured on the test rows (no refit)."
    return (
        f"**The shipped model** is refit with the same settings and tree count on {shipped['rows']} labelled "
        "rows (the test period included); the test figures below are the measured model's."
    )


KIND_NAMES = {
    "xgboost": "XGBoost (small-data settings, monotone constraints from the spec)",
    "scorecard": "A points scorecard (optimal WoE bins, logistic regression; `scorecard.json` lists the points)",
    "blend": "A blend of XGBoost and a points scorecard (weighted calibrated log-odds; `blend.json`)",
}


def model_choice_section(m: dict) -> str:
    """The candidates' fold figures, and which one was chosen."""
    choice = m.get("model_choice")
    if not choice:
        return ""
    rows = []
    for kind, fig in choice["candidates"].items():
        cells = [
            f"{fig[k]['mean']:.4f} [{fig[k]['low']:.4f}, {fig[k]['high']:.4f}]"
            for k in ("auc", "brier", "log_loss")
        ]
        mark = " (chosen)" if kind == choice["chosen"] else ""
        rows.append(
            f"| {kind}{mark} | {' | '.join(cells)} | {', '.join(f'{v:.3f}' for v in fig['auc']['folds'])} |"
        )
    folds = "\n".join(
        f"- {label} ({n} rows)" for label, n in zip(choice["folds"], choice["fold_rows"], strict=True)
    )
    text = m.get("text_feature")
    text_line = f"\nText as a feature: {text['verdict']}\n" if text else ""
    return f"""## Model choice (validation folds inside the training period; no test row)
{folds}

| candidate | AUC mean [90% interval] | Brier (uncalibrated) | log loss (uncalibrated) | AUC per fold |
|---|---|---|---|---|
{chr(10).join(rows)}
{text_line}
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
{_benchmark_row(t)}
Calibration by grade (test):

| grade | count | mean PD | observed default rate |
|---|---|---|---|
{grades}

Plots: `plots/roc.png`, `plots/calibration.png`, `plots/score_distribution.png`{", `plots/model_choice.png` (the candidates' fold AUC)" if "model_choice" in m else ""}.

"""


def _points_section(result: TrainingResult) -> str:
    """The scorecard's points per attribute (a scorecard or a blend's scorecard member)."""
    from models.learning.predictors import BlendPredictor, ScorecardPredictor, base_predictor

    predictor = base_predictor(result.predictor)
    card = predictor.card if isinstance(predictor, BlendPredictor | ScorecardPredictor) else None
    if card is None:
        return ""
    scorecard = card.card if isinstance(card, ScorecardPredictor) else card
    used = {f.name for f in scorecard.features if f.coefficient != 0}
    rows = [r for r in scorecard.points_table() if r["feature"] in used]
    dropped = sorted({f.name for f in scorecard.features} - used)
    lines = "\n".join(
        f"| `{r['feature']}` | {r['bin']} | {r['woe']:+.3f} | {r['points']:.1f} |" for r in rows
    )
    note = f"\nScreened out (information value too low, 0 points): {', '.join(dropped)}.\n" if dropped else ""
    return f"""## Scorecard points (higher is safer; {BASE_POINTS:.0f} points = odds {BASE_ODDS:.0f}:1, {PDO:.0f} points double them)
| feature | attribute | WoE | points |
|---|---|---|---|
{lines}
{note}
"""


def _benchmark_row(t: dict) -> str:
    bench = t.get("benchmark")
    if not bench:
        return ""
    return f"| AUC of `{bench['column']}` alone (the lender's own price or score) | {bench['auc']:.4f} |\n"


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
