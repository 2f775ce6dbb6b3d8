"""Model report plots as PNG bytes (matplotlib, headless)."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from models.learning import metrics


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=110, metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


def roc_plot(y: np.ndarray, p: np.ndarray) -> bytes:
    order = np.argsort(-p, kind="stable")
    ys = np.asarray(y)[order]
    tpr = np.concatenate([[0], np.cumsum(ys) / max(ys.sum(), 1)])
    fpr = np.concatenate([[0], np.cumsum(1 - ys) / max((1 - ys).sum(), 1)])
    fig, ax = plt.subplots(figsize=(4.5, 4.2))
    ax.plot(fpr, tpr, color="#1f5fa8", lw=2, label=f"model (AUC {metrics.auc(y, p):.3f})")
    ax.plot([0, 1], [0, 1], color="#999", ls="--", lw=1, label="random")
    ax.set(xlabel="False positive rate", ylabel="True positive rate", title="ROC, test set")
    ax.legend(loc="lower right")
    return _png(fig)


def calibration_plot(y: np.ndarray, p: np.ndarray) -> bytes:
    table = metrics.calibration_bins(y, p, bins=10)
    fig, ax = plt.subplots(figsize=(4.5, 4.2))
    top = float(max(table["mean_pd"].max(), table["observed"].max()) * 1.1)
    ax.plot([0, top], [0, top], color="#999", ls="--", lw=1, label="perfect calibration")
    ax.plot(table["mean_pd"], table["observed"], "o-", color="#c0392b", label="test deciles")
    ax.set(xlabel="Mean predicted PD", ylabel="Observed default rate", title="Calibration, test set")
    ax.legend(loc="upper left")
    return _png(fig)


def score_distribution_plot(y: np.ndarray, p: np.ndarray, train_p: np.ndarray) -> bytes:
    fig, ax = plt.subplots(figsize=(6, 3.6))
    bins = np.logspace(np.log10(max(min(p.min(), train_p.min()), 1e-5)), 0, 40)
    ax.hist(train_p, bins=list(bins), density=True, histtype="step", color="#777", lw=1.5, label="train, all")
    ax.hist(p[y == 0], bins=list(bins), density=True, alpha=0.5, color="#1f5fa8", label="test, repaid")
    ax.hist(p[y == 1], bins=list(bins), density=True, alpha=0.5, color="#c0392b", label="test, defaulted")
    ax.set_xscale("log")
    ax.set(xlabel="PD (log scale)", ylabel="density", title="Score distribution")
    ax.legend()
    return _png(fig)


def model_choice_plot(choice: dict, test_auc: float, benchmark: dict | None = None) -> bytes:
    """Each candidate's fold AUC (mean, 90% interval, every fold), the chosen one marked, beside the
    chosen recipe's test AUC and the benchmark column's where the spec names one."""
    kinds = list(choice["candidates"])
    fig, ax = plt.subplots(figsize=(8, 3.6))
    for i, kind in enumerate(kinds):
        auc = choice["candidates"][kind]["auc"]
        chosen = kind == choice["chosen"]
        color = "#c0392b" if chosen else "#1f5fa8"
        ax.errorbar(
            [i],
            [auc["mean"]],
            yerr=[[auc["mean"] - auc["low"]], [auc["high"] - auc["mean"]]],
            fmt="o",
            color=color,
            capsize=5,
            lw=2,
            label="fold mean, 90% interval" if i == 0 else None,
        )
        ax.scatter(
            [i + 0.12] * len(auc["folds"]),
            auc["folds"],
            s=12,
            color="#777",
            label="each fold" if i == 0 else None,
        )
    ax.axhline(test_auc, color="#c0392b", ls="--", lw=1, label=f"chosen, test ({test_auc:.3f})")
    if benchmark:
        ax.axhline(
            benchmark["auc"],
            color="#999",
            ls=":",
            lw=1.5,
            label=f"{benchmark['column']} alone, test ({benchmark['auc']:.3f})",
        )
    ax.set_xticks(range(len(kinds)), [f"{k}\n(chosen)" if k == choice["chosen"] else k for k in kinds])
    ax.set(ylabel="AUC", title="Model choice: validation folds inside the training period")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    return _png(fig)
