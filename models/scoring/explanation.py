"""A scored decision explained, as one typed record: PD, grade, band, policy flags, the principal
reasons (each with its code, wording, value and standing), mitigants, recourse and the waterfall of
contributions. :func:`explain_row` is the one call the case file, chat, the decision service, the
monitor and the champion registry make; nothing above ``models/`` assembles a score itself.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from models.scoring.explain import describe, find_mitigants, plain
from models.scoring.recourse import find_recourse
from models.scoring.score import reason_code, score_matrix, top_reasons
from models.store.artifacts import RiskModel

UNSCORED_GRADE = "—"


class Reason(BaseModel):
    """A principal reason for higher risk."""

    code: str
    text: str
    """The wording: the spec's fixed text, or the neutral one where the standing contradicts it."""
    feature: str
    detail: str
    """``Name value — standing``."""
    standing: str
    """``value, standing`` (``none recorded`` for a missing value)."""
    value: Any = Field(default=None, exclude=True)
    """The case's value (plain Python); not stored, since detail and standing state it."""

    def stated(self) -> str:
        return stated_reason(self.text, self.standing)


def stated_reason(text: str, standing: str | None) -> str:
    """``High dispute (chargeback) rate: 1.43%, higher than 97% of past applicants``."""
    return f"{text}: {standing}" if standing else text


class Waterfall(BaseModel):
    """Every input's contribution in log-odds, from the reference point to this case's margin."""

    contributions: dict[str, float]
    """Feature -> contribution, in the encoder's feature order."""
    base_margin: float
    base_pd: float
    final_margin: float
    final_pd: float


class Explanation(BaseModel):
    pd: float | None
    """None: no risk model scores this dataset (a case reviewed on its documents alone)."""
    grade: str
    band: str
    policy_flags: list[dict[str, str]]
    reasons: list[Reason]
    """Principal reasons for higher risk, largest contribution first."""
    mitigants: list[dict[str, Any]]
    """Features lowering this case's risk materially (``models.scoring.explain``), each with its detail."""
    recourse: dict[str, Any] = Field(default_factory=dict)
    """For a refer or decline: the smallest actionable changes reaching the next better band
    (``models.scoring.recourse``), each checked by re-scoring."""
    waterfall: Waterfall | None = Field(default=None, exclude=True)
    """The contributions behind the score (the workbench's chart); not stored with the case."""

    @classmethod
    def unscored(cls) -> Explanation:
        """The score of a case no risk model covers: no PD, no grade, referred to an underwriter."""
        return cls(pd=None, grade=UNSCORED_GRADE, band="refer", policy_flags=[], reasons=[], mitigants=[])

    def reason_dicts(self) -> list[dict[str, str]]:
        """The reasons as a memo, a decision body and the audit trail store them."""
        return [r.model_dump() for r in self.reasons]


def explain_row(
    model: RiskModel, row: pd.DataFrame, nthread: int, *, with_recourse: bool = True
) -> Explanation:
    """PD, grade, band, flags, reasons and mitigants of one row (each with its value and where it stands
    among past applicants), and for a refer or decline the recourse: from the model and policy alone.
    ``with_recourse=False`` for a re-score (a what-if, a check) that needs no search of its own."""
    x, _ = model.encoder.transform(row)
    out, contrib = score_matrix(model, x, row, nthread=nthread, reasons="all")
    assert contrib is not None
    first = out.iloc[0]
    stops = {s.id: s.text for s in model.policy.hard_stops}
    flags = [{"id": f, "text": stops.get(f, f)} for f in str(first["policy_flags"]).split(";") if f]
    names = model.encoder.feature_names
    values = {f: plain(row[f].iloc[0]) for f in names if f in row}
    reasons = [
        _reason(model, names[int(i)], values.get(names[int(i)])) for i in top_reasons(contrib)[0] if i >= 0
    ]
    mitigants = find_mitigants(model.spec, model.policy, model.population, names, contrib[0, :-1], values)
    needs_recourse = with_recourse and first["band"] != "approve"
    return Explanation(
        pd=float(first["pd"]),
        grade=str(first["grade"]),
        band=str(first["band"]),
        policy_flags=flags,
        reasons=reasons,
        mitigants=mitigants,
        recourse=find_recourse(model, row, nthread=nthread).to_dict() if needs_recourse else {},
        waterfall=_waterfall(model, names, contrib[0]),
    )


def _reason(model: RiskModel, feature: str, value: Any) -> Reason:
    described = describe(model.spec, model.population, feature, value)
    return Reason(
        code=reason_code(feature),
        text=described.wording,
        feature=feature,
        detail=described.detail,
        standing=described.standing,
        value=value,
    )


def _waterfall(model: RiskModel, names: list[str], contrib: np.ndarray) -> Waterfall:
    base, final = float(contrib[-1]), float(contrib.sum())
    pds = model.calibrator(np.array([base, final]))
    return Waterfall(
        contributions={f: float(c) for f, c in zip(names, contrib[:-1], strict=True)},
        base_margin=base,
        base_pd=float(pds[0]),
        final_margin=final,
        final_pd=float(pds[1]),
    )
