"""Similar past cases for one case: by its stored profile when it is in the library, else by its record.

Every path that asks for similar cases comes here: a memo's case file (the record and model the
case source already holds), ``underwrite similar``, a new application entered on screen, and the
Spark job (one row at a time, its narrative vectors computed per partition).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from models.scoring.score import contributions
from models.store.artifacts import RiskModel
from retrieval.errors import StoreError
from retrieval.similar_cases.library import CaseLibrary, SimilarCase
from retrieval.vector_store.store import VectorStore


@dataclass
class SimilarReport:
    query_id: str
    library: str
    as_of: str | None
    in_library: bool
    hits: list[SimilarCase]


def narrative_vectors(store: VectorStore, merchant_ids: list[str]) -> np.ndarray:
    """Each merchant's narrative vector: the normalised mean of its document chunks' embeddings."""
    by_merchant = store.ids_by_merchant()
    out = np.zeros((len(merchant_ids), store.dim), dtype=np.float32)
    for r, m in enumerate(merchant_ids):
        ids = by_merchant.get(m)
        if ids:
            mean = store.vectors[ids].mean(axis=0)
            norm = float(np.linalg.norm(mean))
            out[r] = mean / norm if norm > 0 else mean
    return out


def find_similar(
    cases: CaseLibrary,
    library: str,
    case_id: str,
    *,
    k: int,
    as_of: str | None = None,
    record: pd.DataFrame | None = None,
    decided_at: str | None = None,
    model: RiskModel | None = None,
    documents: VectorStore | None = None,
    text_vector: np.ndarray | None = None,
    nthread: int = 2,
) -> SimilarReport:
    """The ``k`` most similar cases decided before ``as_of`` (default: the case's own decision date).

    A case in the library is compared by its stored profile. Any other case needs its ``record``
    (a one-row frame of the spec's features) and ``decided_at``; its narrative is the mean of its
    chunks in ``documents`` (or ``text_vector``), and a library of model contributions needs the
    ``model`` whose view it stores."""
    if case_id in cases.store:
        query = cases.query_for_case(case_id)
        when = as_of or cases.store.item(cases.store.id_of(case_id)).as_of
        return SimilarReport(case_id, library, when, True, cases.similar(query, k=k, as_of=when))
    if record is None:
        raise StoreError(f"{case_id!r} is not a case in library {library!r}")
    if text_vector is None and cases.text_dim and documents is not None:
        text_vector = narrative_vectors(documents, [case_id])[0]
    contrib: Any = None
    if cases.uses_model:
        if model is None:
            raise StoreError(f"library {library!r} compares model contributions; the case's model is needed")
        x, _ = model.encoder.transform(record)
        contrib = contributions(model, x, nthread=nthread)[0, :-1]
    when = as_of or decided_at
    query = cases.query_for(
        record, text_vector=text_vector, contributions=contrib, merchant_id=case_id, decided_at=when
    )
    return SimilarReport(case_id, library, when, False, cases.similar(query, k=k, as_of=when))
