"""``underwrite monitor --data NEW_MONTH.csv``: a new month of the book re-scored by the champion and watched.

For each merchant the month raises at most one alert, listing every check it tripped:

* ``pd_jump``: PD at least twice last month's and 3 points higher (``[monitor]``);
* ``band_downgrade``: approve -> refer, refer -> decline;
* ``policy:<rule>``: a hard-stop rule tripped this month and not last;
* ``<feature>_spike`` / ``<feature>_drift``: a watched feature against the merchant's own history
  (:mod:`assistant.monitor.checks`: a robust control chart and a CUSUM);
* ``new_signal:<type>``: a risk signal in the merchant's new documents (``--documents DIR``).

A kind raised for a merchant in the last ``repeat_after_months`` months is not raised again (the
alert is open); alerts are ranked by the PD after the month, then by how many checks tripped, and
recorded in the audit trail. Score and feature drift against training (PSI) are reported for the book
as a whole. The month is written to the monitor's history only after its alerts are recorded.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from assistant.audit import AuditStore
from assistant.champion.registry import champion_path
from assistant.jobs.runs import input_sha256
from assistant.monitor.checks import (
    WatchConfig,
    band_downgrades,
    check_feature,
    new_flags,
    pd_jumps,
    usual_pd,
)
from assistant.monitor.history import BookHistory, check_month
from assistant.settings import Settings
from assistant.workspace import Workspace
from models.data.dataset import load_dataset
from models.errors import UnderwriterError
from models.learning import metrics
from models.portfolio_health import psi_status
from models.scoring.score import score_matrix
from models.store.artifacts import RiskModel, load_model

COUNT_FORMATS = ("count", "days")
"""Features counted in whole events: their chance variation is at least Poisson's."""
SIGNAL_RANK_WEIGHT = 0.02
"""Alerts rank by PD after the month plus this much per check tripped."""


@dataclass
class MonitorReport:
    month: str
    merchants: int
    alerts: pd.DataFrame
    """One row per merchant alerted: merchant_id, kinds, score, pd, previous_pd, band, detail."""
    suppressed: int
    score_psi: float
    score_status: str
    feature_psi: dict[str, float]
    history: Path
    seconds: float
    kinds: dict[str, int] = field(default_factory=dict)


def watched_features(settings: Settings, model: RiskModel) -> dict[str, int]:
    """Feature -> +1 (a rise is bad) or -1: the spec's monotone hints and ``[monitor] watch``."""
    out = {f: int(d) for f, d in model.spec.monotone.items() if d and f in model.spec.numeric}
    out |= {f: (1 if d == "up" else -1) for f, d in settings.monitor.watch.items() if f in model.spec.numeric}
    return out


def watch_config(settings: Settings) -> WatchConfig:
    m = settings.monitor
    return WatchConfig(
        m.pd_jump_ratio, m.pd_jump_min, m.z_alert, m.cusum_k, m.cusum_h, m.min_change, m.min_history
    )


def read_month(model: RiskModel, data: Path, month: str | None) -> tuple[pd.DataFrame, str]:
    """The month's rows (validated against the spec: every problem named) and the month they are for."""
    dataset = load_dataset(data, model.spec, require_label=False)
    frame = dataset.frame.copy()
    frame["id"] = dataset.ids.astype(str).to_numpy()
    if month is None:
        raw = pd.read_csv(data, usecols=lambda c: c == "month", dtype=str) if data.suffix == ".csv" else None
        found = sorted(set(raw["month"].dropna())) if raw is not None and "month" in raw else []
        if len(found) != 1:
            raise UnderwriterError(
                f"{data}: give --month YYYY-MM (the file's month column holds {found or 'none'})"
            )
        month = found[0]
    return frame.set_index("id"), check_month(month)


def monitor_month(
    settings: Settings,
    data: str | Path,
    *,
    month: str | None = None,
    model: str | Path | None = None,
    documents: str | Path | None = None,
    engine: str = "local",
    scorer: Scorer | None = None,
) -> MonitorReport:
    """Monitor one month (see the module's docstring); ``scorer`` re-scores it (default: on this machine)."""
    started = time.perf_counter()
    data = Path(data)
    if not data.exists():
        raise UnderwriterError(f"{data} does not exist")
    workspace = Workspace(settings)
    with workspace.open_audit() as audit:
        risk_model = load_model(model or champion_path(settings, audit), nthread=settings.threads)
        frame, month = read_month(risk_model, data, month)
        history = BookHistory(workspace.root / "monitor" / risk_model.spec.name)
        history.check_next(month)
        scored = (scorer or score_locally(settings))(risk_model, frame, data).reindex(frame.index)
        now = _checks(settings, risk_model, history, month, frame, scored)
        signals = _document_signals(settings, Path(documents), frame.index) if documents else {}
        alerts, suppressed = _alerts(audit, settings, month, now, signals)
        score_psi, feature_psi = _drift(risk_model, frame, scored)
        _record(audit, engine, risk_model, data, month, alerts, len(frame))
    written = history.write(month, now)
    report = MonitorReport(
        month,
        len(frame),
        alerts,
        suppressed,
        score_psi,
        psi_status(score_psi, len(frame)),
        feature_psi,
        written,
        round(time.perf_counter() - started, 2),
    )
    report.kinds = _kind_counts(alerts)
    return report


Scorer = Callable[[RiskModel, pd.DataFrame, Path], pd.DataFrame]
"""(model, the month's rows, the file) -> ``pd``, ``grade``, ``band``, ``policy_flags`` by id: the Spark form
passes its own (:func:`assistant.spark.monitor.spark_scorer`)."""


def score_locally(settings: Settings) -> Scorer:
    def score(model: RiskModel, frame: pd.DataFrame, data: Path) -> pd.DataFrame:
        x, _ = model.encoder.transform(frame)
        out, _ = score_matrix(model, x, frame, nthread=settings.threads, reasons="none")
        out.index = frame.index
        return out

    return score


def _checks(
    settings: Settings,
    model: RiskModel,
    history: BookHistory,
    month: str,
    frame: pd.DataFrame,
    scored: pd.DataFrame,
) -> pd.DataFrame:
    """This month's row per merchant: scores, watched values, CUSUM states and the checks tripped."""
    config = watch_config(settings)
    previous = history.previous(month)
    now = scored[["pd", "grade", "band", "policy_flags"]].copy()
    prev = previous.reindex(now.index) if previous is not None else pd.DataFrame(index=now.index)
    prev_pd = usual_pd(history.window(month, now.index, "pd"))
    kinds, details = _score_checks(history, month, now, prev, prev_pd, config)
    for feature, direction in watched_features(settings, model).items():
        current = pd.to_numeric(frame[feature], errors="coerce").to_numpy(dtype=float)
        state = (
            prev[f"cusum_{feature}"].to_numpy(dtype=float)
            if f"cusum_{feature}" in prev
            else np.zeros(len(now))
        )
        check = check_feature(
            history.window(month, now.index, feature),
            current,
            state,
            direction,
            _scale_floor(model, feature),
            config,
            counts=model.spec.format_of(feature) in COUNT_FORMATS,
        )
        now[feature], now[f"cusum_{feature}"] = current, check.cusum
        name = model.spec.display_name(feature)
        for mask, label in ((check.spike, "spike"), (check.drift, "drift")):
            for i in np.flatnonzero(mask):
                kinds[i].append(f"{feature}_{label}")
                shown = model.spec.shown(feature, current[i]), model.spec.shown(feature, check.baseline[i])
                details[i].append(
                    f"{name} {shown[0]} against its usual {shown[1]} ({label}, z {check.z[i]:.1f})"
                )
    for feature in model.spec.features:  # the month's whole record: a memo refresh is written from it
        if feature not in now:
            now[feature] = frame[feature].to_numpy()
    now["previous_pd"] = prev_pd
    now["kinds"] = [";".join(k) for k in kinds]
    now["detail"] = ["; ".join(d) for d in details]
    return now


def _score_checks(
    history: BookHistory,
    month: str,
    now: pd.DataFrame,
    prev: pd.DataFrame,
    prev_pd: np.ndarray,
    config: WatchConfig,
) -> tuple[list[list[str]], list[list[str]]]:
    """PD jumps, band downgrades and newly tripped rules: each merchant's kinds and their details."""
    kinds: list[list[str]] = [[] for _ in range(len(now))]
    details: list[list[str]] = [[] for _ in range(len(now))]
    pd_now = now["pd"].to_numpy(dtype=float)
    for i in np.flatnonzero(pd_jumps(prev_pd, pd_now, config)):
        kinds[i].append("pd_jump")
        details[i].append(f"PD {pd_now[i]:.2%}, usually {prev_pd[i]:.2%}")
    if "band" in prev:
        downgraded = band_downgrades(prev["band"].to_numpy(), now["band"].to_numpy(), prev_pd, pd_now, config)
        for i in np.flatnonzero(downgraded):
            kinds[i].append("band_downgrade")
            details[i].append(f"band {prev['band'].iloc[i]} -> {now['band'].iloc[i]}")
        flagged = new_flags(
            history.window(month, now.index, "policy_flags", text=True), now["policy_flags"].to_numpy()
        )
        for row, rules in enumerate(flagged):
            kinds[row] += [f"policy:{r}" for r in rules]
            details[row] += [f"policy rule {r} newly tripped" for r in rules]
    return kinds, details


def _scale_floor(model: RiskModel, feature: str) -> float:
    """A tenth of the training population's 10th-90th percentile spread: smaller moves never count."""
    qs = model.population.quantiles.get(feature) if model.population else None
    return 0.1 * (qs[90] - qs[10]) if qs else 0.0


def _document_signals(settings: Settings, root: Path, ids: pd.Index) -> dict[str, list[str]]:
    from assistant.monitor.documents import signals_in_new_documents

    return signals_in_new_documents(settings, root, set(ids))


def _alerts(
    audit: AuditStore, settings: Settings, month: str, now: pd.DataFrame, signals: dict[str, list[str]]
) -> tuple[pd.DataFrame, int]:
    """One alert per merchant with something new; a kind still open (raised in the last months) is left out."""
    open_kinds = _open_kinds(audit, month, settings.monitor.repeat_after_months)
    rows, suppressed = [], 0
    for merchant, row in now.iterrows():
        kinds = [k for k in str(row["kinds"]).split(";") if k]
        kinds += [f"new_signal:{t}" for t in signals.get(str(merchant), [])]
        fresh = [k for k in kinds if k not in open_kinds.get(str(merchant), set())]
        suppressed += len(kinds) - len(fresh)
        if not fresh:
            continue
        detail = str(row["detail"]) + (
            "; signals in new documents: " + ", ".join(signals[str(merchant)])
            if str(merchant) in signals
            else ""
        )
        rows.append(
            {
                "merchant_id": str(merchant),
                "kinds": ";".join(fresh),
                "score": float(row["pd"]) + SIGNAL_RANK_WEIGHT * len(fresh),
                "pd": float(row["pd"]),
                "previous_pd": row["previous_pd"],
                "band": row["band"],
                "detail": detail.strip("; "),
            }
        )
    alerts = pd.DataFrame(
        rows, columns=["merchant_id", "kinds", "score", "pd", "previous_pd", "band", "detail"]
    )
    return alerts.sort_values(["score", "merchant_id"], ascending=[False, True]).reset_index(
        drop=True
    ), suppressed


def _open_kinds(audit: AuditStore, month: str, window: int) -> dict[str, set[str]]:
    """Merchant -> the kinds alerted in the ``window`` months before ``month`` (read month by month: the
    trail's older alerts are never loaded)."""
    out: dict[str, set[str]] = {}
    current = pd.Period(month, freq="M")
    for back in range(1, window + 1):
        for row in audit.rows("alerts", {"month": str(current - back)}):
            out.setdefault(row["merchant_id"], set()).update(json.loads(row["kinds"]))
    return out


def _drift(model: RiskModel, frame: pd.DataFrame, scored: pd.DataFrame) -> tuple[float, dict[str, float]]:
    training = json.loads((model.path / "metrics.json").read_text())
    score_psi = metrics.psi_against(training["train_pd_reference"], scored["pd"].to_numpy(dtype=float))
    features = {}
    for feature, qs in model.population.quantiles.items() if model.population else []:
        deciles = np.unique(np.asarray(qs)[10:100:10])
        shares = np.histogram(qs, np.concatenate([[-np.inf], deciles, [np.inf]]))[0] / len(qs)
        values = pd.to_numeric(frame[feature], errors="coerce").dropna().to_numpy()
        if len(values):
            features[feature] = round(
                metrics.psi_against({"edges": deciles.tolist(), "shares": shares.tolist()}, values), 4
            )
    return score_psi, dict(sorted(features.items(), key=lambda kv: -kv[1]))


def _record(
    audit: AuditStore, engine: str, model: RiskModel, data: Path, month: str, alerts: pd.DataFrame, rows: int
) -> None:
    """The month's alerts and its run row, in one transaction."""
    records: list[tuple[str, dict[str, Any]]] = []
    for a in alerts.to_dict("records"):
        previous = None if pd.isna(a["previous_pd"]) else float(a["previous_pd"])
        records.append(
            (
                "alerts",
                {
                    "alert_id": "alert-"
                    + hashlib.sha256(f"{a['merchant_id']}:{month}".encode()).hexdigest()[:16],
                    "merchant_id": a["merchant_id"],
                    "month": month,
                    "kinds": str(a["kinds"]).split(";"),
                    "score": a["score"],
                    "pd": a["pd"],
                    "band": a["band"],
                    "detail": {"text": a["detail"], "previous_pd": previous},
                },
            )
        )
    run = {
        "run_id": f"monitor-{uuid.uuid4().hex[:12]}",
        "kind": "monitor",
        "engine": engine,
        "model_id": model.model_id,
        "input_sha256": input_sha256(data),
        "rows_in": rows,
        "rows_out": rows,
        "rows_rejected": 0,
        "output": month,
        "params": json.dumps({"data": str(data), "alerts": len(alerts)}, sort_keys=True),
    }
    done = [
        r for r in audit.rows("runs", {"kind": "monitor", "output": month}) if r["model_id"] == model.model_id
    ]
    if done:  # recorded by an attempt that died before writing the month's history: never record twice
        return
    audit.append_many([*records, ("runs", run)])


def _kind_counts(alerts: pd.DataFrame) -> dict[str, int]:
    counts: dict[str, int] = {}
    for kinds in alerts["kinds"]:
        for k in kinds.split(";"):
            key = k.split(":")[0] if k.startswith(("policy:", "new_signal:")) else k
            counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))
