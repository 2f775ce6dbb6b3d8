"""Decisions taken on the workbench: who may sign, which memo each browser session wrote (a decision
links to its own memo), and the decision log of a case."""

from __future__ import annotations

from assistant.case.schema import CaseFile
from assistant.decisions import Decision, decisions_for, record_decision
from assistant.settings import Settings
from assistant.ui.auth import decision_identity
from assistant.workspace import Workspace


class DecisionDesk:
    def __init__(self, settings: Settings, workspace: Workspace):
        self.settings = settings
        self.workspace = workspace
        self._memo_ids: dict[tuple[str, str], str] = {}
        """(browser session, case) -> the memo that session wrote."""

    def wrote_memo(self, session: str, case_id: str, memo_id: str) -> None:
        self._memo_ids[(session, case_id)] = memo_id

    def memo_id(self, case_id: str, session: str = "") -> str:
        """The memo this browser session wrote for the case, else the latest one recorded, else ''."""
        if (session, case_id) in self._memo_ids:
            return self._memo_ids[(session, case_id)]
        with self.workspace.open_audit() as audit:
            rows = audit.rows("memos", {"merchant_id": case_id})
        return rows[-1]["memo_id"] if rows else ""

    def identity(self, typed: str | None, signed_in: str | None) -> tuple[str, bool]:
        """(name recorded, authenticated): with sign-in on, only the signed-in name."""
        return decision_identity(bool(self.settings.ui.auth_file), typed, signed_in)

    def decide(
        self,
        case: CaseFile,
        decision: str,
        who: tuple[str, bool],
        *,
        session: str = "",
        conditions: str,
        note: str,
        override_reason: str,
    ) -> tuple[Decision, list[tuple[str, Decision]]]:
        """Record a decision on the case, against its model band and PD; returns it and the history."""
        memo_id = self.memo_id(case.case_id, session)
        with self.workspace.open_audit() as audit:
            made = record_decision(
                audit,
                case_id=case.case_id,
                model_band=case.score.band,
                model_pd=case.scored_pd(),
                decision=decision,
                underwriter=who[0],
                authenticated=who[1],
                memo_id=memo_id,
                conditions=conditions,
                note=note,
                override_reason=override_reason,
            )
            history = decisions_for(audit, case.case_id)
        return made, history

    def decisions(self, case_id: str) -> list[tuple[str, Decision]]:
        with self.workspace.open_audit() as audit:
            return decisions_for(audit, case_id)
