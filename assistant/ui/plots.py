"""The workbench's figures (matplotlib, headless): small, labelled, and the same colours throughout.

Each function takes plain numbers and returns a Figure; the caller shows it and closes it.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

RISK = "#c0392b"
SAFE = "#1f7a4d"
INK = "#1f3b57"
MUTED = "#8a96a3"
BAND_COLOURS = {"approve": SAFE, "refer": "#d68910", "decline": RISK}


def _figure(width: float, height: float) -> tuple[Figure, plt.Axes]:
    fig, ax = plt.subplots(figsize=(width, height), dpi=100)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return fig, ax


def attribution_waterfall(
    base_margin: float,
    items: Sequence[tuple[str, float]],
    pd_of_margin: dict[float, float],
) -> Figure:
    """What moved the score: from the model's baseline (its mean log-odds over the training data),
    each input's contribution (largest first, the rest summed as "other inputs") to this case's
    log-odds. Red raises risk, green lowers it. ``pd_of_margin`` gives the case's PD for the label."""
    labels = ["model baseline", *[name for name, _ in items], "this case"]
    fig, ax = _figure(6.4, 0.42 * len(labels) + 0.9)
    running = base_margin
    y = np.arange(len(labels))[::-1]
    ax.barh(y[0], base_margin, color=MUTED, height=0.6)
    for i, (_, value) in enumerate(items, start=1):
        ax.barh(y[i], value, left=running, color=RISK if value > 0 else SAFE, height=0.6)
        ax.text(
            running + value + (0.02 if value >= 0 else -0.02),
            y[i],
            f"{value:+.2f}",
            va="center",
            ha="left" if value >= 0 else "right",
            fontsize=8,
        )
        running += value
    ax.barh(y[-1], running, color=INK, height=0.6)
    end = pd_of_margin.get(running)
    if end is not None:
        ax.text(running, y[-1], f"  PD {end:.1%}", va="center", fontsize=8, weight="bold")
    ax.set_yticks(y, labels, fontsize=8)
    ax.axvline(0, color="#ccc", lw=0.8)
    ax.set_xlabel("log-odds of default (model contributions, TreeSHAP)", fontsize=8)
    ax.tick_params(axis="x", labelsize=8)
    low, high = ax.get_xlim()
    pad = (high - low) * 0.12
    ax.set_xlim(low - pad, high + pad)
    fig.tight_layout()
    return fig


def score_position(portfolio_pd: np.ndarray, case_pd: float, grade_edges: Sequence[float]) -> Figure:
    """Where this case sits in the portfolio's score distribution (log PD), with the grade edges."""
    fig, ax = _figure(6.4, 2.3)
    low = max(float(min(portfolio_pd.min(), case_pd)), 1e-4)
    bins = np.logspace(np.log10(low), np.log10(max(float(portfolio_pd.max()), case_pd) * 1.05), 40)
    ax.hist(portfolio_pd, bins=list(bins), color="#b8c7d6", edgecolor="white")
    for edge in grade_edges:
        if bins[0] < edge < bins[-1]:
            ax.axvline(edge, color="#ddd", lw=0.8, ls="--")
    share_below = float((portfolio_pd < case_pd).mean())
    ax.axvline(case_pd, color=RISK, lw=2)
    ax.text(
        case_pd,
        ax.get_ylim()[1] * 0.92,
        f" this case: PD {case_pd:.2%}, riskier than {share_below:.0%}",
        color=RISK,
        fontsize=8,
        ha="left" if share_below < 0.6 else "right",
    )
    ax.set_xscale("log")
    ax.set_xlabel("PD (log scale); dashed lines: grade edges", fontsize=8)
    ax.set_ylabel("merchants", fontsize=8)
    ax.tick_params(labelsize=8)
    fig.tight_layout()
    return fig


def sparklines(months: Sequence[str], series: dict[str, Sequence[float]]) -> Figure:
    """Monthly volume, refunds and disputes as small multiples, last value labelled."""
    fig, axes = plt.subplots(1, len(series), figsize=(6.4, 1.5), dpi=100)
    axes = np.atleast_1d(axes)
    x = np.arange(len(months))
    for ax, (name, values) in zip(axes, series.items(), strict=True):
        v = np.asarray(values, dtype=float)
        ax.plot(x, v, color=INK, lw=1.4)
        ax.fill_between(x, v, color=INK, alpha=0.08)
        if len(v):
            ax.plot(x[-1], v[-1], "o", color=RISK, ms=3)
            ax.set_title(f"{name}: {v[-1]:,.0f}", fontsize=8, loc="left")
        ax.set_xticks([])
        ax.set_yticks([])
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
    if len(months):
        fig.text(0.01, 0.01, f"{months[0]} to {months[-1]}", fontsize=7, color=MUTED)
    fig.tight_layout()
    return fig


def mix_bars(grade_mix: dict[str, int], band_mix: dict[str, int]) -> Figure:
    fig, (left, right) = plt.subplots(1, 2, figsize=(7.2, 2.6), dpi=100, width_ratios=[2, 1])
    left.bar(list(grade_mix), list(grade_mix.values()), color=INK)
    left.set_title("Grade mix", fontsize=10, loc="left")
    right.bar(list(band_mix), list(band_mix.values()), color=[BAND_COLOURS.get(b, INK) for b in band_mix])
    right.set_title("Band mix", fontsize=10, loc="left")
    for ax in (left, right):
        ax.tick_params(labelsize=8)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    fig.tight_layout()
    return fig


def calibration_by_grade(
    grades: Sequence[str], mean_pd: Sequence[float], observed: Sequence[float]
) -> Figure:
    """Mean PD against the observed default rate per grade, with the diagonal of perfect calibration."""
    fig, ax = _figure(3.6, 3.2)
    top = max([*mean_pd, *observed, 0.01]) * 1.15
    ax.plot([0, top], [0, top], color="#bbb", ls="--", lw=1)
    ax.plot(mean_pd, observed, "o-", color=RISK)
    for g, x, y in zip(grades, mean_pd, observed, strict=True):
        ax.annotate(g, (x, y), textcoords="offset points", xytext=(4, -10), fontsize=8)
    ax.set_xlabel("mean PD", fontsize=8)
    ax.set_ylabel("observed default rate", fontsize=8)
    ax.tick_params(labelsize=8)
    fig.tight_layout()
    return fig


def metric_intervals(rows: Sequence[tuple[str, str, float, float, float]]) -> Figure:
    """Evaluation: (metric, variant, mean, low, high) as dots with 95% intervals, one panel per metric."""
    metrics = list(dict.fromkeys(r[0] for r in rows))
    variants = list(dict.fromkeys(r[1] for r in rows))
    columns = min(5, max(len(metrics), 1))
    lines = -(-max(len(metrics), 1) // columns)
    fig, axes = plt.subplots(
        lines, columns, figsize=(2.3 * columns, 2.0 * lines + 0.4), dpi=100, squeeze=False
    )
    axes = axes.ravel()
    for ax in axes[len(metrics) :]:
        ax.set_visible(False)
    colours = plt.get_cmap("tab10")
    for ax, metric in zip(axes, metrics, strict=False):
        for i, variant in enumerate(variants):
            for m, v, mean, low, high in rows:
                if m == metric and v == variant:
                    ax.errorbar(
                        i, mean, yerr=[[mean - low], [high - mean]], fmt="o", color=colours(i), capsize=3
                    )
        ax.set_title(metric, fontsize=8)
        ax.set_xticks(range(len(variants)), [str(i + 1) for i in range(len(variants))], fontsize=7)
        ax.tick_params(labelsize=7)
    fig.text(0.01, 0.01, "  ".join(f"{i + 1}: {v}" for i, v in enumerate(variants)), fontsize=7)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig


def alert_trend(merchant: str, frame: pd.DataFrame) -> Figure:
    """A merchant's PD and watched features across the monitored months, one small panel each."""
    columns = [c for c in frame.columns if c != "month"]
    fig, axes = plt.subplots(1, max(1, len(columns)), figsize=(2.0 * max(1, len(columns)), 1.9), dpi=100)
    axes = np.atleast_1d(axes)
    x = np.arange(len(frame))
    for ax, column in zip(axes, columns, strict=False):
        v = frame[column].to_numpy(dtype=float)
        ax.plot(x, v, color=RISK if column == "pd" else INK, lw=1.4, marker="o", ms=2)
        last = f"{v[-1]:.2%}" if column == "pd" and len(v) else (f"{v[-1]:,.4g}" if len(v) else "")
        ax.set_title(f"{column}: {last}", fontsize=7, loc="left")
        ax.set_xticks([])
        ax.tick_params(labelsize=6)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    if len(frame):
        fig.text(
            0.01,
            0.01,
            f"{merchant}: {frame['month'].iloc[0]} to {frame['month'].iloc[-1]}",
            fontsize=7,
            color=MUTED,
        )
    fig.tight_layout()
    return fig
