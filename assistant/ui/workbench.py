"""The workbench's services: everything the screens show, as plain data, with no Gradio in sight.

One :class:`Workbench` per app process. It starts in well under a second: the case source
(model, document store) and the LLM load in a background thread (:mod:`assistant.ui.shared_models`),
so the first page is served while they load, and a case page needs only the model and the stored
evidence. It composes services: the case source builds cases, the memo writer writes and records
memos, the decision log records decisions; the queue and the case page's view have their own modules.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from assistant.audit import AuditStore
from assistant.case.application import application_id, application_row
from assistant.case.schema import CaseFile
from assistant.case.source import CaseSource
from assistant.case.uploads import read_uploads
from assistant.chat import ChatSession
from assistant.memo.config import memo_config
from assistant.memo.record import MemoResult, MemoStep, write_memo
from assistant.memo.schema import DocumentFinding, Memo
from assistant.settings import Settings
from assistant.ui.background import BackgroundIndex
from assistant.ui.case_view import CaseView, case_view
from assistant.ui.decision_desk import DecisionDesk
from assistant.ui.shared_models import SharedModels
from assistant.ui.work_queue import WorkQueue
from assistant.workspace import Workspace
from models.backends.llm import LLM
from models.data.application_frame import application_frame
from models.errors import UnderwriterError

OPEN_CASES = 64
"""Case files kept in memory (LRU): the ones open in any browser tab."""


class Workbench:
    def __init__(self, settings: Settings, *, llm: LLM | None = None):
        self.settings = settings
        self.workspace = Workspace(settings)
        self.models = SharedModels(settings, llm)
        self.work_queue = WorkQueue(self.workspace)
        self.indexing = BackgroundIndex(settings)
        self.desk = DecisionDesk(settings, self.workspace)
        self._load_lock = threading.Lock()
        self._source: CaseSource | None = None
        self._cases: OrderedDict[str, tuple[CaseFile, pd.DataFrame]] = OrderedDict()

    def start_background_loading(self) -> threading.Thread:
        """Load the case source, the queue and the monthly series, then the LLM, off the request path."""

        def load() -> None:
            try:
                _ = self.source
                self.work_queue.frame()
                self.work_queue.monthly("")  # a case page's sparklines read this table
            except UnderwriterError:
                pass  # shown on the page that needs it
            self.models.load_llm()

        thread = threading.Thread(target=load, name="workbench-loader", daemon=True)
        thread.start()
        return thread

    @property
    def source(self) -> CaseSource:
        with self._load_lock:
            published = self._source is not None and self._source.store is None
            if published and self.workspace.has_document_index():
                self._source = None  # the background build has published the index: use it from now on
                self.models.forget_index()
            if self._source is None:
                self._source = CaseSource(self.settings)
            return self._source

    def audit(self) -> AuditStore:
        return self.workspace.open_audit()

    # ---- case page ---------------------------------------------------------------------------------

    def _remember(self, case: CaseFile, row: pd.DataFrame) -> None:
        self._cases[case.case_id] = (case, row)
        self._cases.move_to_end(case.case_id)
        while len(self._cases) > OPEN_CASES:
            self._cases.popitem(last=False)

    def case(self, case_id: str) -> tuple[CaseFile, pd.DataFrame]:
        if case_id not in self._cases:
            self.open_case(case_id)
        return self._cases[case_id]

    def open_case(self, case_id: str) -> CaseView:
        started = time.perf_counter()
        case_id = case_id.strip()
        if not case_id:
            raise UnderwriterError("choose a merchant from the queue (or type its id)")
        source = self.source
        row = source.row(case_id)
        case = source.case_file(case_id)
        self._remember(case, row)
        notes = []
        if source.store is None:
            notes.append(
                "Documents read from the merchant's files now: the document index is still being built."
            )
            failures = source.read_on_the_spot(case_id)[0].failures
            notes += [f"{Path(f.source).name} could not be read: {f.error}" for f in failures]
        return self._view(case, row, started, notes)

    def _view(self, case: CaseFile, row: pd.DataFrame, started: float, notes: list[str]) -> CaseView:
        try:
            portfolio_pd = self.work_queue.frame()["PD"].to_numpy(dtype=float)
        except UnderwriterError:
            portfolio_pd = None
        return case_view(
            case,
            row,
            self.source.spec,
            portfolio_pd=portfolio_pd,
            monthly=self.work_queue.monthly(case.case_id),
            notes=notes,
            started=started,
            similar_note=self.indexing.similar_note(case),
        )

    def new_case(self, fields: dict[str, Any], uploads: list[Path], *, name: str = "") -> CaseView:
        """Score a new application entered on screen, with its uploaded documents read safely."""
        started = time.perf_counter()
        source = self.source
        row = application_row(source.spec, fields)
        case_id = application_id(row, uploads)
        today = datetime.now(UTC).date().isoformat()
        frame = application_frame(source.spec, row, name=name, decided_at=today)
        documents, notes = read_uploads(self.settings, case_id, uploads)
        case = source.new_case_file(case_id, frame, documents)
        self._remember(case, frame)
        return self._view(case, frame, started, notes)

    # ---- memo, decision, chat ---------------------------------------------------------------------

    def write_memo(self, case: CaseFile, run_id: str) -> Iterator[MemoStep]:
        """The memo writer's steps for ``case`` with the shared LLM (held for the whole memo)."""
        llm = self.models.llm()
        with self.models.lock, self.audit() as audit:
            yield from write_memo(audit, case, llm, memo_config(self.settings), run_id=run_id)

    def memo_stream(
        self, case_id: str, session: str = ""
    ) -> Iterator[tuple[list[DocumentFinding], Memo | None, str]]:
        """(findings so far, the memo when done, status line) as the memo is written; recorded at the end."""
        case, _ = self.case(case_id)
        yield [], None, f"Writing the memo: {len(case.documents)} document(s) to read…"
        findings: list[DocumentFinding] = []
        run_id = f"workbench-{session or 'local'}-{uuid.uuid4().hex[:8]}"  # one id per memo written
        for step in self.write_memo(case, run_id):
            if isinstance(step, DocumentFinding):
                findings.append(step)
                yield list(findings), None, f"Read {len(findings)} of {len(case.documents)} document(s)…"
            elif isinstance(step, MemoResult):
                self.desk.wrote_memo(session, case_id, step.memo_id)
                took = f"{step.llm_seconds:.1f} s of LLM time, {step.calls} call(s)"
                memo = step.rendered.memo
                yield findings, memo, f"Memo {step.memo_id} recorded in the audit trail ({took})."

    def chat_session(self, case_id: str, *, with_llm: bool = True) -> ChatSession:
        case, row = self.case(case_id)
        llm = None
        if with_llm:
            try:
                llm = self.models.llm()
            except UnderwriterError:
                llm = None  # tools still answer; document answers fall back to quoted passages
        in_portfolio = case_id in self.source.frame.index and self.source.store is not None
        index = self.models.document_index() if in_portfolio else None
        return ChatSession(self.source, case_id, llm, None, document_index=index, case=case, row=row)
