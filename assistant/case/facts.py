"""What the model and the data say about a case: score facts, key facts, and contradictions with documents."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from assistant.case.schema import CaseDocument, Contradiction, Fact, ScoreFacts, plain
from models.artifacts import RiskModel
from models.scoring import score_matrix
from models.spec import DatasetSpec

CLAIM_TOLERANCE = 0.5
"""A stated figure more than this fraction away from the data is a contradiction."""
MIN_DOCUMENT_CHARS = 40
"""Text columns shorter than this (a loan title, a job title) are facts, not documents."""


def score_row(model: RiskModel, row: pd.DataFrame, nthread: int) -> ScoreFacts:
    """PD, grade, band, flags and reasons of one row, from the model and policy alone."""
    x, _ = model.encoder.transform(row)
    out, contrib = score_matrix(model, x, row, nthread=nthread, reasons="all")
    first = out.iloc[0]
    stops = {s.id: s.text for s in model.policy.hard_stops}
    flags = [{"id": f, "text": stops.get(f, f)} for f in str(first["policy_flags"]).split(";") if f]
    codes = [c for c in str(first["reason_codes"]).split(";") if c]
    texts = [str(first[f"reason_{k + 1}"]) for k in range(len(codes))]
    names = model.encoder.feature_names
    assert contrib is not None
    lowering = np.argsort(contrib[0, :-1], kind="stable")[:3]
    mitigants = [
        {
            "feature": names[i],
            "name": model.spec.display_name(names[i]),
            "value": plain(row[names[i]].iloc[0]) if names[i] in row else None,
        }
        for i in lowering
        if contrib[0, i] < 0
    ]
    return ScoreFacts(
        pd=float(first["pd"]),
        grade=str(first["grade"]),
        band=str(first["band"]),
        policy_flags=flags,
        reasons=[{"code": c, "text": t} for c, t in zip(codes, texts, strict=True)],
        mitigants=mitigants,
    )


UNSCORED_GRADE = "—"


def unscored() -> ScoreFacts:
    """The score of a case no risk model covers: no PD, no grade, referred to an underwriter."""
    return ScoreFacts(pd=None, grade=UNSCORED_GRADE, band="refer", policy_flags=[], reasons=[], mitigants=[])


def pd_text(pd: float | None, digits: int = 2) -> str:
    return "not scored" if pd is None else f"{pd:.{digits}%}"


def key_facts(spec: DatasetSpec, first: pd.Series) -> list[Fact]:
    """The spec's features with their values, plus short text columns (a loan title) as facts."""
    facts = [Fact(key=f, name=spec.display_name(f), value=plain(first.get(f))) for f in spec.features]
    facts += [
        Fact(key=c, name=spec.display_name(c), value=str(first[c]).strip())
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
