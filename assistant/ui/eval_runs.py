"""The evaluation screen's data: the harness's runs side by side, and one case's outputs.

Reads what ``underwrite eval run`` writes (``results.json`` and ``memos/`` in a run folder);
it never runs an evaluation itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from assistant.eval.compare import bootstrap_interval
from assistant.eval.runner import RESULTS, load_run
from assistant.settings import Settings
from assistant.workspace import Workspace
from models.errors import UnderwriterError

SEED = 7


def run_folders(settings: Settings) -> dict[str, Path]:
    """Run label -> folder, for every run under WORKSPACE/eval/runs and the configured folders."""
    roots = [Workspace(settings).eval_runs_dir, *settings.ui.eval_dirs]
    found: dict[str, Path] = {}
    for root in roots:
        if not root.is_dir():
            continue
        for results in sorted(root.glob(f"*/{RESULTS}")):
            found[f"{root.name}/{results.parent.name}"] = results.parent
    return found


def side_by_side(
    folder: Path, metrics: list[str] | None = None
) -> tuple[pd.DataFrame, list[tuple[str, str, float, float, float]]]:
    """One row per variant x model, one column per metric: ``mean [low, high]`` (95% bootstrap).

    Also returns (metric, variant, mean, low, high) for the interval plot."""
    run = load_run(folder)
    rng = np.random.default_rng(SEED)
    names = metrics or [m for m, info in run["metrics"].items() if info.get("gate") or m == "llm_seconds"]
    groups = sorted({(r["variant"], r["model"]) for r in run["rows"]})
    table = []
    points = []
    for variant, model in groups:
        cells = [r for r in run["rows"] if (r["variant"], r["model"]) == (variant, model)]
        line: dict[str, Any] = {"variant": variant, "model": model, "cases": len(cells)}
        for name in names:
            values = np.array(
                [c["metrics"][name] for c in cells if c["metrics"].get(name) is not None], float
            )
            if not len(values):
                line[name] = "—"
                continue
            low, high = bootstrap_interval(values, rng)
            line[name] = f"{values.mean():.3f} [{low:.3f}, {high:.3f}]"
            points.append((name, f"{variant} · {model}", float(values.mean()), low, high))
        table.append(line)
    return pd.DataFrame(table), points


def case_ids(folder: Path) -> list[str]:
    return sorted({r["case_id"] for r in load_run(folder)["rows"]})


def drill_down(folder: Path, case_id: str) -> tuple[pd.DataFrame, str]:
    """Every variant's scores on one case, and their outputs (the memo files the run kept)."""
    run = load_run(folder)
    cells = [r for r in run["rows"] if r["case_id"] == case_id]
    if not cells:
        raise UnderwriterError(f"case {case_id!r} is not in run {run['run_id']}")
    names = sorted({k for c in cells for k in c["metrics"]})
    scores = pd.DataFrame(
        [
            {
                "variant": c["variant"],
                "model": c["model"],
                "repeat": c["repeat"],
                **{n: c["metrics"].get(n) for n in names},
            }
            for c in cells
        ]
    )
    outputs = []
    for c in cells:
        memo = folder / c["memo"] if c.get("memo") else None
        text = (
            memo.read_text(encoding="utf-8")
            if memo is not None and memo.is_file()
            else "_(output not kept with this run)_"
        )
        outputs.append(f"### {c['variant']} · {c['model']} · repeat {c['repeat']}\n\n{text}")
    return scores, "\n\n---\n\n".join(outputs)
