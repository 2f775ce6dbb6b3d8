"""One online decision: a request's fields -> the model's PD, grade, band, flags, reasons and mitigants.

The same :func:`models.scoring.explanation.explain_row` the memo, the workbench and chat use: the service holds
no scoring logic of its own.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from models.data.application_frame import application_frame
from models.scoring.explanation import explain_row
from models.store.artifacts import RiskModel


def canonical_json(body: dict[str, Any]) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def request_sha256(endpoint: str, body: dict[str, Any]) -> str:
    return hashlib.sha256(f"{endpoint}\n{canonical_json(body)}".encode()).hexdigest()


def case_id_of(body: dict[str, Any], features: list[str]) -> str:
    """The caller's case id, else ``API-`` and a hash of the fields (the same fields, the same id)."""
    if body.get("case_id"):
        return str(body["case_id"])
    fields = {f: body.get(f) for f in features}
    return "API-" + hashlib.sha256(canonical_json(fields).encode()).hexdigest()[:12]


def request_row(model: RiskModel, body: dict[str, Any]) -> pd.DataFrame:
    """The one-row frame the model scores, dated today (policies read the decision date): the same frame
    a new application entered in the workbench is scored from."""
    row = {f: body[f] for f in model.spec.features}
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    return application_frame(model.spec, row, name=body.get("name") or "API applicant", decided_at=today)


def unseen_categories(model: RiskModel, row: pd.DataFrame) -> list[str]:
    return [
        f
        for f, known in model.encoder.categories.items()
        if f in row and str(row[f].iloc[0]) not in known[:-1]
    ]


def score_request(
    model: RiskModel, row: pd.DataFrame, case_id: str, *, recourse: bool = False
) -> dict[str, Any]:
    """The decision body (without the request id): what the caller receives and the audit trail keeps."""
    facts = explain_row(model, row, 1, with_recourse=recourse)
    return {
        "case_id": case_id,
        "model_id": model.model_id,
        "model_version": model.label,
        "pd": facts.pd,
        "grade": facts.grade,
        "band": facts.band,
        "policy_flags": facts.policy_flags,
        "reasons": facts.reason_dicts(),
        "mitigants": facts.mitigants,
        "recourse": facts.recourse,
        "unseen_categories": unseen_categories(model, row),
    }
