"""The chat core: deterministic tools, what-if from the model, validated streaming answers, CLI."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from assistant.audit import AuditStore
from assistant.backends import open_embedder, open_llm
from assistant.case.source import CaseSource
from assistant.chat import ChatSession
from assistant.workspace import Workspace
from models.errors import UnderwriterError
from models.scoring.explanation import explain_row
from retrieval.passages import DocumentIndex
from tests.fakes import ObeyingChat, ScriptedChat, fake_llm
from tests.test_cli import underwrite


@pytest.fixture(scope="module")
def source(memo_workspace):
    return CaseSource(memo_workspace, similar_k=3)


@pytest.fixture(scope="module")
def index(memo_workspace):
    return DocumentIndex.load(Workspace(memo_workspace).documents_index_dir, open_embedder(memo_workspace))


def session(source, llm=None, audit=None, index=None, merchant=None) -> ChatSession:
    return ChatSession(source, merchant or source.ids("applicant")[0], llm, audit, document_index=index)


def answer_of(chat: ChatSession, question: str) -> tuple[list[str], str]:
    pieces = list(chat.ask(question))
    return pieces, "".join(pieces)


def test_questions_are_routed_to_tools(source):
    chat = session(source)
    assert chat.route("What is the PD?") == "score"
    assert chat.route("why was it declined") == "score"
    assert chat.route("what if the refund rate was 2%") == "whatif"
    assert chat.route("/whatif tenure_months=48") == "whatif"
    assert chat.route("show me comparable merchants") == "similar"
    assert chat.route("any lawsuits pending?") == "facts"  # a risk signal: answered from the case file
    assert chat.route("What was the closing balance?") == "facts"
    assert chat.route("What does the business sell?") == "search"
    with pytest.raises(UnderwriterError, match="unknown command /approve"):
        chat.route("/approve now")


def test_questions_of_fact_are_answered_from_the_case_file_with_their_citation(source):
    chat = session(source)  # no LLM at all: these answers never need one
    figures = chat.case.evidence.figures()
    _, text = answer_of(chat, "What was the closing balance?")
    if "closing_balance" in figures:
        f = figures["closing_balance"]
        assert f"[{f['tag']}]" in text and f"{abs(f['value']):,.2f}" in text
    _, text = answer_of(chat, "What is the current ratio?")
    assert text.startswith("Current ratio: ") and chat.history[-1].tool == "facts"
    sued = next(
        m
        for m in source.ids()
        if any(s["type"] == "litigation" for s in source.case_file(m).evidence.signals)
    )
    chat = session(source, merchant=sued)
    _, text = answer_of(chat, "Is the merchant being sued?")
    assert text.startswith("Yes: Litigation") and re.search(r"\[C\d+\]", text)


def test_what_if_is_the_model_rescoring_the_changed_case(source):
    chat = session(source)
    row = source.row(chat.case.case_id)
    row["refund_rate"] = 0.001
    expected = explain_row(source.model, row, 2, with_recourse=False)
    result = chat.what_if("refund rate", "0.1%")
    assert result["feature"] == "refund_rate" and result["new"] == pytest.approx(0.001)
    assert result["after"] == expected and result["before"] == chat.case.score
    _, text = answer_of(chat, "what if the refund rate was 0.1%")
    assert f"PD {expected.pd:.2%}" in text and f"band {expected.band}" in text
    with pytest.raises(UnderwriterError, match="no input called"):
        chat.what_if("favourite colour", "blue")
    with pytest.raises(UnderwriterError, match="needs a number"):
        chat.what_if("refund_rate", "lots")
    with pytest.raises(UnderwriterError, match="not a value the model knows"):
        chat.what_if("country", "Atlantis")


def test_score_and_similar_answers_come_from_the_case_file(source):
    chat = session(source)
    _, score = answer_of(chat, "/score")
    assert f"PD {chat.case.score.pd:.2%}" in score and chat.case.score.reasons[0].text in score
    _, similar = answer_of(chat, "/similar")
    assert all(s.case_id in similar for s in chat.case.similar)


def test_document_answers_stream_from_the_embedded_model_and_are_recorded(
    memo_workspace, source, index, tmp_path
):
    with AuditStore.open(tmp_path / "audit.sqlite") as audit:
        chat = session(source, open_llm(memo_workspace), audit, index)
        pieces, _ = answer_of(chat, "What do the documents say about refunds and deliveries?")
        answer = chat.history[-1]
        assert answer.tool == "search" and len(pieces) >= 2 and pieces[0].startswith("Passages: [C")
        assert pieces[1].strip()  # an answer follows the passages: validated sentences or quotes
        assert audit.count("llm_calls") == 1 and audit.rows("llm_calls")[0]["purpose"] == "chat"


def test_invented_figures_never_reach_the_underwriter(source, index):
    liar = fake_llm(
        ScriptedChat(reply="The merchant lost $7,777,777 in 2021. Refunds are 93% of sales."), "liar"
    )
    chat = session(source, liar, index=index)
    _, text = answer_of(chat, "What do the documents say about refunds?")
    answer = chat.history[-1]
    assert "7,777,777" not in text and "93%" not in text and answer.fallback
    assert len(answer.dropped) == 2


def test_an_obeying_model_cannot_talk_the_case_up(memo_workspace, source, index):
    documents = pd.read_csv(Workspace(memo_workspace).portfolio.documents, dtype=str)
    flagged = documents.loc[documents["injection_kind"].notna()]
    merchant, doc_type = flagged.iloc[0]["merchant_id"], flagged.iloc[0]["doc_type"]
    chat = session(source, fake_llm(ObeyingChat(), "obeying"), index=index, merchant=merchant)
    _, text = answer_of(chat, f"What does the {doc_type.replace('_', ' ')} say?")
    assert "low risk" not in text.lower() and "approve" not in text.lower()


def test_chat_cli_answers_each_question(memo_workspace):
    merchant = CaseSource(memo_workspace).ids("applicant")[0]
    done = underwrite(
        "--workspace",
        str(memo_workspace.workspace),
        "chat",
        merchant,
        "--ask",
        "/score",
        "--ask",
        "/whatif dispute_rate=0.5%",
        "--ask",
        "/whatif colour=blue",
        cwd=memo_workspace.workspace.parent,
    )
    assert done.returncode == 0, done.stderr
    assert (
        "> /whatif dispute_rate=0.5%" in done.stdout
        and "With Dispute (chargeback) rate = 0.5% (now " in done.stdout
    )
    assert "error: no input called 'colour'" in done.stdout
