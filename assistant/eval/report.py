"""Evaluation reports: Markdown, and a self-contained HTML page with plots and per-case drill-down."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Any

from assistant.eval.runner import load_run


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.0f}" if value.is_integer() and abs(value) >= 1 else f"{value:.3f}"
    return str(value)


def markdown_report(run: dict[str, Any]) -> str:
    groups = list(run["summary"])
    metrics = sorted({m for g in groups for m in run["summary"][g]["means"]})
    lines = [
        f"# Evaluation {run['run_id']}",
        "",
        f"Cases: {run['cases']['set']} v{run['cases']['version']} ({run['cases']['count']} cases, "
        f"sha256 {run['cases']['sha256'][:12]}); repeats {run['repeats']}; "
        f"{run['timing']['seconds']:.1f} s, cache {run['timing']['cache_hits']} hits / "
        f"{run['timing']['cache_misses']} misses.",
        "",
        "| metric | " + " | ".join(groups) + " |",
        "|---|" + "---|" * len(groups),
    ]
    for m in metrics:
        better = "↑" if run["metrics"].get(m, {}).get("higher_is_better", True) else "↓"
        lines.append(
            f"| {m} {better} | " + " | ".join(_fmt(run["summary"][g]["means"].get(m)) for g in groups) + " |"
        )
    lines += [
        "",
        "Outcome alignment (historical cases): AUC of the PD, of the memo's risk language, of both.",
        "",
    ]
    lines += [
        "| group | cases | AUC PD | AUC risk language | AUC blend | gain |",
        "|---|---|---|---|---|---|",
    ]
    for g in groups:
        o = run["summary"][g]["outcome_alignment"]
        lines.append(
            f"| {g} | {_fmt(o.get('cases_with_outcome'))} | {_fmt(o.get('auc_pd'))} | "
            f"{_fmt(o.get('auc_risk_language'))} | {_fmt(o.get('auc_blend'))} | {_fmt(o.get('blend_gain'))} |"
        )
    if run.get("judge"):
        a = run["judge"]["agreement_with_human_labels"]
        lines += [
            "",
            f"Judge {run['judge']['model']} ({run['judge']['repeats']} repeat(s)): agreement with "
            f"{a['examples']} human-labelled narratives: Spearman {_fmt(a['spearman'])}, exact {_fmt(a['exact_agreement'])}.",
        ]
    lines += ["", "Metrics:", ""]
    lines += [f"- `{name}`: {info['description']}" for name, info in sorted(run["metrics"].items())]
    return "\n".join(lines) + "\n"


def _plot(run: dict[str, Any]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = list(run["summary"])
    metrics = [m for m, i in sorted(run["metrics"].items()) if i["gate"]]
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(metrics) + 1.2))
    height = 0.8 / max(len(groups), 1)
    for k, g in enumerate(groups):
        means = run["summary"][g]["means"]
        ax.barh(
            [i + k * height for i in range(len(metrics))],
            [means.get(m) or 0 for m in metrics],
            height=height,
            label=g,
        )
    ax.set_yticks([i + 0.4 - height / 2 for i in range(len(metrics))], metrics)
    ax.set_xlim(0, 1)
    ax.invert_yaxis()
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title("Gated metrics (share, higher is better except leaks)")
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def html_report(run: dict[str, Any], folder: Path) -> str:
    md = markdown_report(run)
    rows_html = []
    for r in run["rows"]:
        memo_path = folder / r["memo"]
        memo = memo_path.read_text(encoding="utf-8") if memo_path.is_file() else "(memo file missing)"
        metrics = ", ".join(f"{k}={_fmt(v)}" for k, v in sorted(r["metrics"].items()))
        rows_html.append(
            f"<details><summary>{html.escape(r['case_id'])} · {html.escape(r['variant'])} · {html.escape(r['model'])}"
            f" · r{r['repeat']}</summary><p><code>{html.escape(metrics)}</code></p><pre>{html.escape(memo)}</pre></details>"
        )
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>'
        + html.escape(run["run_id"])
        + "</title><style>body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto}"
        "pre{white-space:pre-wrap;background:#f6f6f6;padding:.5rem}</style></head><body>\n"
        + f"<pre>{html.escape(md)}</pre>\n"
        + f'<img alt="metric means" src="data:image/png;base64,{_plot(run)}">\n<h2>Cases</h2>\n'
        + "\n".join(rows_html)
        + "\n</body></html>\n"
    )


def write_reports(folder: Path) -> tuple[Path, Path]:
    run = load_run(folder)
    md_path, html_path = folder / "report.md", folder / "report.html"
    md_path.write_text(markdown_report(run), encoding="utf-8")
    html_path.write_text(html_report(run, folder), encoding="utf-8")
    return md_path, html_path
