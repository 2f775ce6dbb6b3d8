"""Scoring and reason-code throughput for a 100k-merchant portfolio.

Baselines, measured in the same run on the same rows:
  * plain XGBoost prediction (``Booster.inplace_predict``) for scoring;
  * XGBoost exact TreeSHAP (``pred_contribs=True``) on every row for reasons.

Also measures the reference model size quoted in the issue (300 trees of
depth 6) so the effect of the default depth cap is visible, and how often
XGBoost's approximate contributions would pick the same four reasons.

Run: ``.venv/bin/python bench/bench_scoring.py [--rows 100000] [--threads 2]``
Writes bench/results/scoring.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import xgboost as xgb

from assistant.jobs.modeling import train_model
from assistant.settings import load_settings
from models.demo_data.merchants import generate_merchants
from models.scoring.score import contributions, score_matrix, top_reasons
from models.store.artifacts import load_model

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.machine import describe, machine


def timed(fn, repeat: int = 1):  # type: ignore[no-untyped-def]
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    print(describe(), flush=True)
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--reference-rows",
        type=int,
        default=20_000,
        help="rows for the slow 300x6 reference model (per-row cost is extrapolated)",
    )
    args = parser.parse_args()
    n, threads = args.rows, args.threads
    results: dict = {
        "rows": n,
        "threads": threads,
        "machine": machine(),
        "xgboost": xgb.__version__,
    }

    tmp = tempfile.TemporaryDirectory()
    tables = generate_merchants(20_000, np.random.default_rng(1))
    data = Path(tmp.name) / "train.csv"
    tables.merchants.to_csv(data, index=False)
    settings = load_settings(None, workspace=Path(tmp.name), threads=threads)
    outcome = train_model(  # the xgboost kind: this benchmark measures TreeSHAP reasons against plain predict
        settings,
        spec="merchant_portfolio",
        data=data,
        out=Path(tmp.name) / "m",
        progress=False,
        model="xgboost",
    )
    model = load_model(outcome.version_dir, nthread=threads)
    portfolio = generate_merchants(n, np.random.default_rng(2)).merchants
    x, _ = model.encoder.transform(portfolio)
    results["model"] = {
        "trees": outcome.result.metrics["trees"],
        "max_depth": outcome.result.params["max_depth"],
    }
    print(
        f"model: {results['model']['trees']} trees, depth <= {results['model']['max_depth']}; {n:,} merchants; "
        f"{threads} threads"
    )

    booster = model.booster
    booster.set_param({"nthread": threads})
    t_plain, _ = timed(lambda: booster.inplace_predict(x, predict_type="margin"), repeat=3)
    t_score, (scored, _) = timed(
        lambda: score_matrix(model, x, portfolio, nthread=threads, reasons="none"), repeat=3
    )
    print(
        f"scoring   plain inplace_predict {n / t_plain:>10,.0f} rows/s | PD+grade+band+flags "
        f"{n / t_score:>10,.0f} rows/s | ratio {t_score / t_plain:.2f}x the baseline's time"
    )

    t_contrib, _ = timed(lambda: contributions(model, x, threads))
    t_all, (full, _) = timed(lambda: score_matrix(model, x, portfolio, nthread=threads, reasons="all"))
    t_adverse, (adverse, _) = timed(
        lambda: score_matrix(model, x, portfolio, nthread=threads, reasons="adverse")
    )
    share = float((scored["band"] != "approve").mean())
    same = bool(
        (
            full.loc[full["band"] != "approve", "reason_codes"]
            == adverse.loc[adverse["band"] != "approve", "reason_codes"]
        ).all()
    )
    print(
        f"reasons   pred_contribs every row {t_contrib:6.1f}s | score+reasons, all rows {t_all:6.1f}s "
        f"(ratio {t_all / t_contrib:.2f}) | adverse rows only ({share:.0%}) {t_adverse:6.1f}s "
        f"(ratio {t_adverse / t_contrib:.2f}); adverse reasons identical: {same}"
    )

    _, (one_thread, _) = timed(
        lambda: score_matrix(
            load_model(outcome.version_dir, nthread=1),
            x[:20_000],
            portfolio.iloc[:20_000].reset_index(drop=True),
            nthread=1,
        )
    )
    identical = bool(one_thread.equals(full.iloc[:20_000].reset_index(drop=True)))
    print(
        f"determinism: scores and reasons identical with 1 and {threads} threads on 20,000 rows: {identical}"
    )

    m = min(args.reference_rows, n)
    d_train = xgb.DMatrix(
        x[:20_000],
        label=(np.random.default_rng(3).random(20_000) < 0.1),
        nthread=threads,
        feature_names=model.encoder.feature_names,
        feature_types=model.encoder.feature_types,
        enable_categorical=True,
    )
    reference = xgb.train(
        {
            "max_depth": 6,
            "eta": 0.05,
            "objective": "binary:logistic",
            "nthread": threads,
            "tree_method": "hist",
        },
        d_train,
        300,
    )
    d_ref = xgb.DMatrix(
        x[:m],
        nthread=threads,
        feature_names=model.encoder.feature_names,
        feature_types=model.encoder.feature_types,
        enable_categorical=True,
    )
    t_ref, exact = timed(lambda: reference.predict(d_ref, pred_contribs=True))
    _, approx = timed(lambda: reference.predict(d_ref, pred_contribs=True, approx_contribs=True))
    agree = float((top_reasons(exact.astype(float)) == top_reasons(approx.astype(float))).all(axis=1).mean())
    per_row_ref, per_row_ours = t_ref / m * 1000, t_contrib / n * 1000
    print(
        f"reference 300 trees x depth 6: exact TreeSHAP {per_row_ref:.3f} ms/row -> {per_row_ref * n / 1000:.0f}s "
        f"for {n:,} rows; default model {per_row_ours:.3f} ms/row ({per_row_ref / per_row_ours:.1f}x cheaper)"
    )
    print(f"approx_contribs would give the same top-4 reasons for only {agree:.1%} of rows (not used)")

    results.update(
        {
            "scoring": {
                "plain_rows_per_s": n / t_plain,
                "ours_rows_per_s": n / t_score,
                "ratio": t_score / t_plain,
            },
            "reasons": {
                "pred_contribs_all_s": t_contrib,
                "ours_all_s": t_all,
                "ours_adverse_s": t_adverse,
                "adverse_share": share,
                "adverse_identical": same,
                "threads_identical": identical,
            },
            "reference_300x6": {
                "ms_per_row": per_row_ref,
                "projected_s": per_row_ref * n / 1000,
                "approx_top4_agreement": agree,
                "rows_measured": m,
            },
        }
    )
    out = Path(__file__).parent / "results" / "scoring.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"wrote {out}")
    tmp.cleanup()


if __name__ == "__main__":
    main()
