"""The workspace's portfolio cases for a long-running face (the decision service): case ids, similar past
cases and memos, through one case source built on first use and shared by every request."""

from __future__ import annotations

import threading

from assistant.audit import AuditStore
from assistant.case.source import CaseSource
from assistant.memo.config import memo_config
from assistant.memo.record import MemoResult, generate_memo
from assistant.settings import Settings
from models.backends.llm import LLM
from retrieval.similar_cases.search import SimilarReport


class PortfolioCases:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._lock = threading.Lock()
        self._source: CaseSource | None = None

    def _cases(self) -> CaseSource:
        with self._lock:
            if self._source is None:
                self._source = CaseSource(self.settings)
            return self._source

    def ids(self) -> list[str]:
        return self._cases().ids()

    def check_case(self, case_id: str) -> None:
        """A clear error (:class:`UnderwriterError`) for a case id not in the portfolio."""
        self._cases().row(case_id)

    def similar(self, case_id: str) -> SimilarReport | None:
        """Similar past cases decided before the case's date; None without a similar-case library."""
        source = self._cases()
        return source.similar(case_id, source.row(case_id))

    def write_memo(self, case_id: str, llm: LLM, audit: AuditStore) -> MemoResult:
        """One memo of the case with the configured memo settings, recorded in ``audit``."""
        return generate_memo(self._cases(), case_id, llm, audit, memo_config(self.settings))
