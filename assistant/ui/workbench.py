"""The workbench's services: everything the screens show, as plain data, with no Gradio in sight.

One :class:`Workbench` per app process. It starts in well under a second: the case source
(model, document store) and the LLM load in a background thread, so the first page is
served while they load, and a case page needs only the model and the stored evidence.
The LLM is shared and not thread-safe, so every LLM call takes :attr:`llm_lock`.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from assistant.audit import AuditStore
from assistant.backends import open_embedder, open_llm
from assistant.case.application import application_frame, application_id, application_row
from assistant.case.schema import CaseFile
from assistant.case.source import CaseSource
from assistant.case.uploads import read_uploads
from assistant.chat import ChatSession
from assistant.decisions import Decision, decide, decisions_for
from assistant.memo.calls import CallBook
from assistant.memo.compose import memo_steps
from assistant.memo.config import memo_config
from assistant.memo.record import record_memo
from assistant.memo.schema import DocumentFinding, Memo
from assistant.settings import Settings
from assistant.ui.auth import decision_identity
from assistant.ui.background import BackgroundIndex
from assistant.workspace import Workspace
from models.backends.llm import LLM
from models.errors import UnderwriterError
from models.scoring.score import contributions

OPEN_CASES = 64
"""Case files kept in memory (LRU): the ones open in any browser tab."""
WAITING_FOR_LLM_S = 120


@dataclass
class CaseView:
    case: CaseFile
    row: pd.DataFrame
    percentile: float | None
    attribution: list[tuple[str, float]]
    """(input, contribution in log-odds), largest first, the rest summed as "other inputs"."""
    base_margin: float
    pd_of_margin: dict[float, float]
    monthly: pd.DataFrame | None
    notes: list[str]
    seconds: float
    similar_note: str | None = None
    """Why no similar cases are shown (the library is still being built), else None."""


class Workbench:
    def __init__(self, settings: Settings, *, llm: LLM | None = None):
        self.settings = settings
        self.workspace = Workspace(settings)
        self.llm_lock = threading.Lock()
        self._load_lock = threading.Lock()
        self._index_lock = threading.Lock()
        self._source: CaseSource | None = None
        self._source_error: str | None = None
        self._llm = llm
        self._llm_error: str | None = None
        self._llm_ready = threading.Event()
        if llm is not None:
            self._llm_ready.set()
        self._index: Any | None = None
        self._index_error: str | None = None
        self._queue: pd.DataFrame | None = None
        self._monthly: pd.DataFrame | None = None
        self._cases: OrderedDict[str, tuple[CaseFile, pd.DataFrame]] = OrderedDict()
        self._memo_ids: dict[tuple[str, str], str] = {}
        """(browser session, case) -> the memo that session wrote: a decision links to its own memo."""
        self.indexing = BackgroundIndex(settings)

    # ---- loading ---------------------------------------------------------------------------------

    def start_background_loading(self) -> threading.Thread:
        """Load the case source, then the LLM, off the request path (cold start stays short)."""

        def load() -> None:
            try:
                _ = self.source
                _ = self.queue_frame()
                self.monthly("")  # a case page's sparklines read this table
            except UnderwriterError:
                pass  # shown on the page that needs it
            self._load_llm()
            # The document index (and its embedder, torch) loads on the first chat question: importing
            # torch here would hold the import lock and both cores while the first case page renders.

        thread = threading.Thread(target=load, name="workbench-loader", daemon=True)
        thread.start()
        return thread

    @property
    def source(self) -> CaseSource:
        with self._load_lock:
            if (
                self._source is not None
                and self._source.store is None
                and self.workspace.has_document_index()
            ):
                self._source = None  # the background build has published the index: use it from now on
                self._index, self._index_error = None, None
            if self._source is None:
                try:
                    self._source = CaseSource(self.settings)
                except UnderwriterError as exc:
                    self._source_error = str(exc)
                    raise
            return self._source

    def _load_llm(self) -> None:
        if self._llm_ready.is_set():
            return
        try:
            self._llm = open_llm(self.settings, threads=self.settings.threads)
        except Exception as exc:  # a missing model file or a bad backend setting: shown, not fatal
            self._llm_error = f"{type(exc).__name__}: {exc}"
        finally:
            self._llm_ready.set()

    def llm(self) -> LLM:
        if not self._llm_ready.is_set():
            threading.Thread(target=self._load_llm, daemon=True).start()
        if not self._llm_ready.wait(WAITING_FOR_LLM_S):
            raise UnderwriterError("the LLM is still loading; try again in a moment")
        if self._llm is None:
            raise UnderwriterError(f"the LLM backend is not available ({self._llm_error})")
        return self._llm

    def llm_status(self) -> str:
        if not self._llm_ready.is_set():
            return "LLM loading…"
        if self._llm is None:
            return f"LLM unavailable: {self._llm_error}"
        return f"LLM ready: {self._llm.model_id}"

    def document_index(self) -> Any | None:
        """The semantic passage search over the portfolio's documents (chat), or None if unavailable."""
        with self._index_lock:  # not the source's lock: a case page never waits for the embedder
            if self._index is None and self._index_error is None:
                try:
                    from retrieval.passages import DocumentIndex

                    self._index = DocumentIndex.load(
                        self.workspace.documents_index_dir, open_embedder(self.settings)
                    )
                except Exception as exc:  # chat falls back to keyword search over the case's passages
                    self._index_error = f"{type(exc).__name__}: {exc}"
            return self._index

    def audit(self) -> AuditStore:
        return self.workspace.open_audit()

    # ---- queue -----------------------------------------------------------------------------------

    def queue_frame(self) -> pd.DataFrame:
        """Every merchant of the portfolio with its score: the work queue's rows."""
        if self._queue is None:
            files = self.workspace.portfolio
            if not files.exists() or not self.workspace.scores_path.is_file():
                raise UnderwriterError(
                    f"no scored portfolio in {self.settings.workspace}; run `underwrite demo` (or `make run`)"
                )
            merchants = pd.read_csv(files.merchants, dtype={"mcc": str, "merchant_id": str})
            scores = pd.read_csv(self.workspace.scores_path, dtype={"id": str}, keep_default_na=False)
            frame = merchants.merge(scores, left_on="merchant_id", right_on="id", how="inner")
            self._queue = pd.DataFrame(
                {
                    "merchant": frame["merchant_id"],
                    "name": frame["legal_name"],
                    "status": frame["status"],
                    "industry": frame["industry"],
                    "country": frame["country"],
                    "PD": frame["pd"].astype(float).round(4),
                    "grade": frame["grade"],
                    "band": frame["band"],
                    "requested": frame["requested_amount"].astype(float).round(0),
                    "flags": frame["policy_flags"].astype(str),
                    "reasons": frame["reason_1"].astype(str),
                }
            )
        return self._queue

    def queue(
        self, status: str = "applicant", search: str = "", sort_by: str = "PD", limit: int = 200
    ) -> pd.DataFrame:
        frame = self.queue_frame()
        if status and status != "all":
            frame = frame[frame["status"] == status]
        needle = search.strip().lower()
        if needle:
            text = (
                frame["merchant"] + " " + frame["name"] + " " + frame["industry"] + " " + frame["flags"]
            ).str.lower()
            frame = frame[text.str.contains(needle, regex=False)]
        if sort_by not in frame.columns:
            raise UnderwriterError(f"cannot sort by {sort_by!r}; columns: {', '.join(frame.columns)}")
        ascending = sort_by in {"merchant", "name", "industry", "country", "grade"}
        return (
            frame.sort_values(sort_by, ascending=ascending, kind="stable").head(limit).reset_index(drop=True)
        )

    # ---- case page ---------------------------------------------------------------------------------

    def monthly(self, merchant_id: str) -> pd.DataFrame | None:
        """One merchant's monthly volume, refunds and disputes (the sparklines), or None."""
        if self._monthly is None:
            path = self.workspace.portfolio.monthly
            table = pd.read_csv(path, dtype={"merchant_id": str}) if path.is_file() else pd.DataFrame()
            self._monthly = table.set_index("merchant_id").sort_index() if len(table) else table
        if not len(self._monthly) or merchant_id not in self._monthly.index:
            return None
        return self._monthly.loc[[merchant_id]].reset_index(drop=True)

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
        model = self.source.risk_model()
        x, _ = model.encoder.transform(row)
        contrib = contributions(model, x, nthread=self.settings.threads)[0]
        names = model.encoder.feature_names
        order = np.argsort(-np.abs(contrib[:-1]), kind="stable")
        shown = order[:8]
        items = [
            (f"{model.spec.display_name(names[i])} = {_shown(row, names[i])}", float(contrib[i]))
            for i in shown
        ]
        rest = float(contrib[:-1][order[8:]].sum())
        if len(order) > 8:
            items.append((f"{len(order) - 8} other inputs", rest))
        base = float(contrib[-1])
        final = float(contrib.sum())
        pds = model.calibrator(np.array([base, final]))
        try:
            portfolio = self.queue_frame()["PD"].to_numpy(dtype=float)
            percentile: float | None = float((portfolio < case.scored_pd()).mean())
        except UnderwriterError:
            percentile = None
        return CaseView(
            case=case,
            row=row,
            percentile=percentile,
            attribution=items,
            base_margin=base,
            pd_of_margin={base: float(pds[0]), final: float(pds[1])},
            monthly=self.monthly(case.case_id),
            notes=notes,
            seconds=time.perf_counter() - started,
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

    def memo_stream(
        self, case_id: str, session: str = ""
    ) -> Iterator[tuple[list[DocumentFinding], Memo | None, str]]:
        """(findings so far, the memo when done, status line) as the memo is written; recorded at the end."""
        case, _ = self.case(case_id)
        yield [], None, f"Writing the memo: {len(case.documents)} document(s) to read…"
        llm = self.llm()
        config = memo_config(self.settings)
        findings: list[DocumentFinding] = []
        with self.llm_lock, self.audit() as audit:
            book = CallBook.live(llm, audit)
            for step in memo_steps(case, book, config):
                if isinstance(step, DocumentFinding):
                    findings.append(step)
                    yield list(findings), None, f"Read {len(findings)} of {len(case.documents)} document(s)…"
                elif isinstance(step, Memo):
                    run_id = (
                        f"workbench-{session or 'local'}-{uuid.uuid4().hex[:8]}"  # one id per memo written
                    )
                    result = record_memo(audit, case, book, step, config, run_id=run_id)
                    self._memo_ids[(session, case_id)] = result.memo_id
                    took = f"{book.seconds():.1f} s of LLM time, {len(book.calls)} call(s)"
                    yield findings, step, f"Memo {result.memo_id} recorded in the audit trail ({took})."

    def memo_id(self, case_id: str, session: str = "") -> str:
        """The memo this browser session wrote for the case, else the latest one recorded, else ''."""
        if (session, case_id) in self._memo_ids:
            return self._memo_ids[(session, case_id)]
        with self.audit() as audit:
            rows = audit.rows("memos", {"merchant_id": case_id})
        return rows[-1]["memo_id"] if rows else ""

    def identity(self, typed: str | None, signed_in: str | None) -> tuple[str, bool]:
        return decision_identity(bool(self.settings.ui.auth_file), typed, signed_in)

    def decide(
        self,
        case_id: str,
        decision: str,
        who: tuple[str, bool],
        *,
        session: str = "",
        conditions: str,
        note: str,
        override_reason: str,
    ) -> tuple[Decision, list[tuple[str, Decision]]]:
        """Record a decision on the case in view, against its model band and PD; returns it and the history."""
        case, _ = self.case(case_id)
        with self.audit() as audit:
            made = decide(
                audit, case_id=case_id, model_band=case.score.band, model_pd=case.scored_pd(), decision=decision,
                underwriter=who[0], authenticated=who[1], memo_id=self.memo_id(case_id, session),
                conditions=conditions, note=note, override_reason=override_reason,
            )  # fmt: skip
            history = decisions_for(audit, case_id)
        return made, history

    def decisions(self, case_id: str) -> list[tuple[str, Decision]]:
        with self.audit() as audit:
            return decisions_for(audit, case_id)

    def chat_session(self, case_id: str, *, with_llm: bool = True) -> ChatSession:
        case, row = self.case(case_id)
        llm = None
        if with_llm:
            try:
                llm = self.llm()
            except UnderwriterError:
                llm = None  # tools still answer; document answers fall back to quoted passages
        in_portfolio = case_id in self.source.frame.index and self.source.store is not None
        index = self.document_index() if in_portfolio else None
        return ChatSession(self.source, case_id, llm, None, document_index=index, case=case, row=row)


def _shown(row: pd.DataFrame, column: str) -> str:
    if column not in row:
        return "?"
    value = row[column].iloc[0]
    if isinstance(value, float | np.floating):
        return f"{value:,.4g}"
    return str(value)
