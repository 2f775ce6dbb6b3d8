"""The similar-case library: past merchants (or loans) with what really happened to them.

A case is found by what it looked like on paper at decision time, through one
vector per case that blends two views with documented weights:

* **tabular** (weight ``tabular``, default 0.6): each feature as its quantile
  position in the library (centred; ties at mid-rank), categories one-hot (a
  mismatch counts ``CATEGORY_MISMATCH`` = 1/3), a missing-value indicator where a
  feature has gaps. Alternatively
  (``representation="contributions"``) the trained model's own per-feature
  contributions (SHAP, log-odds), scaled per feature: cases that are risky for
  the same reasons;
* **narrative** (weight ``text``, default 0.4): the embedding of the case's
  documents or text fields (unit length).

The parts are scaled so that the squared L2 distance between two case vectors
is ``tabular * mean per-feature squared difference (each in [0, 1]) +
text * (1 - cosine)``; similarity is ``1 - distance``, 1 for identical cases.
FAISS (L2) searches these vectors.

Point in time: a search "as of" a date returns only cases decided strictly
before it, and shows a case's outcome only once it was observable
(decision date + ``outcome_window_days``); a merchant is never its own
neighbour. Each hit names the features on which it is closest to and furthest
from the case under review, with both values, so an underwriter can judge the match.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from retrieval.errors import StoreError
from retrieval.store import Filter, Item, VectorStore

MAX_CATEGORIES = 32
QUANTILES = 101
MISSING_SCALE = math.sqrt(0.75) / 2
"""A missing-indicator dimension at +-this: missing vs present differs by at most 1 in total."""
CATEGORY_MISMATCH = 1 / 3
"""Squared distance of two different categories: twice the expected squared difference (1/6) of two
random quantile positions. At 1 (a mismatch as far apart as opposite extremes) industry and country
swamped every numeric signal; chosen among 1, 1/3 and 1/6 on the Lending Club and portfolio
evaluations (docs/retrieval.md), so those figures carry that small selection."""


@dataclass
class ProfileScaler:
    """Feature values -> quantile positions and the tabular part of the case vector, fitted on the library."""

    numeric: list[str]
    categorical: list[str]
    quantiles: dict[str, list[float]]
    categories: dict[str, list[str]]
    has_missing: dict[str, bool]

    @classmethod
    def fit(cls, frame: pd.DataFrame, numeric: Sequence[str], categorical: Sequence[str]) -> ProfileScaler:
        quantiles, has_missing, categories = {}, {}, {}
        for col in numeric:
            values = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=np.float64)
            finite = values[np.isfinite(values)]
            qs = np.quantile(finite, np.linspace(0, 1, QUANTILES)) if len(finite) else np.zeros(QUANTILES)
            quantiles[col] = [float(q) for q in qs]
            has_missing[col] = bool(len(finite) < len(values))
        for col in categorical:
            counts = frame[col].dropna().astype(str).value_counts()
            ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
            categories[col] = [str(v) for v, _ in ordered[:MAX_CATEGORIES]]
            has_missing[col] = bool(frame[col].isna().any())
        return cls(list(numeric), list(categorical), quantiles, categories, has_missing)

    @property
    def features(self) -> list[str]:
        return [*self.numeric, *self.categorical]

    def positions(self, frame: pd.DataFrame) -> np.ndarray:
        """Per feature: quantile position in [0, 1] (numeric) or category code (categorical); NaN if missing."""
        out = np.full((len(frame), len(self.features)), np.nan, dtype=np.float64)
        for j, col in enumerate(self.numeric):
            x = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=np.float64)
            q = np.asarray(self.quantiles[col])
            mid = (np.searchsorted(q, x, "left") + np.searchsorted(q, x, "right")) / 2.0
            pos = np.clip((mid - 0.5) / (QUANTILES - 1), 0.0, 1.0)
            out[:, j] = np.where(np.isfinite(x), pos, np.nan)
        for j, col in enumerate(self.categorical, start=len(self.numeric)):
            known = self.categories[col]
            values = frame[col]
            codes = pd.Index(known).get_indexer(pd.Index(values.astype(str)))
            codes = np.where(codes < 0, len(known), codes).astype(np.float64)
            out[:, j] = np.where(values.notna().to_numpy(), codes, np.nan)
        return out

    def tabular_vectors(self, positions: np.ndarray) -> np.ndarray:
        """Unscaled tabular vectors: the squared difference per feature is in [0, 1]."""
        blocks = []
        for j, col in enumerate(self.numeric):
            p = positions[:, j]
            blocks.append(np.where(np.isnan(p), 0.0, p - 0.5)[:, None])
            if self.has_missing[col]:
                blocks.append(np.where(np.isnan(p), MISSING_SCALE, -MISSING_SCALE)[:, None])
        for j, col in enumerate(self.categorical, start=len(self.numeric)):
            width = len(self.categories[col]) + 1
            onehot = np.zeros((len(positions), width))
            codes = positions[:, j]
            present = ~np.isnan(codes)
            onehot[np.flatnonzero(present), codes[present].astype(int)] = math.sqrt(CATEGORY_MISMATCH / 2)
            blocks.append(onehot)
        return np.hstack(blocks) if blocks else np.zeros((len(positions), 0))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CaseWeights:
    tabular: float = 0.6
    text: float = 0.4

    def __post_init__(self) -> None:
        if self.tabular < 0 or self.text < 0 or not math.isclose(self.tabular + self.text, 1.0):
            raise ValueError(
                f"case weights must be non-negative and sum to 1, got {self.tabular} and {self.text}"
            )


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


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "missing"
    if isinstance(value, float):
        if value != 0 and abs(value) < 0.1:
            return f"{value:.4g}"
        return f"{value:,.2f}".rstrip("0").rstrip(".") if abs(value) < 1e6 else f"{value:,.0f}"
    return str(value)


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
        outcome_window_days: int = 0,
        tenant: str = "default",
        source: dict[str, Any] | None = None,
        exact_below: int | None = None,
    ) -> CaseLibrary:
        n = len(frame)
        for label, values in (("case_ids", case_ids), ("decided_at", decided_at), ("outcomes", outcomes)):
            if len(values) != n:
                raise StoreError(f"{label} has {len(values)} entries for {n} cases")
        weights = weights or CaseWeights()
        if text_vectors is None:
            weights = CaseWeights(1.0, 0.0)
        scaler = ProfileScaler.fit(frame, numeric, categorical)
        positions = scaler.positions(frame)
        representation = "features" if contributions is None else "contributions"
        scale = None
        if contributions is not None:
            scale = np.maximum(np.std(contributions, axis=0) * 4, 1e-6)
        raw = cls._raw_values(frame, scaler)
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
        probe = cls._vectors(scaler, weights, positions, text_vectors, contributions, scale)
        kwargs = {"exact_below": exact_below} if exact_below else {}
        store = VectorStore(probe.shape[1], embedder_id, metric="l2", **kwargs)
        store.info = info
        items = []
        for i in range(n):
            decided = str(decided_at[i])[:10]
            outcome_day = date.fromisoformat(decided) + timedelta(days=int(outcome_window_days))
            items.append(
                Item(
                    key=str(case_ids[i]),
                    merchant_id=str(merchant_ids[i]) if merchant_ids is not None else str(case_ids[i]),
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
        store.add(items, probe)
        store.attachments = {
            "positions": positions.astype(np.float32),
            "raw": raw,
            "text": (text_vectors if text_vectors is not None else np.zeros((n, 0))).astype(np.float32),
        }
        return cls(store)

    @staticmethod
    def _raw_values(frame: pd.DataFrame, scaler: ProfileScaler) -> np.ndarray:
        """Numeric raw values (float32, NaN when missing); categoricals are shown from their codes."""
        raw = np.full((len(frame), len(scaler.numeric)), np.nan, dtype=np.float32)
        for j, col in enumerate(scaler.numeric):
            raw[:, j] = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=np.float64)
        return raw

    @staticmethod
    def _vectors(
        scaler: ProfileScaler,
        weights: CaseWeights,
        positions: np.ndarray,
        text_vectors: np.ndarray | None,
        contributions: np.ndarray | None,
        scale: np.ndarray | None,
    ) -> np.ndarray:
        features = max(len(scaler.features), 1)
        if contributions is not None and scale is not None:
            tab = np.clip(contributions / scale, -0.5, 0.5)
        else:
            tab = scaler.tabular_vectors(positions)
        parts = [tab * math.sqrt(weights.tabular / features)]
        if text_vectors is not None and text_vectors.shape[1]:
            parts.append(text_vectors * math.sqrt(weights.text / 2))
        return np.ascontiguousarray(np.hstack(parts), dtype=np.float32)

    # ---- persistence ----------------------------------------------------------------------------
    def save(self, root: str | Path) -> Path:
        return self.store.save(root)

    @classmethod
    def load(cls, root: str | Path, *, embedder_id: str | None = None) -> CaseLibrary:
        return cls(VectorStore.load(root, embedder_id=embedder_id))

    def __len__(self) -> int:
        return len(self.store)

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
        if self.representation == "contributions" and contributions is None:
            raise StoreError("this case library compares model contributions; pass the case's contributions")
        text = None
        if self.text_dim:
            text = (
                np.zeros((1, self.text_dim), np.float32)
                if text_vector is None
                else np.atleast_2d(text_vector)
            )
        vector = self._vectors(
            self.scaler,
            self.weights,
            positions,
            text,
            None if contributions is None else np.atleast_2d(contributions),
            self.contribution_scale if self.representation == "contributions" else None,
        )[0]
        raw_numeric = self._raw_values(row, self.scaler)[0]
        return CaseQuery(
            vector, positions[0], self._display_values(positions[0], raw_numeric, row), None if text is None else text[0],
            merchant_id, case_id, decided_at,
        )  # fmt: skip

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
                f, self.names.get(f, f), _fmt(query.raw[j]), _fmt(raw[j]), round(float(diffs[j]), 3)
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
