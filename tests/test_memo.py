"""The credit memo end to end: real embedded model, validation, injection safety, audit, replay."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from assistant.audit import AuditStore
from assistant.backends import open_llm
from assistant.case.source import CaseSource
from assistant.memo.calls import CallBook
from assistant.memo.compose import compose_memo
from assistant.memo.config import MemoConfig, memo_config
from assistant.memo.record import generate_memo, replay_memo
from assistant.memo.validation import CITATION_RE, check_sentence, truth_of
from assistant.workspace import Workspace
from tests.fakes import OBEYED, ObeyingChat, ScriptedChat, fake_llm


@pytest.fixture(scope="module")
def source(memo_workspace):
    return CaseSource(memo_workspace, similar_k=memo_workspace.memo.similar_cases)


@pytest.fixture(scope="module")
def documents(memo_workspace) -> pd.DataFrame:
    return pd.read_csv(Workspace(memo_workspace).portfolio.documents, dtype=str)


@pytest.fixture(scope="module")
def truth_table(memo_workspace) -> pd.DataFrame:
    return pd.read_csv(Workspace(memo_workspace).portfolio.truth, dtype=str)


def narrative(memo) -> list[str]:
    return [
        *memo.business_summary.sentences,
        *(s for f in memo.findings for s in f.summary.sentences),
        *memo.comparison.sentences,
    ]


def test_memo_with_the_embedded_model_is_grounded_recorded_and_replayable(memo_workspace, source, tmp_path):
    merchant = source.ids("applicant")[0]
    with AuditStore.open(tmp_path / "audit.sqlite") as audit:
        result = generate_memo(source, merchant, open_llm(memo_workspace), audit, memo_config(memo_workspace))
        memo, case = result.rendered.memo, result.case
        assert memo is not None
        assert memo.decision == {
            "pd": case.score.pd,
            "grade": case.score.grade,
            "band": case.score.band,
            "policy_flags": [f["id"] for f in case.score.policy_flags],
            "policy_flag_texts": [f"{f['id']}: {f['text']}" for f in case.score.policy_flags],
        }
        assert memo.recommendation["band"] == case.score.band and memo.reasons == case.score.reason_dicts()
        sources = case.chunk_sources() | case.similar_sources()
        truth = truth_of(case)
        sections = [memo.business_summary, *(f.summary for f in memo.findings), memo.comparison]
        for section in sections:  # whatever the model wrote, every shown sentence is supported
            quoted = section.source in {"extractive", "quoted"}  # the documents' own words, verbatim
            for sentence in section.sentences:
                if "_(extractive" not in sentence:
                    assert check_sentence(sentence, truth, sources, quoted=quoted).kept, sentence
        for tag in CITATION_RE.findall(result.rendered.markdown):
            assert all(t.strip() in sources for t in re.split(r"[,;]", tag))
        assert json.loads(result.rendered.json_text)["case_id"] == merchant
        assert "<script" not in result.rendered.html and "<h2>Recommendation</h2>" in result.rendered.html
        assert result.calls > 0 and audit.count("llm_calls") == result.calls - result.cached_calls
        call = audit.rows("llm_calls")[0]
        assert call["model_id"].startswith("llamacpp:") and json.loads(call["params"])["max_tokens"] <= 24
        assert len(call["template_sha256"]) == 64 and call["output"]
        assert audit.verify().ok
        replay = replay_memo(audit, result.memo_id)
        assert replay.identical and replay.rebuilt_sha256 == replay.stored_sha256

        again = generate_memo(source, merchant, open_llm(memo_workspace), audit, memo_config(memo_workspace))
        summaries = sum(1 for r in audit.rows("llm_calls") if r["purpose"] == "summary")
        assert again.cached_calls == summaries > 0  # document summaries come from the cache


def test_an_obeying_model_cannot_move_any_decision_and_the_attempt_is_reported(source, documents):
    """Every merchant with a planted order, caught by screening or not: the decision and every
    deterministic section equal those of the same case without the planted document."""
    planted = documents.loc[documents["injection_kind"].notna()]
    injected = planted["merchant_id"].unique()
    assert len(injected) >= 2
    obeyed_calls = reported = 0
    for merchant in injected:
        case = source.case_file(merchant, generated_at="2026-01-01T00:00:00+00:00")
        attack_ids = set(planted.loc[planted["merchant_id"] == merchant, "doc_id"])
        clean_case = case.model_copy(
            update={"documents": [d for d in case.documents if d.doc_id not in attack_ids]}
        )
        obeying = fake_llm(ObeyingChat(), "obeying")
        book = CallBook.live(obeying)
        attacked = compose_memo(case, book, MemoConfig())
        obeyed_calls += sum(b.call.output == OBEYED for b in book.calls)
        clean = compose_memo(clean_case, CallBook.live(obeying), MemoConfig())
        for part in ("decision", "reasons", "metrics", "recommendation", "similar", "risks", "mitigants"):
            assert getattr(attacked, part) == getattr(clean, part), part
        flagged = [d for d in case.documents if d.flagged]
        if flagged:  # a caught attempt is reported; one screening missed (a measured rate) is not
            reported += 1
            assert any(
                w.startswith("Injection attempt") and flagged[0].doc_id in w for w in attacked.integrity
            )
        assert not any(w.startswith("Injection attempt") for w in clean.integrity)
        text = " ".join(narrative(attacked)).lower()
        for obeyed in ("low risk", "approve", "grade is a", "0.4%", "9,900,000", "ignore all"):
            assert obeyed not in text
    assert obeyed_calls >= 1 and reported >= 1  # the fake was turned, and none of it got through


def test_a_model_that_invents_figures_yields_extractive_text_and_a_warning(source):
    merchant = source.ids("applicant")[1]
    case = source.case_file(merchant)
    liar = fake_llm(ScriptedChat(reply="Revenue was $123,456,789 last year. Refunds hit 97% [C1]."), "liar")
    memo = compose_memo(case, CallBook.live(liar), MemoConfig())
    text = " ".join(narrative(memo))
    assert "123,456,789" not in text and "97%" not in text
    assert all(f.summary.source in {"extractive", "quoted", "none"} for f in memo.findings)
    assert any(f.summary.source == "extractive" for f in memo.findings)
    assert (
        memo.comparison.source == "extractive" and "most similar past cases" in memo.comparison.sentences[0]
    )
    assert sum(s["fallback"] for s in memo.validation.values()) >= 1
    assert any("failed validation" in w for w in memo.integrity)


def test_documents_that_contradict_the_data_are_reported(source, truth_table):
    liars = truth_table.loc[truth_table["contradiction"] == "True", "merchant_id"].tolist()
    assert liars
    case = source.case_file(liars[0])
    assert [c.feature for c in case.contradictions] == ["monthly_volume"]
    memo = compose_memo(case, CallBook.live(fake_llm(ObeyingChat(), "o")), MemoConfig())
    assert any(w.startswith("Contradiction") for w in memo.integrity)
    honest = truth_table.loc[truth_table["contradiction"] == "False", "merchant_id"].tolist()[:5]
    assert all(not source.case_file(m).contradictions for m in honest)


def test_personal_data_never_reaches_a_prompt_or_the_memo(source, truth_table):
    merchant = source.ids()[0]
    person = truth_table.set_index("merchant_id").loc[merchant]
    book = CallBook.live(fake_llm(ObeyingChat(), "o"))
    memo = compose_memo(source.case_file(merchant), book, MemoConfig())
    sent = json.dumps([c.call.messages for c in book.calls]) + memo.model_dump_json()
    for secret in (
        person["email"],
        person["phone"],
        person["tax_id"],
        person["bank_account"],
        person["owner"],
    ):
        assert isinstance(secret, str) and secret not in sent
    assert "[EMAIL]" in sent or "[TAX_ID]" in sent


def test_an_unknown_case_is_a_clear_error(source):
    from models.errors import UnderwriterError

    with pytest.raises(UnderwriterError, match="not in the data"):
        source.case_file("NOPE")


def test_a_dataset_with_a_spec_gives_case_files_from_its_text_columns(tmp_path, real_model):
    from datetime import date

    from assistant.settings import load_settings
    from tests.conftest import LENDING_CLUB, require_file

    data = require_file(LENDING_CLUB)
    settings = load_settings(None, workspace=tmp_path / "ws", threads=2)
    trained = real_model("lending_club", data, test_from=date(2010, 1, 1))
    model = str(trained.version_dir)
    source = CaseSource(settings, spec="lending_club", data=str(data), model=model, library="")
    frame = pd.read_csv(data, dtype=str)
    row = frame[frame["desc_clean"].fillna("").str.len() > 200].iloc[0]
    case = source.case_file(source.ids()[row.name])
    assert case.as_of == row["issue_d"][:10] and case.model["label"] == f"{trained.dataset.spec.name}/v0001"
    assert case.documents[0].doc_type == "desc_clean" and case.similar == []
    assert case.documents[0].chunks[0].text.startswith(row["desc_clean"].strip()[:40])
    short = [f for f in case.facts if f.key in ("title", "emp_title")]
    assert all(len(str(f.value)) < 40 for f in short)
    memo = compose_memo(
        case, CallBook.live(fake_llm(ScriptedChat(reply="Nothing to add."), "s")), MemoConfig()
    )
    assert memo.decision["band"] == case.score.band and memo.comparison.source == "none"


def test_replay_uses_the_template_versions_the_memo_was_written_with(
    memo_workspace, source, tmp_path, monkeypatch
):
    """A memo written while an older template was current replays byte for byte after a newer
    one becomes current: replay pins the versions the memo records."""
    import assistant.memo.config as memo_module
    from prompts.loader import load_prompt

    def older_release(name: str, version: int | None = None):
        return load_prompt(
            name, version if version is not None else (2 if name == "document_summary" else None)
        )

    case_id = source.ids("applicant")[3]
    with AuditStore.open(tmp_path / "audit.sqlite") as audit:
        monkeypatch.setattr(memo_module, "load_prompt", older_release)
        written = generate_memo(source, case_id, open_llm(memo_workspace), audit, memo_config(memo_workspace))
        monkeypatch.undo()
        assert {"name": "document_summary", "version": 2} in [
            {k: p[k] for k in ("name", "version")} for p in json.loads(written.rendered.json_text)["prompts"]
        ]
        assert load_prompt("document_summary").version > 2  # a newer one is current now
        replayed = replay_memo(audit, written.memo_id)
    assert replayed.identical, replayed.differences


def test_memo_once_gives_a_runs_recorded_memo_back_without_calling_the_llm(memo_workspace, source, tmp_path):
    """What the local batch's workers and Spark's tasks both call: the first call writes and records the
    memo; any later attempt of the same run (a retried task) gets that memo back, with no LLM call."""
    from assistant.memo.once import memo_once

    case_id = source.ids("applicant")[4]
    config = memo_config(memo_workspace)
    with AuditStore.open(tmp_path / "audit.sqlite") as audit:
        first = memo_once(source, case_id, open_llm(memo_workspace), audit, config, run_id="run-a")
        calls = audit.count("llm_calls")
        unusable = fake_llm(ScriptedChat(reply="must never be asked"), "unused")
        again = memo_once(source, case_id, unusable, audit, config, run_id="run-a")
        assert audit.count("llm_calls") == calls  # the retry made no call
        other_run = memo_once(source, case_id, unusable, audit, config, run_id="run-b")
        assert audit.count("llm_calls") > calls  # another run writes its own memo
        assert len(audit.rows("memos", {"merchant_id": case_id})) == 2
    assert not first.recovered and first.tokens > 0
    assert again.recovered and again.memo_id == first.memo_id and again.tokens == 0
    assert again.rendered.markdown == first.rendered.markdown and again.rendered.memo is None
    assert not other_run.recovered and other_run.memo_id != first.memo_id


def test_a_timed_out_partial_answer_is_marked_and_never_reused(tmp_path):
    """A model cut off by the timeout: its partial answer is recorded with finish_reason 'timeout',
    and the summary cache asks again instead of serving it."""
    from assistant.memo.calls import CallBook
    from models.backends.llm import LLM, LLMParams
    from prompts.loader import load_prompt
    from tests.fakes import SlowChat

    slow = LLM("fake", "fake:slow", LLMParams(max_tokens=64, timeout_s=0.3), SlowChat(words=["Refunds"] * 40))
    prompt = load_prompt("document_summary").render(tag="C1", title="T", section="S", text="Refunds rose.")
    with AuditStore.open(tmp_path / "a.sqlite") as audit:
        first = CallBook.live(slow, audit)
        partial = first.ask("summary", prompt)
        assert 0 < len(partial.split()) < 40 and first.calls[0].call.timed_out
        audit.append_many(first.new_rows())
        assert audit.rows("llm_calls")[0]["finish_reason"] == "timeout"
        again = CallBook.live(slow, audit)
        again.ask("summary", prompt)
        assert again.calls[0].cached is False  # asked again, not served the cut-off answer
        assert audit.verify().ok
