"""Case files for one workspace (the demo portfolio), one labelled dataset with a spec, or a new application.

Everything heavy (model, data, document store, case library) is loaded once per source, so a
batch worker builds many case files cheaply; similar cases are found from the record and the
model the source already holds (:func:`retrieval.similar_cases.search.find_similar`).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd

from assistant.case.documents import indexed_documents, people_in_row, redact_people, text_column_documents
from assistant.case.evidence import case_evidence
from assistant.case.facts import find_contradictions, key_facts
from assistant.case.portfolio_documents import read_case_documents
from assistant.case.schema import CaseDocument, CaseFile, similar_rows
from assistant.settings import Settings
from assistant.workspace import PORTFOLIO_LIBRARY, PORTFOLIO_SPEC, Workspace
from models.backends.embedders import load_tokenizer
from models.backends.tokenizer import Tokenizer
from models.data.dataset import load_dataset
from models.data.spec import load_spec
from models.errors import UnderwriterError
from models.scoring.explain import plain
from models.scoring.explanation import Explanation, explain_row
from models.store.artifacts import RiskModel, load_model
from models.store.versioned import has_current
from retrieval.documents.ingest import IngestResult
from retrieval.similar_cases.library import CaseLibrary
from retrieval.similar_cases.search import SimilarReport, find_similar
from retrieval.vector_store.store import VectorStore

REQUEST_FIELDS = ("product", "requested_amount", "loan_amnt")
UNSCORED_MODEL = {"label": "none (not scored)", "model_id": "none", "policy": "none"}
READ_CASES_KEPT = 64
"""Cases read on the spot (before the document index exists) kept in memory."""


class CaseSource:
    def __init__(
        self,
        settings: Settings,
        *,
        spec: str | None = None,
        data: str | None = None,
        model: str | None = None,
        library: str | None = None,
        similar_k: int | None = None,
    ):
        self.settings = settings
        self.workspace = Workspace(settings)
        self.similar_k = settings.memo.similar_cases if similar_k is None else similar_k
        self.portfolio = spec is None or spec == PORTFOLIO_SPEC
        if self.portfolio:
            frame = self._open_portfolio(model)
        else:
            if spec is None or not data:
                raise UnderwriterError("a dataset case source needs --data FILE with --spec")
            frame = self._open_dataset(spec, data, model, library)
        self.frame = frame.set_index(self.id_column, drop=False)
        self._cases: CaseLibrary | None = None
        self._read: dict[str, tuple[IngestResult, list[CaseDocument]]] = {}
        self._tokenizer: Tokenizer | None = None

    def _open_portfolio(self, model: str | None) -> pd.DataFrame:
        self.workspace.require_demo()
        self.model: RiskModel | None = load_model(
            model or self.workspace.model_dir, nthread=self.settings.threads
        )
        self.spec = self.model.spec
        self.id_column = "merchant_id"
        # Until the document index is built (in the background, on a first run), a case's documents
        # are read when the case is opened: the same readers and chunks, no embeddings needed.
        self.documents_dir = self.workspace.documents_index_dir
        self.store: VectorStore | None = (
            VectorStore.load(self.documents_dir) if self.workspace.has_document_index() else None
        )
        self.library = PORTFOLIO_LIBRARY
        return pd.read_csv(self.workspace.portfolio.merchants, dtype={"mcc": str, "merchant_id": str})

    def _open_dataset(self, spec: str, data: str, model: str | None, library: str | None) -> pd.DataFrame:
        dataset_spec = load_spec(spec)
        if model is None and dataset_spec.label is not None:
            raise UnderwriterError(
                f"spec {dataset_spec.name} has a label, so its cases are scored: give --model DIR (a model trained "
                "on it); only a spec without a label is reviewed unscored"
            )
        self.model = None if model is None else load_model(model, nthread=self.settings.threads)
        self.spec = dataset_spec if self.model is None else self.model.spec
        dataset = load_dataset(data, dataset_spec, require_label=False)
        frame = dataset.frame.copy()
        if dataset.dates is not None and dataset_spec.date is not None:
            frame[dataset_spec.date.column] = dataset.dates.dt.strftime("%Y-%m-%d").to_numpy()
        self.id_column = "__case_id"
        frame[self.id_column] = dataset.ids.astype(str).to_numpy()
        self.documents_dir = self.workspace.dataset_documents_dir(dataset_spec.name)
        self.store = VectorStore.load(self.documents_dir) if has_current(self.documents_dir) else None
        self.library = library or ""
        return frame

    def risk_model(self) -> RiskModel:
        """The model that scores this source's cases; a clear error for an unscored dataset."""
        if self.model is None:
            raise UnderwriterError(
                f"no risk model scores {self.spec.name}: its cases are reviewed on their documents"
            )
        return self.model

    def ids(self, status: str | None = None) -> list[str]:
        frame = self.frame
        if status and "status" in frame:
            frame = frame[frame["status"] == status]
        return [str(i) for i in frame.index]

    def row(self, case_id: str) -> pd.DataFrame:
        if case_id not in self.frame.index:
            raise UnderwriterError(f"case {case_id!r} is not in the data ({len(self.frame):,} cases)")
        return self.frame.loc[[case_id]].reset_index(drop=True)

    def documents(self, case_id: str, row: pd.Series) -> list[CaseDocument]:
        if (
            self.store is not None and not self.portfolio
        ):  # the user's own documents, received by the case date
            date = row.get(self.spec.date.column) if self.spec.date is not None else None
            found = indexed_documents(self.store, case_id, received_by=str(date)[:10] if date else None)
            return found + text_column_documents(
                self.spec, case_id, row, first_tag=1 + sum(len(d.chunks) for d in found)
            )
        if self.store is not None:
            return indexed_documents(self.store, case_id)
        if self.portfolio:
            return self.read_on_the_spot(case_id)[1]
        return text_column_documents(self.spec, case_id, row)

    def read_on_the_spot(self, case_id: str) -> tuple[IngestResult, list[CaseDocument]]:
        """A portfolio case's documents read from its files now (no document index yet); kept for reuse."""
        if case_id not in self._read:
            if self._tokenizer is None:
                self._tokenizer = load_tokenizer(self.settings.index.embedder)
            self._read[case_id] = read_case_documents(
                self.settings,
                self.workspace.portfolio,
                case_id,
                count=self._tokenizer.count_tokens,
                model_max_tokens=self._tokenizer.max_tokens,
            )
            while len(self._read) > READ_CASES_KEPT:
                self._read.pop(next(iter(self._read)))
        return self._read[case_id]

    def _library(self) -> CaseLibrary | None:
        if self._cases is None:
            root = self.workspace.case_library_dir(self.library)
            if not has_current(root):  # not built yet (or still building: never loaded half-built)
                return None
            self._cases = CaseLibrary.load(root)  # once per source, not once per memo
        return self._cases

    def similar(self, case_id: str, row: pd.DataFrame, *, in_index: bool = True) -> SimilarReport | None:
        """Similar past cases of ``row``, decided before its date. ``in_index``: the case's documents
        are in the document index (a new application's uploads are not, so its narrative is left out)."""
        if not self.library or not self.similar_k or self.model is None:
            return None
        cases = self._library()
        if cases is None:
            return None
        date_column = self.spec.date.column if self.spec.date is not None else None
        decided_at = str(row[date_column].iloc[0])[:10] if date_column in row else None
        return find_similar(
            cases,
            self.library,
            case_id,
            k=self.similar_k,
            record=row,
            decided_at=decided_at,
            model=self.model,
            documents=self.store if in_index else None,
            nthread=self.settings.threads,
        )

    def case_file(self, case_id: str, *, generated_at: str | None = None) -> CaseFile:
        row = self.row(case_id)
        documents = self.documents(case_id, row.iloc[0])
        return self._assemble(case_id, row, documents, self.similar(case_id, row), generated_at)

    def new_case_file(self, case_id: str, row: pd.DataFrame, documents: list[CaseDocument]) -> CaseFile:
        """A case that is not in the data yet (a new application): its feature row and uploaded
        documents. Similar cases compare the tabular profile only (the library's narrative
        vectors come from the document index, which the new documents are not in)."""
        return self._assemble(case_id, row, documents, self.similar(case_id, row, in_index=False), None)

    def case_as_of(self, case_id: str, month: str, record: pd.Series) -> CaseFile:
        """The case as of a monitored month: that month's record of the model's inputs (the book
        monitor's history), dated at the month's end, with the case's documents."""
        row = self.row(case_id)
        documents = self.documents(case_id, row.iloc[0])
        for feature in self.spec.features:
            if feature in record.index:
                row[feature] = record[feature]
        if self.spec.date is not None:
            month_end = pd.Period(month, freq="M").to_timestamp(how="end")
            row[self.spec.date.column] = month_end.strftime("%Y-%m-%d")
        return self.new_case_file(case_id, row, documents)

    def _assemble(
        self,
        case_id: str,
        row: pd.DataFrame,
        documents: list[CaseDocument],
        similar: SimilarReport | None,
        generated_at: str | None,
    ) -> CaseFile:
        first = row.iloc[0]
        as_of = None
        if self.spec.date is not None and self.spec.date.column in first:
            as_of = str(first[self.spec.date.column])[:10]
        names = {f: self.spec.display_name(f) for f in self.spec.features}
        documents = redact_people(documents, people_in_row(first))
        request = {k: plain(first[k]) for k in REQUEST_FIELDS if k in first}
        return CaseFile(
            case_id=case_id,
            name=str(first["legal_name"]) if "legal_name" in first else None,
            dataset=self.spec.name,
            as_of=as_of,
            generated_at=generated_at or datetime.now(UTC).isoformat(timespec="seconds"),
            model=UNSCORED_MODEL
            if self.model is None
            else {
                "label": self.model.label,
                "model_id": self.model.model_id,
                "policy": self.model.policy.label,
            },
            request=request,
            score=Explanation.unscored()
            if self.model is None
            else explain_row(self.model, row, self.settings.threads),
            facts=key_facts(self.spec, first),
            documents=documents,
            similar=similar_rows(similar),
            similar_library=self.library or None,
            contradictions=find_contradictions(self.spec.claims, names, first, documents),
            evidence=case_evidence(documents, request),
        )
