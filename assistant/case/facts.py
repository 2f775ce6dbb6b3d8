"""What the model and the data say about a case: score facts, key facts, and contradictions with documents."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from assistant.case.schema import CaseDocument, Contradiction, Fact, ScoreFacts
from models.data.spec import DatasetSpec
from models.scoring.explain import feature_detail, find_mitigants, plain, reason_wording, value_standing
from models.scoring.recourse import find_recourse
from models.scoring.score import reason_code, score_matrix, top_reasons
from models.store.artifacts import RiskModel

CLAIM_TOLERANCE = 0.5
"""A stated figure more than this fraction away from the data is a contradiction."""
MIN_DOCUMENT_CHARS = 40
"""Text columns shorter than this (a loan title, a job title) are facts, not documents."""


def score_row(model: RiskModel, row: pd.DataFrame, nthread: int, *, with_recourse: bool = True) -> ScoreFacts:
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
    values = {f: row[f].iloc[0] for f in names if f in row}
    reasons = []
    for i in (i for i in top_reasons(contrib)[0] if i >= 0):
        feature = names[int(i)]
        reasons.append(
            {
                "code": reason_code(feature),
                "text": reason_wording(model.spec, model.population, feature, plain(values.get(feature))),
                "feature": feature,
                "detail": feature_detail(model.spec, model.population, feature, plain(values.get(feature))),
                "standing": value_standing(model.spec, model.population, feature, plain(values.get(feature))),
            }
        )
    mitigants = find_mitigants(model.spec, model.policy, model.population, names, contrib[0, :-1], values)
    recourse = (
        find_recourse(model, row, nthread=nthread).to_dict()
        if with_recourse and first["band"] != "approve"
        else {}
    )
    return ScoreFacts(
        pd=float(first["pd"]),
        grade=str(first["grade"]),
        band=str(first["band"]),
        policy_flags=flags,
        reasons=reasons,
        mitigants=mitigants,
        recourse=recourse,
    )


UNSCORED_GRADE = "—"


def unscored() -> ScoreFacts:
    """The score of a case no risk model covers: no PD, no grade, referred to an underwriter."""
    return ScoreFacts(pd=None, grade=UNSCORED_GRADE, band="refer", policy_flags=[], reasons=[], mitigants=[])


def pd_text(pd: float | None, digits: int = 2) -> str:
    return "not scored" if pd is None else f"{pd:.{digits}%}"


def key_facts(spec: DatasetSpec, first: pd.Series) -> list[Fact]:
    """The spec's features with their values, plus short text columns (a loan title) as facts."""
    facts = [
        Fact(
            key=f,
            name=spec.display_name(f),
            value=plain(first.get(f)),
            shown=spec.shown(f, plain(first.get(f))),
        )
        for f in spec.features
    ]
    facts += [
        Fact(key=c, name=spec.display_name(c), value=str(first[c]).strip(), shown=str(first[c]).strip())
        for c in spec.text
        if isinstance(first.get(c), str) and 0 < len(str(first[c]).strip()) < MIN_DOCUMENT_CHARS
    ]
    return facts


def find_contradictions(
    claims: dict[str, str], names: dict[str, str], row: pd.Series, documents: list[CaseDocument]
) -> list[Contradiction]:
    """Figures the documents state (by the spec's claim patterns) far from what the data records."""
    found = []
    for feature, pattern in claims.items():
        recorded = plain(row.get(feature))
        if not isinstance(recorded, int | float) or recorded == 0:
            continue
        for doc in documents:
            for chunk in doc.chunks:
                for stated in _stated_figures(pattern, chunk.text):
                    if abs(stated - recorded) > CLAIM_TOLERANCE * abs(recorded):
                        found.append(
                            Contradiction(
                                doc_id=doc.doc_id,
                                tag=chunk.tag,
                                feature=feature,
                                name=names.get(feature, feature),
                                stated=stated,
                                recorded=float(recorded),
                            )
                        )
    return found


def _stated_figures(pattern: str, text: str) -> list[float]:
    out: list[Any] = []
    for m in re.finditer(pattern, text, flags=re.IGNORECASE):
        try:
            out.append(float(m.group(1).replace(",", "").rstrip(".")))
        except ValueError:
            continue
    return out
