"""Compare two evaluation results: means with bootstrap intervals, a paired test, per-case changes,
and the regression gate CI runs.

A side is ``RUN`` (a run folder or results file with one variant x model) or
``RUN:VARIANT`` (one variant of a run that holds several). Cells pair on (case, repeat).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from assistant.eval.runner import load_run
from models.errors import UnderwriterError

BOOTSTRAP = 2000
SEED = 7


@dataclass
class Side:
    label: str
    run: dict[str, Any]
    rows: dict[tuple[str, int], dict[str, Any]]


def load_side(text: str) -> Side:
    path, variant = text, ""
    if not Path(text).exists() and ":" in text:
        path, _, variant = text.rpartition(":")
    run = load_run(Path(path))
    groups = sorted({(r["variant"], r["model"]) for r in run["rows"]})
    chosen = [g for g in groups if not variant or g[0] == variant]
    if len(chosen) != 1:
        options = ", ".join(f"{path}:{v}" for v, _ in groups)
        raise UnderwriterError(f"{text}: choose one variant x model of the run ({options})")
    rows = {(r["case_id"], r["repeat"]): r for r in run["rows"] if (r["variant"], r["model"]) == chosen[0]}
    return Side(f"{run['run_id']}:{chosen[0][0]} | {chosen[0][1]}", run, rows)


def bootstrap_interval(values: np.ndarray, rng: np.random.Generator) -> tuple[float, float]:
    if len(values) < 2:
        return (float(values.mean()), float(values.mean())) if len(values) else (float("nan"), float("nan"))
    means = rng.choice(values, size=(BOOTSTRAP, len(values)), replace=True).mean(axis=1)
    return float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))


@dataclass
class MetricComparison:
    metric: str
    higher_is_better: bool
    gate: bool
    a_mean: float | None
    a_interval: tuple[float, float] | None
    b_mean: float | None
    b_interval: tuple[float, float] | None
    pairs: int
    mean_difference: float | None
    p_value: float | None
    """Wilcoxon signed-rank on paired cells (None when every pair is equal or too few pairs)."""
    only_a: int = 0
    """Cells where only side A has a value (the metric is missing on B)."""
    only_b: int = 0


@dataclass
class Comparison:
    a: str
    b: str
    metrics: list[MetricComparison]
    case_changes: list[dict[str, Any]] = field(default_factory=list)
    shared: int = 0
    """Cells (case x repeat) both sides ran: every figure of the comparison rests on these."""
    a_cells: int = 0
    b_cells: int = 0


def compare(a_text: str, b_text: str) -> Comparison:
    """Each metric over the cells both sides scored (paired by case and repeat), never over all rows
    of each side: a side that ran other cases, or skipped a metric, cannot move a mean."""
    from scipy.stats import wilcoxon

    a, b = load_side(a_text), load_side(b_text)
    info = {**a.run["metrics"], **b.run["metrics"]}
    shared = sorted(set(a.rows) & set(b.rows))
    if not shared:
        raise UnderwriterError(f"{a.label} and {b.label} share no case: were they run on the same case set?")
    rng = np.random.default_rng(SEED)
    out = []
    changes: dict[str, dict[str, Any]] = {}
    for name in sorted(info):
        cells = [(k, a.rows[k]["metrics"].get(name), b.rows[k]["metrics"].get(name)) for k in shared]
        paired = [(k, x, y) for k, x, y in cells if x is not None and y is not None]
        va = np.array([x for _, x, _ in paired], dtype=float)
        vb = np.array([y for _, _, y in paired], dtype=float)
        diffs = vb - va
        p_value = None
        if len(diffs) >= 5 and np.any(diffs != 0):
            p_value = float(wilcoxon(diffs, zero_method="zsplit").pvalue)
        for (case_id, repeat), x, y in paired:
            if x != y:
                changes.setdefault(f"{case_id} r{repeat}", {})[name] = [x, y]
        out.append(
            MetricComparison(
                metric=name,
                higher_is_better=bool(info[name]["higher_is_better"]),
                gate=bool(info[name]["gate"]),
                a_mean=float(va.mean()) if len(va) else None,
                a_interval=bootstrap_interval(va, rng) if len(va) else None,
                b_mean=float(vb.mean()) if len(vb) else None,
                b_interval=bootstrap_interval(vb, rng) if len(vb) else None,
                pairs=len(paired),
                mean_difference=float(diffs.mean()) if len(diffs) else None,
                p_value=p_value,
                only_a=sum(x is not None and y is None for _, x, y in cells),
                only_b=sum(x is None and y is not None for _, x, y in cells),
            )
        )
    case_changes = [{"case": k, "changes": v} for k, v in sorted(changes.items())]
    return Comparison(a.label, b.label, out, case_changes, len(shared), len(a.rows), len(b.rows))


def gate(run_text: str, baseline_text: str, max_drop: float) -> tuple[bool, list[str]]:
    """Fail when a gated metric's paired mean moves the wrong way by more than ``max_drop`` (absolute,
    on metrics that are shares in [0, 1]); when the run does not cover every case of the baseline;
    or when a gated metric is scored on one side and missing on the other."""
    result = compare(baseline_text, run_text)
    failures = []
    if result.shared < result.a_cells:
        failures.append(
            f"the run covers {result.shared} of the baseline's {result.a_cells} cases: run it on the same case set"
        )
    for m in result.metrics:
        if not m.gate:
            continue
        if m.only_a or m.only_b:
            side = "run" if m.only_a else "baseline"
            failures.append(
                f"{m.metric}: scored on {max(m.only_a, m.only_b)} case(s) where the {side} has no value"
            )
            continue
        if m.a_mean is None or m.b_mean is None:
            continue
        worse = (m.a_mean - m.b_mean) if m.higher_is_better else (m.b_mean - m.a_mean)
        if worse > max_drop:
            failures.append(
                f"{m.metric}: {m.a_mean:.4f} -> {m.b_mean:.4f} over {m.pairs} paired cases "
                f"(worse by {worse:.4f} > {max_drop})"
            )
    return not failures, failures


def comparison_text(c: Comparison, limit: int = 20) -> str:
    lines = [
        f"A: {c.a}",
        f"B: {c.b}",
        f"paired over {c.shared} shared case(s) (A ran {c.a_cells}, B ran {c.b_cells})",
        "",
        f"{'metric':<22} {'A mean [95% CI]':<26} {'B mean [95% CI]':<26} {'B-A':>8} {'p':>7} {'pairs':>6}",
    ]
    for m in c.metrics:

        def cell(mean: float | None, ci: tuple[float, float] | None) -> str:
            return "—" if mean is None or ci is None else f"{mean:.3f} [{ci[0]:.3f}, {ci[1]:.3f}]"

        diff = "—" if m.mean_difference is None else f"{m.mean_difference:+.3f}"
        p = "—" if m.p_value is None else f"{m.p_value:.3f}"
        lines.append(
            f"{m.metric:<22} {cell(m.a_mean, m.a_interval):<26} {cell(m.b_mean, m.b_interval):<26} {diff:>8} {p:>7} {m.pairs:>6}"
        )
    lines += ["", f"cases that changed: {len(c.case_changes)}"]
    for change in c.case_changes[:limit]:
        parts = ", ".join(f"{k} {v[0]}->{v[1]}" for k, v in sorted(change["changes"].items()))
        lines.append(f"  {change['case']}: {parts}")
    return "\n".join(lines)
