"""The FAISS store: round trip, filters by every strategy, deletes, atomic saves, refusing corrupt stores."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from retrieval.errors import StoreError
from retrieval.vector_store.index_plan import exact_top_k, recall
from retrieval.vector_store.items import Filter, Item
from retrieval.vector_store.store import VectorStore
from retrieval.vector_store.topk import EXACT_FILTER_MAX


def unit_vectors(n: int, dim: int = 32, seed: int = 0, clusters: int = 40) -> np.ndarray:
    """Clustered unit vectors (like real embeddings, unlike uniform noise)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim))
    x = centres[rng.integers(0, clusters, n)] + 0.6 * rng.standard_normal((n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def items(n: int) -> list[Item]:
    return [
        Item(
            f"k{i}",
            merchant_id=f"m{i % 50}",
            tenant="t1" if i % 3 else "t2",
            doc_type=("statement", "news", "terms")[i % 3],
            as_of=f"{2015 + i % 10}-06-01",
            text=f"passage {i} about {'litigation' if i % 25 == 0 else 'refunds'}",
            payload={"n": i},
        )
        for i in range(n)
    ]


def build(n: int, exact_below: int = 50_000, seed: int = 0) -> tuple[VectorStore, np.ndarray]:
    store = VectorStore(32, "test-embedder", exact_below=exact_below)
    x = unit_vectors(n, seed=seed)
    store.add(items(n), x)
    return store, x


def test_round_trip_gives_identical_results(tmp_path: Path):
    store, x = build(3000)
    before = store.search(x[:5], 10, Filter(doc_types=["news"]))
    store.save(tmp_path / "s")
    loaded = VectorStore.load(tmp_path / "s", embedder_id="test-embedder")
    after = loaded.search(x[:5], 10, Filter(doc_types=["news"]))
    assert [[h.key for h in row] for row in before] == [[h.key for h in row] for row in after]
    assert (
        len(loaded) == 3000
        and loaded.item(7).payload == {"n": 7}
        and loaded.item(7).text == "passage 7 about refunds"
    )


@pytest.mark.parametrize("exact_below", [50_000, 1000], ids=["flat", "ivf"])
def test_filters_hold_under_every_search_strategy(exact_below: int):
    store, x = build(6000, exact_below=exact_below)
    store.ensure_index()
    assert store.plan is not None and store.plan.kind == ("flat" if exact_below > 6000 else "ivf")
    cases = {
        "one merchant (exact subset)": Filter(merchant_ids=["m7"]),
        "a third (bitmap selector)": Filter(doc_types=["news"]),
        "most (over-fetch)": Filter(before="2024-01-01"),
        "combined": Filter(
            tenant="t1", doc_types=["statement", "terms"], before="2020-01-01", exclude_merchants=["m1"]
        ),
    }
    for name, where in cases.items():
        mask = store.mask(where)
        hits = store.search(x[:20], 10, where)
        for row in hits:
            assert len(row) == 10, name
            for h in row:
                assert mask[h.id], name
                it = h.item
                if where.merchant_ids:
                    assert it.merchant_id in where.merchant_ids
                if where.doc_types:
                    assert it.doc_type in where.doc_types
                if where.before:
                    assert it.as_of is not None and it.as_of < where.before
                if where.tenant:
                    assert it.tenant == where.tenant
                assert it.merchant_id not in where.exclude_merchants
        # filtered results are the exact best among allowed rows (recall against brute force)
        allowed = np.flatnonzero(mask)
        truth = allowed[exact_top_k(x[allowed], x[:20], 10, "ip")]
        found = np.array([[h.id for h in row] for row in hits])
        assert recall(found, truth) >= (1.0 if store.plan.kind == "flat" else 0.9), name


def test_small_filtered_sets_are_searched_exactly():
    store, x = build(EXACT_FILTER_MAX * 3)
    hits = store.search(x[:3], 5, Filter(merchant_ids=["m3", "m4"]))
    allowed = np.flatnonzero(store.mask(Filter(merchant_ids=["m3", "m4"])))
    truth = allowed[exact_top_k(x[allowed], x[:3], 5, "ip")]
    assert [[h.id for h in row] for row in hits] == truth.tolist()


def test_delete_and_replace_persist(tmp_path: Path):
    store, x = build(500)
    assert store.delete(["k1", "k2", "missing"]) == 2
    hits = store.search(x[1:2], 500)[0]
    assert "k1" not in {h.key for h in hits} and len(hits) == 498
    store.add([Item("k3", merchant_id="m-new", as_of="2030-01-01")], x[3:4] * -1)
    store.save(tmp_path / "s")
    loaded = VectorStore.load(tmp_path / "s")
    assert len(loaded) == 498 and "k1" not in loaded
    assert loaded.item(loaded.id_of("k3")).merchant_id == "m-new"
    assert loaded.search(-x[3:4], 1)[0][0].key == "k3"


def test_bad_additions_change_nothing():
    store, x = build(100)
    before = len(store)
    with pytest.raises(StoreError, match="NaN"):
        store.add([Item("new")], np.full((1, 32), np.nan, np.float32))
    with pytest.raises(StoreError, match="shape"):
        store.add([Item("new")], np.ones((1, 16), np.float32))
    with pytest.raises(StoreError, match="ISO date"):
        store.add([Item("new", as_of="yesterday")], x[:1])
    with pytest.raises(StoreError, match="duplicate"):
        store.add([Item("a"), Item("a")], x[:2])
    assert len(store) == before and "new" not in store and "a" not in store


def test_keyword_search_respects_the_mask():
    store, _ = build(1000)
    hits = store.keyword_search("litigation", 100)
    assert hits and all(store.item(i).text.endswith("litigation") for i, _ in hits)  # type: ignore[union-attr]
    only = store.keyword_search("litigation", 100, store.mask(Filter(merchant_ids=["m0"])))
    assert only and all(store.item(i).merchant_id == "m0" for i, _ in only)
    assert store.keyword_search("the of and", 10) == []


def test_corrupt_foreign_and_mismatched_stores_are_refused(tmp_path: Path):
    store, _ = build(200)
    version = store.save(tmp_path / "s")
    index_file = version / "index.faiss"
    data = bytearray(index_file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    index_file.write_bytes(bytes(data))
    with pytest.raises(StoreError, match=r"index\.faiss does not match its checksum"):
        VectorStore.load(tmp_path / "s")

    with pytest.raises(StoreError, match="not an Underwriter vector store"):
        VectorStore.load(tmp_path)
    with pytest.raises(StoreError, match="is a file"):
        VectorStore.load(index_file)

    fresh = build(50)[0].save(tmp_path / "t")
    manifest = json.loads((fresh / "manifest.json").read_text())
    with pytest.raises(StoreError, match="built with embedder test-embedder"):
        VectorStore.load(tmp_path / "t", embedder_id="another-model")
    manifest["format"] = "someone-else/9"
    (fresh / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(StoreError, match="format 'someone-else/9'"):
        VectorStore.load(tmp_path / "t")


def test_failed_save_leaves_the_previous_version_current(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    store, x = build(300)
    store.save(tmp_path / "s")
    store.add([Item("late")], x[:1])

    def broken_save(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(np, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        store.save(tmp_path / "s")
    monkeypatch.undo()
    loaded = VectorStore.load(tmp_path / "s")
    assert len(loaded) == 300 and "late" not in loaded
    assert (tmp_path / "s" / "CURRENT").read_text().strip() == "v0001"
    assert [p.name for p in (tmp_path / "s" / "versions").iterdir()] == ["v0001"]


def test_ivf_plan_is_tuned_to_the_recall_target_and_recorded(tmp_path: Path):
    store, x = build(20_000, exact_below=10_000)
    store.ensure_index()
    plan = store.plan
    assert (
        plan is not None
        and plan.kind == "ivf"
        and plan.recall_at_10 is not None
        and plan.recall_at_10 >= 0.97
    )
    version = store.save(tmp_path / "s")
    recorded = json.loads((version / "manifest.json").read_text())["plan"]
    assert recorded["nprobe"] == plan.nprobe and recorded["nlist"] == plan.nlist
    queries = unit_vectors(20_200, seed=0)[20_000:]  # new cases from the same population
    truth = exact_top_k(x, queries, 10, "ip")
    found, _ = VectorStore.load(tmp_path / "s").search_ids(queries, 10, None)
    assert recall(found, truth) >= 0.95
