"""Win on real data? Every shipped real dataset, every recipe and baseline, side by side in one run.

For each dataset (Lending Club small business out of time 2010, SBA 7(a), German credit, Polish
bankruptcy) the test rows are fixed by the default split; on them this prints AUC, Brier and ECE of:

- ``previous``: the default recipe before issue 16 (early stopping and Platt on the validation period);
- each candidate forced (``xgboost``, ``scorecard``, ``blend``), tuned in the folds;
- ``chosen``: what ``underwrite train`` ships by default (the recipe's test figures);
- ``logistic raw``: scikit-learn's logistic regression on the raw columns (median-imputed,
  standardised, categories one-hot), fitted on the training period;
- ``benchmark`` where the spec names one (Lending Club: the interest rate alone; its Brier and ECE
  are a one-column logistic's);
- and, where the spec has text, the text score's measured lift in the folds: the chosen run is
  ``train(text="on")``, so this is the product's own measurement (:mod:`models.training.text_evidence`).

The chosen model's AUC gain over the benchmark on the test rows gets a 90% paired bootstrap interval.

    python -m bench.bench_real_data [--out bench/results/real_data.json] [--no-text]
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from datetime import date
from pathlib import Path

import numpy as np

from bench.machine import describe, machine
from models.data.dataset import Dataset, load_dataset
from models.data.policy import load_policy
from models.data.spec import load_spec
from models.learning import metrics
from models.training.config import TrainConfig
from models.training.fit import make_split
from models.training.train import train

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
DATASETS = (
    ("lending_club", ROOT / "data" / "lc_small_business_2007_2010.csv", date(2010, 1, 1)),
    ("sba_national", SHARED / "sba_national_sample.csv", None),
    ("german_credit", SHARED / "german_credit.csv", None),
    ("polish_bankruptcy", SHARED / "polish_bankruptcy_1year.csv", None),
)
RECIPES = ("previous", "xgboost", "scorecard", "blend", "auto")


def figures(y: np.ndarray, p: np.ndarray) -> dict:
    return {
        "auc": round(metrics.auc(y, p), 4),
        "brier": round(metrics.brier(y, p), 4),
        "ece": round(metrics.expected_calibration_error(y, p), 4),
    }


def raw_logistic(
    dataset: Dataset, train_rows: np.ndarray, test_rows: np.ndarray, columns: list[str]
) -> np.ndarray:
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    spec = dataset.spec
    numeric = [c for c in columns if c in spec.numeric]
    categorical = [c for c in columns if c in spec.categorical]
    prepare = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
            (
                "cat",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"),
                    OneHotEncoder(handle_unknown="ignore", min_frequency=10),
                ),
                categorical,
            ),
        ]
    )
    frame = dataset.frame[columns].copy()
    for c in categorical:
        frame[c] = frame[c].astype(object).where(frame[c].notna(), "missing").astype(str)
    model = make_pipeline(prepare, LogisticRegression(max_iter=5000))
    assert dataset.labels is not None
    model.fit(frame.iloc[train_rows], dataset.labels[train_rows].astype(int))
    return model.predict_proba(frame.iloc[test_rows])[:, 1]


def paired_test_gain(y: np.ndarray, ours: np.ndarray, theirs: np.ndarray, draws: int = 1000) -> dict:
    rng = np.random.default_rng(0)
    boot = []
    for _ in range(draws):
        i = rng.integers(0, len(y), len(y))
        boot.append(metrics.auc(y[i], ours[i]) - metrics.auc(y[i], theirs[i]))
    return {
        "gain": round(metrics.auc(y, ours) - metrics.auc(y, theirs), 4),
        "low": round(float(np.quantile(boot, 0.05)), 4),
        "high": round(float(np.quantile(boot, 0.95)), 4),
    }


def run_dataset(name: str, path: Path, test_from: date | None, text: bool) -> dict:
    spec = load_spec(name)
    dataset = load_dataset(path, spec, require_label=True)
    assert dataset.labels is not None
    policy, config = load_policy(spec.policy), TrainConfig(nthread=2)
    split = make_split(dataset, config, test_from)
    y_test = dataset.labels[split.test].astype(int)
    rows: dict[str, dict] = {}
    test_pd: dict[str, np.ndarray] = {}
    chosen_kind = ""
    out_text: dict | None = None
    for recipe in RECIPES:
        started = time.perf_counter()
        measure_text = recipe == "auto" and text and bool(spec.text)
        result = train(
            dataset,
            policy,
            config,
            test_from=test_from,
            model=recipe,
            refit=False,
            text="on" if measure_text else "off",
        )
        label = "chosen" if recipe == "auto" else recipe
        rows[label] = {**figures(y_test, result.test_pd), "seconds": round(time.perf_counter() - started, 1)}
        test_pd[label] = result.test_pd
        if recipe == "auto":
            chosen_kind = result.metrics["model_choice"]["chosen"]
            rows[label]["kind"] = chosen_kind
            rows[label]["folds"] = {
                k: v["auc"] for k, v in result.metrics["model_choice"]["candidates"].items()
            }
            out_text = result.metrics.get("text_feature")
    period = np.sort(np.concatenate([split.train, split.valid]))
    raw = raw_logistic(dataset, period, split.test, spec.features)
    rows["logistic raw"] = figures(y_test, raw)
    out: dict = {
        "spec": name,
        "rows": len(dataset),
        "test_rows": len(split.test),
        "split": result.metrics["split"],
        "default_rate_test": round(float(y_test.mean()), 4),
        "chosen_kind": chosen_kind,
        "results": rows,
    }
    if spec.benchmark:
        values = dataset.frame[spec.benchmark].to_numpy(dtype=float)
        alone = raw_logistic(dataset, period, split.test, [spec.benchmark])
        rows[f"{spec.benchmark} alone"] = {
            **figures(y_test, alone),
            "auc": round(metrics.auc(y_test, values[split.test]), 4),
        }
        out["chosen_vs_benchmark"] = paired_test_gain(y_test, test_pd["chosen"], values[split.test])
    if out_text is not None:
        out["text"] = out_text
    return out


def markdown(results: list[dict]) -> str:
    lines = []
    for r in results:
        lines += [
            f"### {r['spec']} ({r['test_rows']} test rows, {r['default_rate_test']:.1%} defaults; chosen: {r['chosen_kind']})",
            "",
            "| recipe | test AUC | Brier | ECE |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {k} | {v['auc']:.4f} | {v['brier']:.4f} | {v['ece']:.4f} |" for k, v in r["results"].items()
        ]
        if "chosen_vs_benchmark" in r:
            g = r["chosen_vs_benchmark"]
            lines.append(
                f"\nchosen minus benchmark, test AUC: {g['gain']:+.4f} (90% interval {g['low']:+.4f} to {g['high']:+.4f})"
            )
        if "text" in r:
            lines.append(f"\ntext ({', '.join(r['text']['columns'])}): {r['text']['verdict']}")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "real_data.json")
    parser.add_argument(
        "--no-text", action="store_true", help="skip the text lift (saves the embedding time)"
    )
    parser.add_argument("--only", help="one spec name")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    print(describe())
    results = []
    for name, path, test_from in DATASETS:
        if args.only and name != args.only:
            continue
        started = time.perf_counter()
        results.append(run_dataset(name, path, test_from, not args.no_text))
        print(markdown(results[-1:]), f"({time.perf_counter() - started:.0f}s)", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {"machine": machine(), "command": "python -m bench.bench_real_data", "datasets": results},
            indent=2,
        )
    )
    args.out.with_suffix(".md").write_text(markdown(results))
    print(f"-> {args.out}")


if __name__ == "__main__":
    main()
