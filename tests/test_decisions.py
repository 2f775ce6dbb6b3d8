"""Recorded decisions: one service for the CLI and the workbench, refusing what is wrong before anything is stored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.audit import AuditStore
from assistant.decisions import (
    Decision,
    append_decision,
    decide_on_memo,
    decisions_for,
    parse_conditions,
    record_decision,
)
from models.errors import UnderwriterError


def test_decisions_need_a_reason_to_override_and_keep_conditions(tmp_path: Path) -> None:
    with AuditStore.open(tmp_path / "audit.sqlite") as audit:
        base = Decision("M1", "decline", "ana", memo_id="memo-1", model_band="refer", model_pd=0.07)
        with pytest.raises(UnderwriterError, match="override reason"):
            append_decision(audit, base)
        with pytest.raises(UnderwriterError, match="decision must be one of"):
            append_decision(audit, Decision("M1", "maybe", "ana"))
        with pytest.raises(UnderwriterError, match="underwriter"):
            append_decision(audit, Decision("M1", "refer", "  ", model_band="refer"))
        assert audit.count("decisions") == 0  # refused decisions leave no row
        base.override_reason = "litigation note in the documents"
        base.conditions = parse_conditions("reserve 10%; monthly review\n\npersonal guarantee")
        append_decision(audit, base)
        audit.append(
            "decisions",
            memo_id="memo-0",
            merchant_id="M1",
            underwriter="bo",
            decision="refer",
            note="old style",
        )
        [(_, first), (_, second)] = decisions_for(audit, "M1")
        assert audit.verify().ok
    assert first.is_override and first.conditions == ["reserve 10%", "monthly review", "personal guarantee"]
    assert first.model_pd == 0.07 and first.override_reason.startswith("litigation")
    assert second.note == "old style" and second.model_band is None and not second.is_override
    assert json.loads(json.dumps(first.note_json()))  # the stored note is JSON text


def test_decide_parses_typed_conditions_and_refuses_a_silent_override(tmp_path: Path) -> None:
    with AuditStore.open(tmp_path / "audit.sqlite") as audit:
        form = {"case_id": "M7", "model_band": "approve", "model_pd": 0.012, "underwriter": "ana"}
        with pytest.raises(UnderwriterError, match="override reason"):
            record_decision(audit, decision="decline", **form)
        assert audit.count("decisions") == 0
        made = record_decision(
            audit, decision="approve", conditions="reserve 5%\n; quarterly review;;", **form
        )
        [(_, stored)] = decisions_for(audit, "M7")
    assert made.conditions == stored.conditions == ["reserve 5%", "quarterly review"]
    assert not stored.is_override and stored.model_band == "approve" and stored.model_pd == 0.012


def test_a_decision_on_an_unknown_memo_is_a_clear_error_and_records_nothing(tmp_path: Path) -> None:
    with AuditStore.open(tmp_path / "audit.sqlite") as audit:
        with pytest.raises(UnderwriterError, match="no memo 'memo-nope'"):
            decide_on_memo(audit, "memo-nope", decision="approve", underwriter="ana")
        assert audit.count("decisions") == 0
