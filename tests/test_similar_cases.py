"""The similar-case library: point in time, never itself, explained matches, persistence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from assistant.jobs.modeling import TrainOutcome
from models.data.dataset import load_dataset
from models.data.spec import load_spec
from models.demo_data.generate import PortfolioFiles
from retrieval.errors import StoreError
from retrieval.similar_cases.library import CaseLibrary
from retrieval.similar_cases.weights import CaseWeights
from tests.conftest import LENDING_CLUB, require_file


@pytest.fixture(scope="module")
def library(portfolio: PortfolioFiles, trained: TrainOutcome) -> tuple[CaseLibrary, pd.DataFrame]:
    spec = load_spec("merchant_portfolio")
    ds = load_dataset(portfolio.merchants, spec, require_label=True)
    frame = ds.frame.reset_index(drop=True)
    ids = ds.ids.astype(str).tolist()
    rng = np.random.default_rng(0)
    text = rng.standard_normal((len(frame), 16)).astype(np.float32)
    text /= np.linalg.norm(text, axis=1, keepdims=True)
    lib = CaseLibrary.build(
        frame,
        case_ids=ids,
        merchant_ids=[f"owner-{i // 2}" for i in range(len(ids))],  # pairs of cases share a merchant
        decided_at=[d.date().isoformat() for d in ds.dates],  # type: ignore[union-attr]
        outcomes=ds.labels.astype(int).tolist(),  # type: ignore[union-attr]
        numeric=spec.numeric,
        categorical=spec.categorical,
        names=spec.names,
        pds=np.linspace(0.01, 0.3, len(ids)).tolist(),
        grades=["C"] * len(ids),
        text_vectors=text,
        embedder_id="random-16",
        outcome_window_days=365,
    )
    return lib, frame.assign(case_id=ids, decided=[d.date().isoformat() for d in ds.dates])  # type: ignore[union-attr]


def test_only_cases_decided_before_the_as_of_date_and_outcomes_only_once_known(library):
    lib, frame = library
    for i in range(0, len(frame), 97):
        query = lib.query_for_case(frame["case_id"][i])
        as_of = frame["decided"][i]
        hits = lib.similar(query, k=15, as_of=as_of)
        assert hits, "earlier cases exist for every sampled query"
        for h in hits:
            assert h.decided_at < as_of
            assert (h.outcome is None) == (h.outcome_known_at >= as_of)
    earliest = frame["decided"].min()
    assert (
        lib.similar(lib.query_for_case(frame.loc[frame["decided"].idxmin(), "case_id"]), as_of=earliest) == []
    )


def test_a_case_is_never_its_own_neighbour_nor_its_merchants(library):
    lib, frame = library
    for i in range(0, len(frame), 50):
        case_id = frame["case_id"][i]
        query = lib.query_for_case(case_id)
        hits = lib.similar(query, k=20, as_of="2100-01-01")  # everything eligible, except itself
        assert case_id not in {h.case_id for h in hits}
        assert query.merchant_id not in {h.merchant_id for h in hits}


def test_a_near_copy_is_found_first_and_the_changed_feature_is_named(library):
    lib, frame = library
    row = frame.iloc[[200]].copy()
    row["refund_rate"] = frame["refund_rate"].max() * 2  # the one thing that differs
    text = lib.store.attachments["text"][200]
    query = lib.query_for(row, text_vector=text, merchant_id="someone-new")
    hits = lib.similar(query, k=5)  # a new application with no date: every past case is eligible
    top = hits[0]
    assert top.case_id == frame["case_id"][200]
    assert top.text_similarity == pytest.approx(1.0, abs=1e-5)
    assert top.furthest[0].feature == "refund_rate" and top.furthest[0].name == "Refund rate"
    assert all(m.distance == 0 for m in top.closest)
    assert top.similarity == pytest.approx(0.6 * top.tabular_similarity + 0.4 * top.text_similarity, abs=1e-3)


def test_library_round_trip_and_clear_errors(library, tmp_path: Path):
    lib, frame = library
    lib.save(tmp_path / "cases")
    loaded = CaseLibrary.load(tmp_path / "cases")
    q1, q2 = lib.query_for_case(frame["case_id"][5]), loaded.query_for_case(frame["case_id"][5])
    assert [h.case_id for h in lib.similar(q1, k=8, as_of="2100-01-01")] == [
        h.case_id for h in loaded.similar(q2, k=8, as_of="2100-01-01")
    ]
    with pytest.raises(StoreError, match="lacks feature column"):
        loaded.query_for(frame.iloc[[0]].drop(columns=["mcc"]))
    with pytest.raises(StoreError, match="no item with key"):
        loaded.query_for_case("not-a-case")
    with pytest.raises(ValueError, match="sum to 1"):
        CaseWeights(0.7, 0.7)


@pytest.mark.realdata
def test_lending_club_library_keeps_time_order():
    path = require_file(LENDING_CLUB)
    spec = load_spec("lending_club")
    ds = load_dataset(path, spec, require_label=True)
    dates = [d.date().isoformat() for d in ds.dates]  # type: ignore[union-attr]
    lib = CaseLibrary.build(
        ds.frame,
        case_ids=ds.ids.astype(str).tolist(),
        decided_at=dates,
        outcomes=ds.labels.astype(int).tolist(),  # type: ignore[union-attr]
        numeric=spec.numeric,
        categorical=spec.categorical,
        names=spec.names,
    )
    assert lib.weights == CaseWeights(1.0, 0.0)  # no text vectors: tabular only
    late = [i for i, d in enumerate(dates) if d >= "2010-06-01"][:25]
    for i in late:
        hits = lib.similar(lib.query_for_case(str(ds.ids.iloc[i])), k=10)
        assert len(hits) == 10 and all(h.decided_at < dates[i] for h in hits)
        assert {m.name for m in hits[0].closest} <= set(spec.names.values())
