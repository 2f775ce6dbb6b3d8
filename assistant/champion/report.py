"""``underwrite shadow report``: every challenger against the champion on the requests both scored, read from
the audit trail; with an outcomes file, ranking and calibration on the same cases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from assistant.audit import AuditStore
from assistant.champion.compare import ShadowComparison, compare
from models.data.spec import canonical_value
from models.errors import UnderwriterError


def shadow_frame(audit: AuditStore) -> pd.DataFrame:
    rows = audit.rows("shadow_scores")
    if not rows:
        raise UnderwriterError(
            "no shadow scores yet: name challengers in [service.challengers] and serve decisions"
        )
    return pd.DataFrame(rows)


def read_outcomes(path: Path, id_column: str, outcome_column: str) -> pd.Series:
    """Case id -> 1 (default) / 0 (performed); blanks are outcomes not known yet. Clear errors on bad files."""
    if not path.is_file():
        raise UnderwriterError(f"outcomes file {path} does not exist")
    try:
        frame = pd.read_csv(
            path, dtype=str, keep_default_na=False, usecols=lambda c: c in {id_column, outcome_column}
        )
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise UnderwriterError(f"outcomes file {path}: not a readable CSV ({exc})") from None
    missing = [c for c in (id_column, outcome_column) if c not in frame]
    if missing:
        raise UnderwriterError(
            f"outcomes file {path}: no column(s) {missing} (--id-column / --outcome-column)"
        )
    values = frame[outcome_column].map(lambda v: canonical_value(v.strip()) if v.strip() else "")
    bad = sorted({v for v in values if v not in {"0", "1", ""}})[:5]
    if bad:
        raise UnderwriterError(f"outcomes file {path}: {outcome_column} must be 0, 1 or blank; found {bad}")
    numbers = values.map(lambda v: np.nan if v == "" else float(v))
    return pd.Series(numbers.to_numpy(), index=frame[id_column].astype(str)).groupby(level=0).last()


def shadow_report(audit: AuditStore, outcomes: pd.Series | None = None) -> list[ShadowComparison]:
    frame = shadow_frame(audit)
    out = []
    for name, part in frame.groupby("challenger", sort=True):
        part = part.drop_duplicates("request_id", keep="last")
        y = None if outcomes is None else part["case_id"].astype(str).map(outcomes).to_numpy(dtype=float)
        out.append(
            compare(
                str(name),
                part["champion_pd"].to_numpy(),
                part["champion_band"].to_numpy(),
                part["pd"].to_numpy(),
                part["band"].to_numpy(),
                y,
            )
        )
    return out


def report_text(comparisons: list[ShadowComparison], *, outcomes_given: bool = False) -> str:
    lines = []
    for c in comparisons:
        lines += [
            f"challenger {c.challenger}: {c.cases:,} requests scored in shadow",
            f"  band agreement {c.band_agreement:.1%}; PD shift (challenger - champion) mean {c.mean_pd_shift:+.4f}, "
            f"mean absolute {c.mean_abs_pd_shift:.4f}",
            f"  swap-in {c.swap_in:,} (the challenger would approve, the champion does not); swap-out {c.swap_out:,}",
            "  bands (champion -> challenger): "
            + "; ".join(
                f"{a}->{b} {n:,}" for a, row in sorted(c.bands.items()) for b, n in sorted(row.items())
            ),
        ]
        if c.outcomes and c.champion and c.challenger_metrics:
            lines.append(
                f"  on {c.outcomes:,} known outcomes (observed default rate {c.champion.observed:.2%}):"
            )
            for label, m in (("champion", c.champion), ("challenger", c.challenger_metrics)):
                auc = "n/a (too few outcomes)" if m.auc is None else f"{m.auc:.3f}"
                lines.append(
                    f"    {label:<10} AUC {auc}  Brier {m.brier:.4f}  mean PD {m.mean_pd:.2%}  ECE {m.ece:.4f}"
                )
            rates = {k: ("n/a" if v is None else f"{v:.1%}") for k, v in c.swap_default_rates.items()}
            lines.append(f"    default rate of swap-ins {rates['swap_in']}, of swap-outs {rates['swap_out']}")
        elif outcomes_given:
            lines.append("  no outcome known yet for these requests")
    return "\n".join(lines)


def plot_shadow(audit: AuditStore, path: Path) -> Path:
    """Challenger PD against champion PD, one panel per challenger (log scales; the diagonal is agreement)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    frame = shadow_frame(audit)
    names = sorted(frame["challenger"].unique())
    fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 4.5), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        part = frame[frame["challenger"] == name]
        ax.scatter(part["champion_pd"], part["pd"], s=6, alpha=0.5)
        low = max(1e-4, float(min(part["champion_pd"].min(), part["pd"].min())))
        ax.plot([low, 1], [low, 1], color="grey", lw=1)
        ax.set(
            xscale="log",
            yscale="log",
            xlabel="champion PD",
            ylabel=f"{name} PD",
            title=f"{name}: {len(part):,} requests",
        )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
