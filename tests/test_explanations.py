"""Explanations an officer can sign: formats, mitigants, recourse checked by re-scoring, notices, golden memos."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from assistant.audit import AuditStore
from assistant.case.source import CaseSource
from assistant.memo.compose import compose_memo
from assistant.memo.config import memo_config
from assistant.memo.explain_text import recourse_lines, risk_rating_lines
from assistant.memo.record import generate_memo
from assistant.memo.render import to_markdown
from assistant.memo.schema import Memo
from assistant.notice.issue import issue_notice, lender_of
from assistant.notice.letter import NoticeRefusedError, build_notice
from assistant.settings import load_settings
from models.data.formats import format_value
from models.data.policy import BANDS
from models.data.spec import load_spec, parse_spec
from models.errors import SpecError
from models.scoring.explanation import explain_row
from models.scoring.score import score_matrix
from models.store.artifacts import load_model
from tests.conftest import LENDING_CLUB, SHARED_DATA, require_file
from tests.fakes import ScriptedChat, fake_llm

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
QUIET_LLM = fake_llm(ScriptedChat(reply="Nothing to add."), "quiet")


def test_values_read_as_their_format_declares():
    assert format_value(0.1223, "percent") == "12.23%"
    assert format_value(6.5, "percent_points") == "6.5%"
    assert format_value(1430.0, "currency") == "$1,430" and format_value(70.86, "currency") == "$70.86"
    assert format_value(-445.5, "currency", currency="DM ") == "-DM 445.50"
    assert format_value(16.0, "count") == "16" and format_value(79.0, "months") == "79 months"
    assert format_value(1, "days") == "1 day" and format_value(None, "months") == "none"
    assert format_value(float("nan"), "currency") == "none" and format_value("NJ", "category") == "NJ"
    lc = load_spec("lending_club")
    assert [lc.shown(f, v) for f, v in [("int_rate", 0.1223), ("open_acc", 16.0), ("revol_bal", 1430.0)]] == [
        "12.23%",
        "16",
        "$1,430",
    ]


def test_a_spec_with_a_bad_format_or_actionable_column_is_a_clear_error():
    base = "name: x\nnumeric: [a]\ncategorical: [c]\n"
    with pytest.raises(SpecError, match="formats"):
        parse_spec(base + "formats: {a: percentage}\n", "x.yaml")
    with pytest.raises(SpecError, match="formats given for columns that are not features"):
        parse_spec(base + "formats: {b: percent}\n", "x.yaml")
    with pytest.raises(SpecError, match="actionable columns must be numeric features"):
        parse_spec(base + "actionable: [c]\n", "x.yaml")


@pytest.fixture(scope="module")
def applicants(portfolio, trained):
    model = load_model(trained.version_dir)
    frame = pd.read_csv(portfolio.merchants, dtype={"mcc": str, "merchant_id": str})
    return model, frame[frame["status"] == "applicant"].reset_index(drop=True)


def test_mitigants_are_material_numeric_values_with_their_standing(applicants):
    model, frame = applicants
    seen = 0
    for i in range(0, len(frame), 7):
        score = explain_row(model, frame.iloc[[i]].reset_index(drop=True), 2)
        for m in score.mitigants:
            seen += 1
            assert m["feature"] in model.spec.numeric and m["value"] is not None
            assert m["contribution"] < model.policy.explanations.mitigant_below
            assert "past applicants" in m["detail"] and m["shown"] in m["detail"]
        for r in score.reasons:  # reasons state value and standing too; a missing value says so
            stated = r.standing
            assert stated and (
                r.feature in model.spec.categorical
                or "%" in stated
                or "none recorded" in stated
                or "past applicants" in stated
            )
    assert seen > 10


def test_every_recourse_in_the_demo_portfolio_moves_the_band_when_rescored(applicants):
    """Each suggested change, applied to the applicant's row and scored again by the plain scoring path
    (not the search), reaches the band it promises; most refer and decline cases have one."""
    model, frame = applicants
    x, _ = model.encoder.transform(frame)
    scored, _ = score_matrix(model, x, frame, reasons="none")
    adverse = [i for i in range(len(frame)) if scored["band"].iloc[i] != "approve"]
    feasible = 0
    for i in adverse:
        row = frame.iloc[[i]].reset_index(drop=True)
        recourse = explain_row(model, row, 2).recourse
        assert recourse["target"] == BANDS[BANDS.index(scored["band"].iloc[i]) - 1]
        for option in recourse["options"]:
            changed = row.copy()
            for c in option["changes"]:
                assert c["feature"] in model.spec.actionable
                changed[c["feature"]] = changed[c["feature"]].astype(float)
                changed.loc[0, c["feature"]] = c["proposed"]
            again = explain_row(model, changed, 2, with_recourse=False)
            assert BANDS.index(again.band) <= BANDS.index(recourse["target"]), option["text"]
            assert round(again.pd, 6) == round(option["pd"], 6)
        feasible += recourse["feasible"]
    print(f"recourse feasible for {feasible} of {len(adverse)} refer/decline applicants")
    assert len(adverse) > 50 and feasible / len(adverse) > 0.6


# ---- notices -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_memos(memo_workspace, tmp_path_factory):
    source = CaseSource(memo_workspace)
    audit = AuditStore.open(tmp_path_factory.mktemp("notices") / "audit.sqlite")
    declined = [c for c in source.ids("applicant") if source.case_file(c).score.band == "decline"]
    for case_id in declined:
        generate_memo(source, case_id, QUIET_LLM, audit, memo_config(memo_workspace))
    yield source, audit, declined
    audit.close()


def test_every_declined_demo_applicant_gets_a_recorded_notice(memo_workspace, demo_memos):
    source, audit, declined = demo_memos
    assert declined
    for case_id in declined:
        issued = issue_notice(memo_workspace, audit, source, case_id, issued_on="2026-11-30")
        text = issued.notice.markdown
        assert "## Principal reasons for our decision" in text and memo_workspace.lender.name in text
        assert "right to a statement of the specific reasons" in text and issued.notice.memo_id in text
        assert 1 <= len(issued.notice.reasons) <= 4 and not issued.memo_written
        assert "<li>" in issued.notice.html or "<p>" in issued.notice.html
    rows = audit.rows("notices")
    assert [r["merchant_id"] for r in rows] == declined and all(r["decision"] == "decline" for r in rows)
    assert audit.verify().ok


def test_a_notice_is_refused_for_an_approved_case_and_for_a_forbidden_reason(memo_workspace, demo_memos):
    source, audit, declined = demo_memos
    approved = next(c for c in source.ids("applicant") if source.case_file(c).score.band == "approve")
    generate_memo(source, approved, QUIET_LLM, audit, memo_config(memo_workspace))
    before = audit.count("notices")
    with pytest.raises(NoticeRefusedError, match="is not declined"):
        issue_notice(memo_workspace, audit, source, approved)
    memo = Memo.model_validate_json(audit.rows("memos", {"merchant_id": declined[0]})[-1]["json_text"])
    banned = memo.reasons[0]["feature"]
    with pytest.raises(NoticeRefusedError, match=f"{memo.reasons[0]['code']} \\({banned}\\)"):
        build_notice(
            memo,
            "memo-x",
            lender_of(memo_workspace),
            forbidden=[banned],
            hard_stop_columns={},
            issued_on="2026-11-30",
        )
    assert audit.count("notices") == before  # nothing recorded for a refused notice


def test_german_credit_notices_refuse_protected_characteristics(tmp_path, real_model):
    """On real data: the generic policy forbids sex/marital status, age and foreign-worker status on a notice;
    a declined applicant whose principal reasons include one gets no notice, the others get theirs."""
    data = require_file(SHARED_DATA / "german_credit.csv")
    settings = load_settings(None, workspace=tmp_path / "ws", threads=2)
    outcome = real_model("german_credit", data)
    source = CaseSource(settings, spec="german_credit", data=str(data), model=str(outcome.version_dir))
    forbidden = set(source.risk_model().policy.explanations.notice_forbidden)
    refused = issued = 0
    with AuditStore.open(tmp_path / "audit.sqlite") as audit:
        for case_id in source.ids()[:300]:
            case = source.case_file(case_id)
            if case.score.band != "decline":
                continue
            generate_memo(source, case_id, QUIET_LLM, audit, memo_config(settings))
            if {r.feature for r in case.score.reasons[:4]} & forbidden:
                with pytest.raises(NoticeRefusedError, match="forbids on a notice"):
                    issue_notice(settings, audit, source, case_id)
                refused += 1
            else:
                notice = issue_notice(settings, audit, source, case_id).notice
                assert not any(r.feature in forbidden for r in notice.reasons)
                issued += 1
        assert audit.count("notices") == issued
    assert refused > 0 and issued > 0


# ---- golden memos --------------------------------------------------------------------------------


def explanation_markdown(memo: Memo) -> str:
    """The memo's deterministic explanation: key metrics, risk rating, mitigants and recourse."""
    text = to_markdown(memo)
    metrics = text[text.index("| metric | value |") : text.index("### Document summaries")]
    mitigants = [line for line in text.splitlines() if line.startswith("- Mitigant:")]
    return "\n".join(
        [
            metrics.strip(),
            "",
            *risk_rating_lines(memo),
            *mitigants,
            "",
            *recourse_lines(memo.recourse, memo.decision["band"]),
        ]
    )


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / f"{name}.md"
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"{path} missing: run UPDATE_GOLDEN=1 pytest {__file__}"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from {path}"


def one_per_band(source: CaseSource, ids: list[str]) -> list[str]:
    chosen: dict[str, str] = {}
    for case_id in ids:
        chosen.setdefault(source.case_file(case_id).score.band, case_id)
        if len(chosen) == 3:
            break
    return [chosen[b] for b in BANDS if b in chosen]


def golden_memo(source: CaseSource, case_id: str, config) -> Memo:  # type: ignore[no-untyped-def]
    from assistant.memo.calls import CallBook

    case = source.case_file(case_id, generated_at="2026-11-30T00:00:00+00:00")
    return compose_memo(case, CallBook.live(QUIET_LLM, None), config)


def test_golden_memos_for_three_demo_merchants(memo_workspace):
    source = CaseSource(memo_workspace)
    picked = one_per_band(source, source.ids())
    assert len(picked) == 3
    for case_id in picked:
        memo = golden_memo(source, case_id, memo_config(memo_workspace))
        assert not any(
            m.endswith(": none") or m.split(" —")[0].endswith(("US", "GB")) for m in memo.mitigants
        )
        check_golden(f"demo_{case_id}", explanation_markdown(memo))


def test_golden_memos_for_three_lending_club_loans(tmp_path, real_model):
    data = require_file(LENDING_CLUB)
    settings = load_settings(None, workspace=tmp_path / "ws", threads=2)
    outcome = real_model("lending_club", data, test_from=date(2010, 1, 1))
    source = CaseSource(settings, spec="lending_club", data=str(data), model=str(outcome.version_dir))
    late = [i for i in source.ids() if str(source.row(i)["issue_d"].iloc[0]) >= "2010-06-01"]
    picked = one_per_band(source, late)
    assert len(picked) == 3
    for case_id in picked:
        memo = golden_memo(source, case_id, memo_config(settings))
        text = explanation_markdown(memo)
        assert "0.1" not in text.split("| Interest rate |")[1].split("\n")[0]  # a rate reads as a percent
        check_golden(f"lending_club_{case_id.replace(':', '_')}", text)
