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


@dataclass
class Comparison:
    a: str
    b: str
    metrics: list[MetricComparison]
    case_changes: list[dict[str, Any]] = field(default_factory=list)


def compare(a_text: str, b_text: str) -> Comparison:
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

        def values(side: Side, name: str = name) -> np.ndarray:
            vals = [r["metrics"].get(name) for r in side.rows.values()]
            return np.array([v for v in vals if v is not None], dtype=float)

        va, vb = values(a), values(b)
        pairs = [(a.rows[k]["metrics"].get(name), b.rows[k]["metrics"].get(name)) for k in shared]
        pairs = [(x, y) for x, y in pairs if x is not None and y is not None]
        diffs = np.array([y - x for x, y in pairs], dtype=float)
        p_value = None
        if len(diffs) >= 5 and np.any(diffs != 0):
            p_value = float(wilcoxon(diffs, zero_method="zsplit").pvalue)
        for (case_id, repeat), (x, y) in zip(shared, pairs, strict=False):
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
                pairs=len(pairs),
                mean_difference=float(diffs.mean()) if len(diffs) else None,
                p_value=p_value,
            )
        )
    case_changes = [{"case": k, "changes": v} for k, v in sorted(changes.items())]
    return Comparison(a.label, b.label, out, case_changes)


def gate(run_text: str, baseline_text: str, max_drop: float) -> tuple[bool, list[str]]:
    """Fail when a gated metric's mean moves the wrong way by more than ``max_drop``
    (absolute, on metrics that are shares in [0, 1])."""
    result = compare(baseline_text, run_text)
    failures = []
    for m in result.metrics:
        if not m.gate or m.a_mean is None or m.b_mean is None:
            continue
        worse = (m.a_mean - m.b_mean) if m.higher_is_better else (m.b_mean - m.a_mean)
        if worse > max_drop:
            failures.append(
                f"{m.metric}: {m.a_mean:.4f} -> {m.b_mean:.4f} (worse by {worse:.4f} > {max_drop})"
            )
    return not failures, failures


def comparison_text(c: Comparison, limit: int = 20) -> str:
    lines = [
        f"A: {c.a}",
        f"B: {c.b}",
        "",
        f"{'metric':<22} {'A mean [95% CI]':<26} {'B mean [95% CI]':<26} {'B-A':>8} {'p':>7}",
    ]
    for m in c.metrics:

        def cell(mean: float | None, ci: tuple[float, float] | None) -> str:
            return "—" if mean is None or ci is None else f"{mean:.3f} [{ci[0]:.3f}, {ci[1]:.3f}]"

        diff = "—" if m.mean_difference is None else f"{m.mean_difference:+.3f}"
        p = "—" if m.p_value is None else f"{m.p_value:.3f}"
        lines.append(
            f"{m.metric:<22} {cell(m.a_mean, m.a_interval):<26} {cell(m.b_mean, m.b_interval):<26} {diff:>8} {p:>7}"
        )
    lines += ["", f"cases that changed: {len(c.case_changes)}"]
    for change in c.case_changes[:limit]:
        parts = ", ".join(f"{k} {v[0]}->{v[1]}" for k, v in sorted(change["changes"].items()))
        lines.append(f"  {change['case']}: {parts}")
    return "\n".join(lines)
