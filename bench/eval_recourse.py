"""How often does a refer or decline have a recourse, and does every one hold when re-scored?

For every applicant of the demo workspace (``make run`` or ``underwrite demo`` builds it) whose band is
refer or decline: the recourse search (``models.scoring.recourse``), then each suggested change applied to the
applicant's row and scored again through the plain scoring path. Reported: the share with a feasible
recourse (by band), how many options were checked and how many held, the features suggested, and the
seconds per case. Baseline named in the same run: the share a one-feature search alone reaches.

Run: ``.venv/bin/python bench/eval_recourse.py [--workspace workspace]``; writes bench/results/recourse.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from assistant.settings import load_settings
from assistant.workspace import Workspace
from bench.machine import describe
from models.data.policy import BANDS
from models.scoring.explanation import explain_row
from models.store.artifacts import load_model

OUT = Path(__file__).resolve().parent / "results" / "recourse.json"


def main() -> None:
    print(describe(), flush=True)
    parser = argparse.ArgumentParser()
    parser.add_argument("--workspace", type=Path, default=Path("workspace"))
    args = parser.parse_args()
    workspace = Workspace(load_settings(None, workspace=args.workspace, threads=2))
    model = load_model(workspace.model_dir)
    frame = pd.read_csv(workspace.portfolio.merchants, dtype={"mcc": str, "merchant_id": str})
    applicants = frame[frame["status"] == "applicant"].reset_index(drop=True)
    by_band: dict[str, list[int]] = {"refer": [0, 0], "decline": [0, 0]}
    checked = held = single = 0
    features: Counter[str] = Counter()
    started = time.perf_counter()
    for i in range(len(applicants)):
        row = applicants.iloc[[i]].reset_index(drop=True)
        score = explain_row(model, row, 2)
        if score.band == "approve":
            continue
        r = score.recourse
        by_band[score.band][0] += 1
        by_band[score.band][1] += int(r["feasible"])
        single += int(r["feasible"] and len(r["options"][0]["changes"]) == 1)
        for option in r["options"]:
            changed = row.copy()
            for c in option["changes"]:
                changed[c["feature"]] = changed[c["feature"]].astype(float)
                changed.loc[0, c["feature"]] = c["proposed"]
                features[c["feature"]] += 1
            checked += 1
            held += int(
                BANDS.index(explain_row(model, changed, 2, with_recourse=False).band)
                <= BANDS.index(r["target"])
            )
    cases = sum(n for n, _ in by_band.values())
    feasible = sum(f for _, f in by_band.values())
    result = {
        "workspace": str(args.workspace),
        "model": model.label,
        "applicants": len(applicants),
        "refer_or_decline": cases,
        "feasible": feasible,
        "feasible_share": round(feasible / max(cases, 1), 4),
        "by_band": {
            b: {"cases": n, "feasible": f, "share": round(f / max(n, 1), 4)} for b, (n, f) in by_band.items()
        },
        "baseline_one_feature_share": round(single / max(cases, 1), 4),
        "options_checked": checked,
        "options_that_held_when_rescored": held,
        "features_suggested": dict(features.most_common()),
        "seconds_per_case": round((time.perf_counter() - started) / max(cases, 1), 3),
        "machine": describe(),
        "command": ".venv/bin/python bench/eval_recourse.py",
    }
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
