"""Tabular merchants, their monthly series, hidden document facts and outcomes.

Everything is drawn from one ``numpy`` generator seeded by the caller, so a
seed gives the same portfolio on every machine. The 12-month credit-loss
outcome depends on the tabular signals *and* on facts that only the
documents reveal (adverse news, litigation, going-concern doubt, supplier
trouble, long pre-order shipping, thin margins), so documents carry real
information a tabular model cannot see.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.demo_data.industries import COUNTRIES, INDUSTRIES

HISTORY_START = np.datetime64("2021-01-01")
HISTORY_END = np.datetime64("2024-10-31")
APPLICANTS_START = np.datetime64("2025-09-01")
APPLICANTS_END = np.datetime64("2025-11-27")
APPLICANT_SHARE = 0.2
INTERCEPT = -3.75


@dataclass
class MerchantTables:
    merchants: pd.DataFrame
    monthly: pd.DataFrame
    hidden: pd.DataFrame
    """Facts only documents reveal, plus what is planted in the documents."""


def _dates(rng: np.random.Generator, start: np.datetime64, end: np.datetime64, n: int) -> np.ndarray:
    span = int((end - start).astype(int))
    return start + rng.integers(0, span + 1, size=n).astype("timedelta64[D]")


def generate_merchants(n: int, rng: np.random.Generator) -> MerchantTables:
    ind_weights = np.array([i.weight for i in INDUSTRIES], dtype=float)
    ind = rng.choice(len(INDUSTRIES), size=n, p=ind_weights / ind_weights.sum())
    pick = lambda attr: np.array([getattr(INDUSTRIES[i], attr) for i in range(len(INDUSTRIES))])[ind]  # noqa: E731
    ind_risk, ticket0, refund0, lag0 = pick("risk"), pick("ticket"), pick("refund"), pick("lag")
    country_weights = np.array([c[1] for c in COUNTRIES], dtype=float)
    country_idx = rng.choice(len(COUNTRIES), size=n, p=country_weights / country_weights.sum())
    country_risk = np.array([c[2] for c in COUNTRIES])[country_idx]

    latent = rng.normal(0.0, 1.0, n)  # unobserved merchant quality; shows up in many signals
    tenure = np.clip(np.round(rng.lognormal(np.log(30), 0.9, n)), 1, 240).astype(int)
    volume = np.round(np.clip(rng.lognormal(np.log(55_000), 1.2, n), 2_000, 8_000_000), -2)
    growth_trend = np.clip(rng.normal(0.12, 0.30, n) - 0.10 * latent + 0.4 / np.sqrt(tenure), -0.6, 2.0)
    avg_ticket = np.round(ticket0 * rng.lognormal(0, 0.35, n), 2)
    refund_rate = np.clip(refund0 * rng.lognormal(0.15 * latent, 0.45, n), 0.0005, 0.4)
    dispute_rate = np.clip(0.003 * rng.lognormal(0.45 * latent + 0.3 * ind_risk, 0.6, n), 0.0001, 0.05)
    lag = np.where(lag0 > 0, np.round(lag0 * rng.gamma(2.0, 0.5, n)), np.round(rng.exponential(0.6, n)))
    delivery_lag = np.clip(lag, 0, 365).astype(int)
    reserve_pct = np.select([ind_risk >= 0.9, ind_risk >= 0.5], [10.0, 5.0], 0.0)
    negative_days = rng.poisson(np.exp(-0.3 + 0.9 * latent)).clip(0, 120)
    has_loan = rng.random(n) < 0.3
    loan_balance = np.where(has_loan, np.round(volume * rng.uniform(0.2, 1.6, n), -2), 0.0)
    requested = np.round(volume * rng.uniform(0.3, 2.2, n), -3).clip(1_000)
    product = np.where(rng.random(n) < 0.6, "cash_advance", "processing_limit")

    # Hidden facts, revealed only by documents; more likely for weaker merchants.
    def flag(base: float, slope: float) -> np.ndarray:
        return rng.random(n) < base * np.exp(slope * latent)

    adverse_news = flag(0.04, 0.5)
    litigation = flag(0.05, 0.4)
    litigation_settled = litigation & (rng.random(n) < 0.35)
    going_concern = flag(0.02, 0.7)
    supplier_problems = flag(0.05, 0.5)
    preorder_eligible = np.isin(
        ind,
        [i for i, x in enumerate(INDUSTRIES) if x.mcc in {"5732", "5999", "5651", "5712", "5968"}],
    )
    preorder_months = np.where(preorder_eligible & (rng.random(n) < 0.10), rng.integers(3, 8, n), 0)
    net_margin = np.round(np.clip(rng.normal(0.06 - 0.04 * latent, 0.07, n), -0.45, 0.35), 3)
    net_margin = np.where(going_concern, -np.abs(net_margin) - 0.08, net_margin)
    contradiction = rng.random(n) < 0.03
    positive_press = ~adverse_news & (rng.random(n) < 0.05)

    # Monthly series: 12 months of volume, refunds and disputes; the tabular
    # rates are recomputed from the series so table and series always agree.
    months = np.arange(12)
    slope = np.log1p(growth_trend)[:, None] * (months[None, :] - 5.5) / 11.0
    season = 0.08 * np.sin(2 * np.pi * (months[None, :] + rng.integers(0, 12, n)[:, None]) / 12)
    noise = rng.normal(0, 0.07, (n, 12))
    series_volume = np.round(volume[:, None] * np.exp(slope + season + noise), -1)
    series_refunds = np.round(series_volume * refund_rate[:, None] * rng.lognormal(0, 0.25, (n, 12)), 2)
    series_disputes = np.round(series_volume * dispute_rate[:, None] * rng.lognormal(0, 0.35, (n, 12)), 2)
    volume = np.round(series_volume.mean(axis=1), 2)
    refund_rate = series_refunds.sum(axis=1) / series_volume.sum(axis=1)
    dispute_rate = series_disputes.sum(axis=1) / series_volume.sum(axis=1)
    growth = series_volume[:, -3:].sum(axis=1) / series_volume[:, :3].sum(axis=1) - 1.0

    is_applicant = rng.random(n) < APPLICANT_SHARE
    decision = np.where(
        is_applicant,
        _dates(rng, APPLICANTS_START, APPLICANTS_END, n),
        _dates(rng, HISTORY_START, HISTORY_END, n),
    )

    logit = (
        INTERCEPT
        + 0.6 * ind_risk
        + country_risk
        + 0.65 * np.log(dispute_rate / 0.003)
        + 0.30 * np.log(refund_rate / 0.02)
        + 0.010 * np.minimum(delivery_lag, 180)
        - 0.35 * np.log(tenure / 24)
        + 0.045 * np.minimum(negative_days, 40)
        + 0.6 * np.maximum(0.0, loan_balance / volume - 0.5)
        + 0.35 * np.log(requested / volume)
        - 0.8 * np.minimum(growth, 0.5)
        + 1.5 * adverse_news
        + 1.0 * (litigation & ~litigation_settled)
        + 0.3 * litigation_settled
        + 1.9 * going_concern
        + 0.9 * supplier_problems
        + 1.1 * (preorder_months > 0)
        - 5.0 * net_margin
        + 0.3 * latent
    )
    pd_true = 1.0 / (1.0 + np.exp(-logit))
    defaulted = rng.random(n) < pd_true
    loss = np.where(defaulted, np.round(requested * rng.uniform(0.15, 0.9, n), 2), 0.0)

    ids = np.array([f"M{i + 1:06d}" for i in range(n)])
    dates = pd.to_datetime(decision).strftime("%Y-%m-%d")
    merchants = pd.DataFrame(
        {
            "merchant_id": ids,
            "status": np.where(is_applicant, "applicant", "historical"),
            "decision_date": dates,
            "mcc": pick("mcc"),
            "industry": pick("name"),
            "country": np.array([c[0] for c in COUNTRIES])[country_idx],
            "tenure_months": tenure,
            "monthly_volume": volume,
            "volume_growth": np.round(growth, 4),
            "avg_ticket": avg_ticket,
            "refund_rate": np.round(refund_rate, 5),
            "dispute_rate": np.round(dispute_rate, 5),
            "delivery_lag_days": delivery_lag,
            "reserve_pct": reserve_pct,
            "negative_balance_days": negative_days,
            "loan_balance": loan_balance,
            "requested_amount": requested,
            "product": product,
            "default_12m": pd.array(np.where(is_applicant, np.nan, defaulted.astype(float)), dtype="Int64"),
            "loss_amount": np.where(is_applicant, np.nan, loss),
        }
    )

    month_ends = pd.to_datetime(decision).to_period("M")
    month_index = np.stack([(month_ends - (12 - m)).strftime("%Y-%m") for m in months], axis=1)
    monthly = pd.DataFrame(
        {
            "merchant_id": np.repeat(ids, 12),
            "month": month_index.ravel(),
            "volume": series_volume.ravel(),
            "refunds": series_refunds.ravel(),
            "disputes": series_disputes.ravel(),
        }
    )

    hidden = pd.DataFrame(
        {
            "merchant_id": ids,
            "industry_index": ind,
            "adverse_news": adverse_news,
            "positive_press": positive_press,
            "litigation": litigation & ~litigation_settled,
            "litigation_settled": litigation_settled,
            "going_concern": going_concern,
            "supplier_problems": supplier_problems,
            "preorder_months": preorder_months,
            "net_margin": net_margin,
            "contradiction": contradiction,
            "true_pd": np.round(pd_true, 5),
        }
    )
    return MerchantTables(merchants=merchants, monthly=monthly, hidden=hidden)
