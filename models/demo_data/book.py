"""Later months of the demo book: every performing merchant's activity month by month, with deteriorations
planted (and recorded) so that the book monitor's detection can be measured.

Layout of the output folder::

    2025-12.csv ...   one file per month: merchant_id, month, the spec's features as of that month's end
                      (rates over the trailing three months), decision_date = the month's last day
    truth.csv         one row per planted event: merchant, kind, onset month, default month (blank for a
                      benign one-month blip, planted so that false alerts are measured honestly)
    book.json         seed, months, counts

Who is on the book: the portfolio's merchants that did not default (historical merchants still
processing, and the applicants just onboarded). A merchant that defaults leaves the book: no row
from its default month on. Deteriorations are drawn more often for merchants the generator knows are
riskier (its hidden true PD), as in life; their kinds are the ones a credit detection team watches:
disputes climbing, refunds climbing, deliveries slipping, volume collapsing, cash running short.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from models.demo_data.generate import PortfolioFiles
from models.errors import UnderwriterError
from models.store.versioned import replace_folder

FIRST_MONTH = pd.Period("2025-12", freq="M")
KINDS = ("disputes", "refunds", "delivery", "volume_collapse", "cash_stress")
DETERIORATION_SHARE = 0.06
BLIP_SHARE = 0.03
STATIC = ("mcc", "country", "product", "reserve_pct", "requested_amount", "avg_ticket")


@dataclass(frozen=True)
class BookFiles:
    root: Path

    @property
    def truth(self) -> Path:
        return self.root / "truth.csv"

    def months(self) -> list[Path]:
        return sorted(p for p in self.root.glob("????-??.csv"))


@dataclass(frozen=True)
class Planted:
    merchant: int
    kind: str
    onset: int
    """Month index (0-based) the deterioration starts."""
    default: int | None
    """Month index of the default (may lie beyond the generated months); None for a blip."""
    strength: float


def generate_book(
    portfolio: PortfolioFiles, out: str | Path, *, months: int = 12, seed: int = 7, force: bool = False
) -> BookFiles:
    if not portfolio.exists():
        raise UnderwriterError(f"no portfolio at {portfolio.root}; run `underwrite demo-data` first")
    if not 6 <= months <= 60:
        raise UnderwriterError(f"--months must be between 6 and 60, got {months}")
    target = Path(out)
    if target.exists() and any(target.iterdir()) and not force:
        raise UnderwriterError(
            f"{target} already holds files; pass --force to replace it (nothing was changed)"
        )
    merchants = pd.read_csv(portfolio.merchants, dtype={"mcc": str, "merchant_id": str})
    truth = pd.read_csv(portfolio.truth, dtype={"merchant_id": str})[["merchant_id", "true_pd"]]
    book = merchants[merchants["default_12m"].fillna(0).astype(int) == 0].merge(truth, on="merchant_id")
    book = book.reset_index(drop=True)
    rng = np.random.default_rng(seed)
    planted = plant(book["true_pd"].to_numpy(), months, rng)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        _write(staging, book, planted, months, rng, seed)
        replace_folder(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return BookFiles(target)


def plant(true_pd: np.ndarray, months: int, rng: np.random.Generator) -> list[Planted]:
    """Deteriorations (onset from the fourth month, so each merchant has some history first) and blips."""
    n = len(true_pd)
    weights = true_pd / true_pd.sum()
    count = max(1, round(DETERIORATION_SHARE * n))
    chosen = rng.choice(n, size=count, replace=False, p=weights)
    out = []
    for m in chosen:
        onset = int(rng.integers(3, months - 2))
        out.append(
            Planted(
                int(m), str(rng.choice(KINDS)), onset, onset + int(rng.integers(2, 5)), rng.uniform(0.6, 1.4)
            )
        )
    rest = np.setdiff1d(np.arange(n), chosen)
    for m in rng.choice(rest, size=min(len(rest), round(BLIP_SHARE * n)), replace=False):
        out.append(Planted(int(m), "blip", int(rng.integers(3, months)), None, rng.uniform(0.6, 1.4)))
    return out


def _write(
    root: Path, book: pd.DataFrame, planted: list[Planted], months: int, rng: np.random.Generator, seed: int
) -> None:
    n = len(book)
    series = _series(book, months, rng)
    for event in planted:
        _apply(series, event, months)
    alive = np.ones((n, months), dtype=bool)
    for event in planted:
        if event.default is not None and event.default < months:
            alive[event.merchant, event.default :] = False
    for t in range(months):
        period = FIRST_MONTH + t
        frame = pd.DataFrame(
            {"merchant_id": book["merchant_id"], "legal_name": book["legal_name"], "month": str(period)}
        )
        frame["decision_date"] = period.to_timestamp(how="end").strftime("%Y-%m-%d")
        frame["tenure_months"] = book["tenure_months"].to_numpy() + t + 1
        for column, values in series.items():
            frame[column] = values[:, t]
        for column in STATIC:
            frame[column] = book[column].to_numpy()
        frame[alive[:, t]].to_csv(root / f"{period}.csv", index=False)
    rows = [
        {
            "merchant_id": book["merchant_id"].iloc[e.merchant],
            "kind": e.kind,
            "onset_month": str(FIRST_MONTH + e.onset),
            "default_month": "" if e.default is None else str(FIRST_MONTH + e.default),
        }
        for e in planted
    ]
    pd.DataFrame(rows).sort_values("merchant_id").to_csv(root / "truth.csv", index=False)
    meta = {
        "seed": seed,
        "months": months,
        "first_month": str(FIRST_MONTH),
        "merchants": n,
        "planted": {k: sum(e.kind == k for e in planted) for k in (*KINDS, "blip")},
    }
    (root / "book.json").write_text(json.dumps(meta, indent=2))


def _series(book: pd.DataFrame, months: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Each merchant's months without events: its onboarding level with the noise of a trailing quarter."""
    n = len(book)

    def level(column: str) -> np.ndarray:
        return book[column].to_numpy(dtype=float)[:, None] * np.ones((1, months))

    season = 0.05 * np.sin(2 * np.pi * (np.arange(months)[None, :] + rng.integers(0, 12, n)[:, None]) / 12)
    volume = np.round(level("monthly_volume") * np.exp(season + rng.normal(0, 0.05, (n, months))), 2)
    growth = np.round(level("volume_growth") + rng.normal(0, 0.03, (n, months)), 4)
    refund = np.round(level("refund_rate") * rng.lognormal(0, 0.10, (n, months)), 5)
    dispute = np.round(level("dispute_rate") * rng.lognormal(0, 0.15, (n, months)), 5)
    lag = np.maximum(
        0, level("delivery_lag_days") + rng.integers(-1, 2, (n, months)) * (level("delivery_lag_days") > 3)
    )
    negative = np.round(
        rng.poisson(3 * np.maximum(level("negative_balance_days"), 0.2)) / 3
    )  # a quarter's mean
    amortise = np.clip(1 - 0.02 * np.arange(1, months + 1), 0, 1)[None, :]
    loan = np.round(level("loan_balance") * amortise, -2)
    return {
        "monthly_volume": volume,
        "volume_growth": growth,
        "refund_rate": refund,
        "dispute_rate": dispute,
        "delivery_lag_days": lag,
        "negative_balance_days": negative,
        "loan_balance": loan,
    }


def _apply(series: dict[str, np.ndarray], e: Planted, months: int) -> None:
    """Worsen one merchant's months from the onset (a blip: one month only, then back to normal)."""
    m, s = e.merchant, e.strength
    span = np.arange(e.onset, months if e.default is None else min(months, e.default))
    if e.kind == "blip":
        span = np.array([e.onset])
        series["dispute_rate"][m, span] *= 1 + 1.5 * s
        return
    step = np.arange(1, len(span) + 1)
    if e.kind == "disputes":
        series["dispute_rate"][m, span] *= 1 + 0.9 * s * step
    elif e.kind == "refunds":
        series["refund_rate"][m, span] *= 1 + 0.7 * s * step
    elif e.kind == "delivery":
        series["delivery_lag_days"][m, span] += np.round(12 * s * step)
    elif e.kind == "volume_collapse":
        series["monthly_volume"][m, span] *= (1 - 0.3 * s) ** step
        series["volume_growth"][m, span] -= 0.25 * s * step
    else:  # cash_stress
        series["negative_balance_days"][m, span] += np.round(4 * s * step)
        series["loan_balance"][m, span] += np.round(series["monthly_volume"][m, span] * 0.3 * s * step, -2)
