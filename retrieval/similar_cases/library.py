"""The similar-case library: past merchants (or loans) with what really happened to them.

Each case is stored as one blended profile vector (:mod:`retrieval.similar_cases.profile`) in a
vector store, with its decision date, outcome, PD and grade.

Point in time: a search "as of" a date returns only cases decided strictly
before it, and shows a case's outcome only once it was observable
(decision date + ``outcome_window_days``); a merchant is never its own
neighbour. Each hit names the features on which it is closest to and furthest
from the case under review, with both values, so an underwriter can judge the match.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from retrieval.errors import StoreError
from retrieval.similar_cases.profile import (
    CATEGORY_MISMATCH,
    ProfileScaler,
    case_vectors,
    raw_values,
    shown_value,
    with_risk_level,
)
from retrieval.similar_cases.weights import CaseWeights
from retrieval.vector_store.items import Filter, Item
from retrieval.vector_store.store import VectorStore

REPRESENTATIONS = ("features", "contributions", "risk")


@dataclass
class FeatureMatch:
    feature: str
    name: str
    query: str
    case: str
    distance: float
    """0 = same quantile or category, 1 = opposite ends or different categories."""


@dataclass
class SimilarCase:
    case_id: str
    merchant_id: str | None
    decided_at: str
    outcome: int | None
    """1 = defaulted / loss, 0 = performed; None when not yet observable at the as-of date."""
    outcome_known_at: str
    pd: float | None
    grade: str | None
    similarity: float
    tabular_similarity: float
    text_similarity: float | None
    closest: list[FeatureMatch] = field(default_factory=list)
    furthest: list[FeatureMatch] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CaseQuery:
    """The case under review: its profile vector, feature positions and raw values."""

    vector: np.ndarray
    positions: np.ndarray
    raw: list[Any]
    text_vector: np.ndarray | None
    merchant_id: str | None = None
    case_id: str | None = None
    decided_at: str | None = None
    """The case's own decision date: the default point in time of a search."""


class CaseLibrary:
    def __init__(self, store: VectorStore):
        info = store.info
        if info.get("kind") != "case-library":
            raise StoreError("this vector store is not a case library")
        self.store = store
        self.scaler = ProfileScaler(**info["scaler"])
        self.weights = CaseWeights(**info["weights"])
        self.names: dict[str, str] = info["names"]
        self.text_dim: int = info["text_dim"]
        self.representation: str = info["representation"]
        self.contribution_scale = np.asarray(info.get("contribution_scale") or [], dtype=np.float64)
        self.outcome_window_days: int = info["outcome_window_days"]
        self.source: dict[str, Any] = info.get("source", {})

    # ---- building -----------------------------------------------------------------------------
    @classmethod
    def build(
        cls,
        frame: pd.DataFrame,
        *,
        case_ids: Sequence[str],
        decided_at: Sequence[str],
        outcomes: Sequence[int],
        numeric: Sequence[str],
        categorical: Sequence[str],
        names: dict[str, str] | None = None,
        merchant_ids: Sequence[str] | None = None,
        pds: Sequence[float] | None = None,
        grades: Sequence[str] | None = None,
        text_vectors: np.ndarray | None = None,
        embedder_id: str = "none",
        contributions: np.ndarray | None = None,
        weights: CaseWeights | None = None,
        representation: str | None = None,
        outcome_window_days: int = 0,
        tenant: str = "default",
        source: dict[str, Any] | None = None,
        exact_below: int | None = None,
    ) -> CaseLibrary:
        n = len(frame)
        _check_lengths(n, case_ids=case_ids, decided_at=decided_at, outcomes=outcomes)
        weights = weights or CaseWeights()
        if text_vectors is None:
            weights = CaseWeights(1.0, 0.0)
        representation = _representation(representation, contributions)
        scaler = ProfileScaler.fit(frame, numeric, categorical)
        if representation == "risk" and contributions is not None:
            contributions = with_risk_level(contributions)
        positions = scaler.positions(frame)
        scale = None if contributions is None else np.maximum(np.std(contributions, axis=0) * 4, 1e-6)
        info = {
            "kind": "case-library",
            "scaler": scaler.to_dict(),
            "weights": asdict(weights),
            "names": {f: (names or {}).get(f, f) for f in scaler.features},
            "text_dim": 0 if text_vectors is None else int(text_vectors.shape[1]),
            "representation": representation,
            "contribution_scale": None if scale is None else scale.tolist(),
            "outcome_window_days": int(outcome_window_days),
            "source": source or {},
        }
        probe = case_vectors(scaler, weights, positions, text_vectors, contributions, scale, representation)
        kwargs = {"exact_below": exact_below} if exact_below else {}
        store = VectorStore(probe.shape[1], embedder_id, metric="l2", **kwargs)
        store.info = info
        owners = merchant_ids if merchant_ids is not None else case_ids
        store.add(
            _case_items(case_ids, owners, decided_at, outcomes, pds, grades, outcome_window_days, tenant),
            probe,
        )
        store.attachments = {
            "positions": positions.astype(np.float32),
            "raw": raw_values(frame, scaler),
            "text": (text_vectors if text_vectors is not None else np.zeros((n, 0))).astype(np.float32),
        }
        return cls(store)

    # ---- persistence ----------------------------------------------------------------------------
    def save(self, root: str | Path) -> Path:
        return self.store.save(root)

    @classmethod
    def load(cls, root: str | Path, *, embedder_id: str | None = None) -> CaseLibrary:
        return cls(VectorStore.load(root, embedder_id=embedder_id))

    def __len__(self) -> int:
        return len(self.store)

    def _model_view(self, contributions: np.ndarray) -> np.ndarray:
        return with_risk_level(contributions) if self.representation == "risk" else contributions

    @property
    def uses_model(self) -> bool:
        """Whether a query outside the library needs the model's contributions."""
        return self.representation != "features"

    # ---- queries ----------------------------------------------------------------------------
    def query_for_case(self, case_id: str) -> CaseQuery:
        """The profile of a case already in the library (e.g. to review a past decision)."""
        i = self.store.id_of(case_id)
        item = self.store.item(i)
        positions = self.store.attachments["positions"][i].astype(np.float64)
        raw_numeric = self.store.attachments["raw"][i]
        text = self.store.attachments["text"][i] if self.text_dim else None
        return CaseQuery(
            self.store.vectors[i],
            positions,
            self._display_values(positions, raw_numeric),
            text,
            item.merchant_id,
            case_id,
            item.as_of,
        )

    def query_for(
        self,
        row: pd.DataFrame,
        *,
        text_vector: np.ndarray | None = None,
        contributions: np.ndarray | None = None,
        merchant_id: str | None = None,
        case_id: str | None = None,
        decided_at: str | None = None,
    ) -> CaseQuery:
        """The profile of a case under review from its feature row (one-row frame) and narrative vector."""
        if len(row) != 1:
            raise ValueError("query_for takes a one-row frame")
        missing = [c for c in self.scaler.features if c not in row.columns]
        if missing:
            raise StoreError(f"the case under review lacks feature column(s) {missing}")
        positions = self.scaler.positions(row)
        if self.uses_model and contributions is None:
            raise StoreError("this case library compares model contributions; pass the case's contributions")
        text = None
        if self.text_dim:
            text = (
                np.zeros((1, self.text_dim), np.float32)
                if text_vector is None
                else np.atleast_2d(text_vector)
            )
        vector = case_vectors(
            self.scaler,
            self.weights,
            positions,
            text,
            None if contributions is None else self._model_view(np.atleast_2d(contributions)),
            self.contribution_scale if self.uses_model else None,
            self.representation,
        )[0]
        raw_numeric = raw_values(row, self.scaler)[0]
        return CaseQuery(
            vector,
            positions[0],
            self._display_values(positions[0], raw_numeric, row),
            None if text is None else text[0],
            merchant_id,
            case_id,
            decided_at,
        )

    def _display_values(
        self, positions: np.ndarray, raw_numeric: np.ndarray, row: pd.DataFrame | None = None
    ) -> list[Any]:
        values: list[Any] = [float(v) for v in raw_numeric]
        for j, col in enumerate(self.scaler.categorical, start=len(self.scaler.numeric)):
            if row is not None:
                v = row[col].iloc[0]
                values.append(None if pd.isna(v) else str(v))
            elif np.isnan(positions[j]):
                values.append(None)
            else:
                known = self.scaler.categories[col]
                code = int(positions[j])
                values.append(known[code] if code < len(known) else "other")
        return values

    def similar(
        self, query: CaseQuery, *, k: int = 10, as_of: str | None = None, explain: int = 3
    ) -> list[SimilarCase]:
        """The ``k`` most similar cases decided before ``as_of``, never the query itself.

        ``as_of`` defaults to the query's own decision date; with neither, every case is eligible.
        """
        if k < 1:
            raise ValueError("k must be at least 1")
        as_of = as_of or query.decided_at
        where = Filter(
            before=as_of,
            exclude_merchants=[query.merchant_id] if query.merchant_id else (),
            exclude_keys=[query.case_id] if query.case_id else (),
        )
        mask = self.store.mask(where)
        ids, scores = self.store.search_ids(query.vector[None, :].astype(np.float32), k, mask)
        out = []
        for i, score in zip(ids[0], scores[0], strict=True):
            if i < 0:
                continue
            out.append(self._hit(int(i), float(score), query, as_of, explain))
        return out

    def _hit(
        self, i: int, neg_distance: float, query: CaseQuery, as_of: str | None, explain: int
    ) -> SimilarCase:
        item = self.store.item(i)
        positions = self.store.attachments["positions"][i].astype(np.float64)
        raw = self._display_values(positions, self.store.attachments["raw"][i])
        diffs = self._feature_distances(query.positions, positions)
        weight = np.ones(len(diffs))
        weight[len(self.scaler.numeric) :] = CATEGORY_MISMATCH
        tab_sim = 1.0 - float(np.mean(weight * diffs**2)) if len(diffs) else 1.0
        text_sim = None
        if self.text_dim and query.text_vector is not None:
            text_sim = float(np.dot(query.text_vector, self.store.attachments["text"][i]))
        order = np.argsort(diffs, kind="stable")
        features = self.scaler.features

        def match(j: int) -> FeatureMatch:
            f = features[j]
            return FeatureMatch(
                f,
                self.names.get(f, f),
                shown_value(query.raw[j]),
                shown_value(raw[j]),
                round(float(diffs[j]), 3),
            )

        furthest = [match(int(j)) for j in order[::-1][:explain] if diffs[j] > 0]
        closest = [match(int(j)) for j in order[:explain]]
        payload = item.payload
        known = as_of is None or payload["outcome_known_at"] < as_of
        return SimilarCase(
            case_id=item.key,
            merchant_id=item.merchant_id,
            decided_at=item.as_of or "",
            outcome=payload["outcome"] if known else None,
            outcome_known_at=payload["outcome_known_at"],
            pd=payload["pd"],
            grade=payload["grade"],
            similarity=round(1.0 + neg_distance, 4),
            tabular_similarity=round(tab_sim, 4),
            text_similarity=None if text_sim is None else round(text_sim, 4),
            closest=closest,
            furthest=furthest,
        )

    def _feature_distances(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        n_num = len(self.scaler.numeric)
        out = np.zeros(len(self.scaler.features))
        na, nb = np.isnan(a), np.isnan(b)
        num = np.abs(a[:n_num] - b[:n_num])
        out[:n_num] = np.where(na[:n_num] & nb[:n_num], 0.0, np.where(na[:n_num] | nb[:n_num], 1.0, num))
        cat_a, cat_b = a[n_num:], b[n_num:]
        same = (cat_a == cat_b) | (na[n_num:] & nb[n_num:])
        out[n_num:] = np.where(same, 0.0, 1.0)
        return out


def _representation(representation: str | None, contributions: np.ndarray | None) -> str:
    """The case profile a library is built with, checked against whether contributions were given."""
    representation = representation or ("features" if contributions is None else "contributions")
    if representation not in REPRESENTATIONS:
        raise StoreError(f"case profile must be one of {', '.join(REPRESENTATIONS)}, got {representation!r}")
    if (representation == "features") != (contributions is None):
        needs = "needs" if contributions is None else "takes no"
        raise StoreError(f"a {representation!r} case profile {needs} model contributions")
    return representation


def _check_lengths(n: int, **columns: Sequence[Any]) -> None:
    for label, values in columns.items():
        if len(values) != n:
            raise StoreError(f"{label} has {len(values)} entries for {n} cases")


def _case_items(
    case_ids: Sequence[str],
    merchant_ids: Sequence[str],
    decided_at: Sequence[str],
    outcomes: Sequence[int],
    pds: Sequence[float] | None,
    grades: Sequence[str] | None,
    outcome_window_days: int,
    tenant: str,
) -> list[Item]:
    """Each case as a store item: dated by its decision, with its outcome and when that became known."""
    items = []
    for i, case_id in enumerate(case_ids):
        decided = str(decided_at[i])[:10]
        outcome_day = date.fromisoformat(decided) + timedelta(days=int(outcome_window_days))
        items.append(
            Item(
                key=str(case_id),
                merchant_id=str(merchant_ids[i]),
                tenant=tenant,
                as_of=decided,
                payload={
                    "outcome": int(outcomes[i]),
                    "outcome_known_at": outcome_day.isoformat(),
                    "pd": None if pds is None else round(float(pds[i]), 6),
                    "grade": None if grades is None else str(grades[i]),
                },
            )
        )
    return items
