"""What the data says about a case: key facts, and contradictions with its documents."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from assistant.case.schema import CaseDocument, Contradiction, Fact
from models.data.spec import DatasetSpec
from models.scoring.explain import plain

CLAIM_TOLERANCE = 0.5
"""A stated figure more than this fraction away from the data is a contradiction."""
MIN_DOCUMENT_CHARS = 40
"""Text columns shorter than this (a loan title, a job title) are facts, not documents."""


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
