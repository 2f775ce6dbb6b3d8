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
    """``n`` merchants drawn from ``rng``; the draws happen in one fixed order, so a seed is a portfolio."""
    v = _profile(n, rng)
    v |= _hidden_facts(n, rng, v)
    v |= _monthly_series(n, rng, v)
    v |= _decisions_and_outcomes(n, rng, v)
    ids = np.array([f"M{i + 1:06d}" for i in range(n)])
    return MerchantTables(
        merchants=_merchant_frame(ids, v), monthly=_monthly_frame(ids, v), hidden=_hidden_frame(ids, v)
    )


Draws = dict[str, np.ndarray]


def _profile(n: int, rng: np.random.Generator) -> Draws:
    """Industry, country and the tabular profile, with the latent quality behind many signals."""
    ind_weights = np.array([i.weight for i in INDUSTRIES], dtype=float)
    ind = rng.choice(len(INDUSTRIES), size=n, p=ind_weights / ind_weights.sum())
    ind_risk, ticket0, refund0, lag0 = (_industry(ind, attr) for attr in ("risk", "ticket", "refund", "lag"))
    country_weights = np.array([c[1] for c in COUNTRIES], dtype=float)
    country_idx = rng.choice(len(COUNTRIES), size=n, p=country_weights / country_weights.sum())
    latent = rng.normal(0.0, 1.0, n)  # unobserved merchant quality; shows up in many signals
    tenure = np.clip(np.round(rng.lognormal(np.log(30), 0.9, n)), 1, 240).astype(int)
    volume = np.round(np.clip(rng.lognormal(np.log(55_000), 1.2, n), 2_000, 8_000_000), -2)
    growth_trend = np.clip(rng.normal(0.12, 0.30, n) - 0.10 * latent + 0.4 / np.sqrt(tenure), -0.6, 2.0)
    avg_ticket = np.round(ticket0 * rng.lognormal(0, 0.35, n), 2)
    refund_rate = np.clip(refund0 * rng.lognormal(0.15 * latent, 0.45, n), 0.0005, 0.4)
    dispute_rate = np.clip(0.003 * rng.lognormal(0.45 * latent + 0.3 * ind_risk, 0.6, n), 0.0001, 0.05)
    lag = np.where(lag0 > 0, np.round(lag0 * rng.gamma(2.0, 0.5, n)), np.round(rng.exponential(0.6, n)))
    negative_days = rng.poisson(np.exp(-0.3 + 0.9 * latent)).clip(0, 120)
    has_loan = rng.random(n) < 0.3
    loan_balance = np.where(has_loan, np.round(volume * rng.uniform(0.2, 1.6, n), -2), 0.0)
    requested = np.round(volume * rng.uniform(0.3, 2.2, n), -3).clip(1_000)
    product = np.where(rng.random(n) < 0.6, "cash_advance", "processing_limit")
    return {
        "ind": ind,
        "ind_risk": ind_risk,
        "country_idx": country_idx,
        "country_risk": np.array([c[2] for c in COUNTRIES])[country_idx],
        "latent": latent,
        "tenure": tenure,
        "volume": volume,
        "growth_trend": growth_trend,
        "avg_ticket": avg_ticket,
        "refund_rate": refund_rate,
        "dispute_rate": dispute_rate,
        "delivery_lag": np.clip(lag, 0, 365).astype(int),
        "reserve_pct": np.select([ind_risk >= 0.9, ind_risk >= 0.5], [10.0, 5.0], 0.0),
        "negative_days": negative_days,
        "loan_balance": loan_balance,
        "requested": requested,
        "product": product,
    }


def _industry(ind: np.ndarray, attr: str) -> np.ndarray:
    return np.array([getattr(INDUSTRIES[i], attr) for i in range(len(INDUSTRIES))])[ind]


def _hidden_facts(n: int, rng: np.random.Generator, v: Draws) -> Draws:
    """Facts revealed only by documents; more likely for weaker merchants."""
    latent = v["latent"]

    def flag(base: float, slope: float) -> np.ndarray:
        return rng.random(n) < base * np.exp(slope * latent)

    adverse_news = flag(0.04, 0.5)
    litigation = flag(0.05, 0.4)
    litigation_settled = litigation & (rng.random(n) < 0.35)
    going_concern = flag(0.02, 0.7)
    supplier_problems = flag(0.05, 0.5)
    preorder_eligible = np.isin(
        v["ind"], [i for i, x in enumerate(INDUSTRIES) if x.mcc in {"5732", "5999", "5651", "5712", "5968"}]
    )
    preorder_months = np.where(preorder_eligible & (rng.random(n) < 0.10), rng.integers(3, 8, n), 0)
    net_margin = np.round(np.clip(rng.normal(0.06 - 0.04 * latent, 0.07, n), -0.45, 0.35), 3)
    net_margin = np.where(going_concern, -np.abs(net_margin) - 0.08, net_margin)
    contradiction = rng.random(n) < 0.03
    positive_press = ~adverse_news & (rng.random(n) < 0.05)
    return {
        "adverse_news": adverse_news,
        "litigation": litigation,
        "litigation_settled": litigation_settled,
        "going_concern": going_concern,
        "supplier_problems": supplier_problems,
        "preorder_months": preorder_months,
        "net_margin": net_margin,
        "contradiction": contradiction,
        "positive_press": positive_press,
    }


def _monthly_series(n: int, rng: np.random.Generator, v: Draws) -> Draws:
    """12 months of volume, refunds and disputes; the tabular rates are recomputed from the series so
    table and series always agree."""
    months = np.arange(12)
    slope = np.log1p(v["growth_trend"])[:, None] * (months[None, :] - 5.5) / 11.0
    season = 0.08 * np.sin(2 * np.pi * (months[None, :] + rng.integers(0, 12, n)[:, None]) / 12)
    noise = rng.normal(0, 0.07, (n, 12))
    series_volume = np.round(v["volume"][:, None] * np.exp(slope + season + noise), -1)
    series_refunds = np.round(series_volume * v["refund_rate"][:, None] * rng.lognormal(0, 0.25, (n, 12)), 2)
    series_disputes = np.round(
        series_volume * v["dispute_rate"][:, None] * rng.lognormal(0, 0.35, (n, 12)), 2
    )
    return {
        "series_volume": series_volume,
        "series_refunds": series_refunds,
        "series_disputes": series_disputes,
        "volume": np.round(series_volume.mean(axis=1), 2),
        "refund_rate": series_refunds.sum(axis=1) / series_volume.sum(axis=1),
        "dispute_rate": series_disputes.sum(axis=1) / series_volume.sum(axis=1),
        "growth": series_volume[:, -3:].sum(axis=1) / series_volume[:, :3].sum(axis=1) - 1.0,
    }


def _decisions_and_outcomes(n: int, rng: np.random.Generator, v: Draws) -> Draws:
    """Who applies now and who was decided in the past, and the 12-month loss of each."""
    is_applicant = rng.random(n) < APPLICANT_SHARE
    decision = np.where(
        is_applicant,
        _dates(rng, APPLICANTS_START, APPLICANTS_END, n),
        _dates(rng, HISTORY_START, HISTORY_END, n),
    )
    pd_true = 1.0 / (1.0 + np.exp(-_true_logit(v)))
    defaulted = rng.random(n) < pd_true
    loss = np.where(defaulted, np.round(v["requested"] * rng.uniform(0.15, 0.9, n), 2), 0.0)
    return {
        "is_applicant": is_applicant,
        "decision": decision,
        "pd_true": pd_true,
        "defaulted": defaulted,
        "loss": loss,
    }


def _true_logit(v: Draws) -> np.ndarray:
    """The log-odds of a 12-month loss: tabular signals plus the facts only documents reveal."""
    settled = v["litigation_settled"]
    return (
        INTERCEPT
        + 0.6 * v["ind_risk"]
        + v["country_risk"]
        + 0.65 * np.log(v["dispute_rate"] / 0.003)
        + 0.30 * np.log(v["refund_rate"] / 0.02)
        + 0.010 * np.minimum(v["delivery_lag"], 180)
        - 0.35 * np.log(v["tenure"] / 24)
        + 0.045 * np.minimum(v["negative_days"], 40)
        + 0.6 * np.maximum(0.0, v["loan_balance"] / v["volume"] - 0.5)
        + 0.35 * np.log(v["requested"] / v["volume"])
        - 0.8 * np.minimum(v["growth"], 0.5)
        + 1.5 * v["adverse_news"]
        + 1.0 * (v["litigation"] & ~settled)
        + 0.3 * settled
        + 1.9 * v["going_concern"]
        + 0.9 * v["supplier_problems"]
        + 1.1 * (v["preorder_months"] > 0)
        - 5.0 * v["net_margin"]
        + 0.3 * v["latent"]
    )


def _merchant_frame(ids: np.ndarray, v: Draws) -> pd.DataFrame:
    is_applicant = v["is_applicant"]
    return pd.DataFrame(
        {
            "merchant_id": ids,
            "status": np.where(is_applicant, "applicant", "historical"),
            "decision_date": pd.to_datetime(v["decision"]).strftime("%Y-%m-%d"),
            "mcc": _industry(v["ind"], "mcc"),
            "industry": _industry(v["ind"], "name"),
            "country": np.array([c[0] for c in COUNTRIES])[v["country_idx"]],
            "tenure_months": v["tenure"],
            "monthly_volume": v["volume"],
            "volume_growth": np.round(v["growth"], 4),
            "avg_ticket": v["avg_ticket"],
            "refund_rate": np.round(v["refund_rate"], 5),
            "dispute_rate": np.round(v["dispute_rate"], 5),
            "delivery_lag_days": v["delivery_lag"],
            "reserve_pct": v["reserve_pct"],
            "negative_balance_days": v["negative_days"],
            "loan_balance": v["loan_balance"],
            "requested_amount": v["requested"],
            "product": v["product"],
            "default_12m": pd.array(
                np.where(is_applicant, np.nan, v["defaulted"].astype(float)), dtype="Int64"
            ),
            "loss_amount": np.where(is_applicant, np.nan, v["loss"]),
        }
    )


def _monthly_frame(ids: np.ndarray, v: Draws) -> pd.DataFrame:
    month_ends = pd.to_datetime(v["decision"]).to_period("M")
    month_index = np.stack([(month_ends - (12 - m)).strftime("%Y-%m") for m in range(12)], axis=1)
    return pd.DataFrame(
        {
            "merchant_id": np.repeat(ids, 12),
            "month": month_index.ravel(),
            "volume": v["series_volume"].ravel(),
            "refunds": v["series_refunds"].ravel(),
            "disputes": v["series_disputes"].ravel(),
        }
    )


def _hidden_frame(ids: np.ndarray, v: Draws) -> pd.DataFrame:
    settled = v["litigation_settled"]
    return pd.DataFrame(
        {
            "merchant_id": ids,
            "industry_index": v["ind"],
            "adverse_news": v["adverse_news"],
            "positive_press": v["positive_press"],
            "litigation": v["litigation"] & ~settled,
            "litigation_settled": settled,
            "going_concern": v["going_concern"],
            "supplier_problems": v["supplier_problems"],
            "preorder_months": v["preorder_months"],
            "net_margin": v["net_margin"],
            "contradiction": v["contradiction"],
            "true_pd": np.round(v["pd_true"], 5),
        }
    )
