"""The service's request and response bodies. The decision request is built from the model's dataset spec,
so a user's own spec gives a typed API (its OpenAPI page lists that spec's fields, names and formats)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from models.data.spec import DatasetSpec

CASE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
MAX_CATEGORY_CHARS = 200


def decision_request_model(spec: DatasetSpec) -> type[BaseModel]:
    """``{case_id?, name?, <every feature of the spec>}``: numbers must be finite, categories non-empty,
    and an unknown field is an error (a misspelt field must never be silently scored as missing)."""
    fields: dict[str, Any] = {
        "case_id": (
            str | None,
            Field(
                None,
                pattern=CASE_ID_PATTERN,
                description="Your id for the case (default: a hash of the fields)",
            ),
        ),
        "name": (str | None, Field(None, max_length=200, description="The applicant's name, for the record")),
    }
    for feature in spec.numeric:
        description = f"{spec.display_name(feature)} ({spec.format_of(feature)})"
        fields[feature] = (float, Field(..., allow_inf_nan=False, description=description))
    for feature in spec.categorical:
        fields[feature] = (
            str,
            Field(..., min_length=1, max_length=MAX_CATEGORY_CHARS, description=spec.display_name(feature)),
        )
    return create_model(
        f"{_camel(spec.name)}DecisionRequest",
        __config__=ConfigDict(extra="forbid", str_strip_whitespace=True),
        **fields,
    )


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("-", "_").split("_"))


class PolicyFlag(BaseModel):
    id: str
    text: str


class Reason(BaseModel):
    code: str
    text: str
    feature: str
    detail: str = ""
    standing: str = ""


class DecisionResponse(BaseModel):
    request_id: str
    case_id: str
    model_id: str
    model_version: str
    pd: float = Field(description="Calibrated probability of a loss within 12 months")
    grade: str
    band: str = Field(description="approve, refer or decline, after the policy's hard stops")
    policy_flags: list[PolicyFlag]
    reasons: list[Reason] = Field(description="Principal reasons, largest first (fixed texts from the spec)")
    mitigants: list[dict[str, Any]] = Field(description="Features lowering this case's risk materially")
    recourse: dict[str, Any] = Field(default_factory=dict, description="With ?recourse=true on refer/decline")
    unseen_categories: list[str] = Field(description="Categorical fields whose value training never saw")


class MemoRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    case_id: str = Field(..., pattern=CASE_ID_PATTERN, description="A case of the workspace's portfolio")


class MemoJob(BaseModel):
    job_id: str
    case_id: str
    status: str = Field(description="queued, running, done or failed")
    memo_id: str | None = None
    error: str | None = None
    memo: dict[str, Any] | None = Field(None, description="When done: the memo's JSON")
    markdown: str | None = None


class Problem(BaseModel):
    field: str
    problem: str


class ErrorBody(BaseModel):
    error: str
    problems: list[Problem] = []
