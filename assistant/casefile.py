"""The case file: everything a memo or a chat answer may draw on, gathered before any LLM runs.

A :class:`CaseFile` holds the model's score, grade, band, policy flags and reason codes,
the key facts, the merchant's documents (chunks redacted of personal data, each with a
citation tag ``C1``, ``C2`` ...), similar past cases (tags ``S1`` ...), and the
contradictions found between what documents state and what the data says. It is plain
data (JSON in and out), stored with every memo so that ``audit replay`` can rebuild the
memo without the indexes.

:class:`CaseSource` builds case files for the demo portfolio (documents from the document
index) or for any labelled dataset with a spec (documents from its text columns).
"""

from __future__ import annotations

import hashlib
import math
import re
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

from assistant.indexing import PORTFOLIO_LIBRARY, SimilarReport, similar_cases
from assistant.settings import Settings
from assistant.workflows import PORTFOLIO_SPEC
from models.artifacts import RiskModel, load_model
from models.dataset import load_dataset
from models.demo_data.generate import PortfolioFiles
from models.errors import UnderwriterError
from models.scoring import contributions, score_matrix
from models.spec import load_spec
from retrieval.documents.pii import redact
from retrieval.documents.screening import FLAG_AT
from retrieval.similar_cases.library import CaseLibrary
from retrieval.vector_store.store import VectorStore

MAX_DOCUMENT_CHARS = 1500
"""Text-column documents (a loan description) are cut to this many characters."""
CLAIM_TOLERANCE = 0.5
"""A stated figure more than this fraction away from the data is a contradiction."""


class ScoreFacts(BaseModel):
    pd: float
    grade: str
    band: str
    policy_flags: list[dict[str, str]]
    reasons: list[dict[str, str]]
    mitigants: list[dict[str, Any]]


class Fact(BaseModel):
    key: str
    name: str
    value: Any


class CaseChunk(BaseModel):
    tag: str
    chunk_id: str
    section: str
    citation: str
    text: str
    injection_score: float


class CaseDocument(BaseModel):
    doc_id: str
    doc_type: str
    title: str
    sha256: str
    injection_score: float
    injection_flags: list[dict[str, Any]]
    redactions: list[dict[str, str]]
    chunks: list[CaseChunk]

    @property
    def flagged(self) -> bool:
        return self.injection_score >= FLAG_AT


class SimilarRow(BaseModel):
    tag: str
    case_id: str
    decided_at: str
    outcome: int | None
    pd: float | None
    grade: str | None
    similarity: float
    closest: list[str]


class Contradiction(BaseModel):
    doc_id: str
    tag: str
    feature: str
    name: str
    stated: float
    recorded: float


class CaseFile(BaseModel):
    case_id: str
    name: str | None
    dataset: str
    as_of: str | None
    generated_at: str
    model: dict[str, str]
    request: dict[str, Any]
    score: ScoreFacts
    facts: list[Fact]
    documents: list[CaseDocument]
    similar: list[SimilarRow]
    similar_library: str | None
    contradictions: list[Contradiction]

    def chunk_sources(self) -> dict[str, str]:
        return {c.tag: c.text for d in self.documents for c in d.chunks}

    def similar_sources(self) -> dict[str, str]:
        return {s.tag: similar_line(s) for s in self.similar}

    def fact_values(self) -> dict[str, Any]:
        values: dict[str, Any] = {f.name: f.value for f in self.facts}
        values.update({f"request {k}": v for k, v in self.request.items()})
        values["as of"] = self.as_of
        values["similar cases"] = len(self.similar)
        known = [s.outcome for s in self.similar if s.outcome is not None]
        values["similar known outcomes"] = len(known)
        values["similar defaults"] = sum(known)
        if known:
            values["similar default rate"] = round(sum(known) / len(known), 4)
        return values


def similar_line(s: SimilarRow) -> str:
    outcome = {None: "outcome not yet known", 1: "defaulted", 0: "performed"}[s.outcome]
    pd_text = f", model PD {s.pd:.1%}" if s.pd is not None else ""
    return f"case {s.case_id}, decided {s.decided_at}, {outcome}{pd_text}, similarity {s.similarity:.2f}"


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def score_row(model: RiskModel, row: pd.DataFrame, nthread: int) -> ScoreFacts:
    """PD, grade, band, flags and reasons of one row, from the model and policy alone."""
    x, _ = model.encoder.transform(row)
    out, contrib = score_matrix(model, x, row, nthread=nthread, reasons="all")
    first = out.iloc[0]
    stops = {s.id: s.text for s in model.policy.hard_stops}
    flags = [{"id": f, "text": stops.get(f, f)} for f in str(first["policy_flags"]).split(";") if f]
    codes = [c for c in str(first["reason_codes"]).split(";") if c]
    texts = [str(first[f"reason_{k + 1}"]) for k in range(len(codes))]
    names = model.encoder.feature_names
    assert contrib is not None
    lowering = np.argsort(contrib[0, :-1], kind="stable")[:3]
    mitigants = [
        {
            "feature": names[i],
            "name": model.spec.display_name(names[i]),
            "value": _plain(row[names[i]].iloc[0]) if names[i] in row else None,
        }
        for i in lowering
        if contrib[0, i] < 0
    ]
    return ScoreFacts(
        pd=float(first["pd"]),
        grade=str(first["grade"]),
        band=str(first["band"]),
        policy_flags=flags,
        reasons=[{"code": c, "text": t} for c, t in zip(codes, texts, strict=True)],
        mitigants=mitigants,
    )


def find_contradictions(
    claims: dict[str, str], names: dict[str, str], row: pd.Series, documents: list[CaseDocument]
) -> list[Contradiction]:
    found = []
    for feature, pattern in claims.items():
        recorded = _plain(row.get(feature))
        if not isinstance(recorded, int | float) or recorded == 0:
            continue
        for doc in documents:
            for chunk in doc.chunks:
                for m in re.finditer(pattern, chunk.text, flags=re.IGNORECASE):
                    try:
                        stated = float(m.group(1).replace(",", "").rstrip("."))
                    except ValueError:
                        continue
                    if abs(stated - recorded) > CLAIM_TOLERANCE * abs(recorded):
                        found.append(
                            Contradiction(
                                doc_id=doc.doc_id,
                                tag=chunk.tag,
                                feature=feature,
                                name=names.get(feature, feature),
                                stated=stated,
                                recorded=float(recorded),
                            )
                        )
    return found


def _similar_rows(report: SimilarReport | None) -> list[SimilarRow]:
    if report is None:
        return []
    return [
        SimilarRow(
            tag=f"S{i}",
            case_id=h.case_id,
            decided_at=h.decided_at,
            outcome=h.outcome,
            pd=h.pd,
            grade=h.grade,
            similarity=round(h.similarity, 4),
            closest=[m.name for m in h.closest],
        )
        for i, h in enumerate(report.hits, start=1)
    ]


def document_from_parts(
    doc_id: str,
    doc_type: str,
    title: str,
    sha256: str,
    injection_score: float,
    flags: list[dict[str, Any]],
    chunks: list[tuple[str, str, str, str, float]],
    next_tag: int,
) -> CaseDocument:
    redactions: list[dict[str, str]] = []
    case_chunks = []
    for i, (chunk_id, section, citation, text, score) in enumerate(chunks):
        clean, found = redact(text)
        redactions += [{"kind": r.kind, "sha256": r.sha256} for r in found]
        case_chunks.append(
            CaseChunk(
                tag=f"C{next_tag + i}",
                chunk_id=chunk_id,
                section=section,
                citation=citation,
                text=clean,
                injection_score=score,
            )
        )
    return CaseDocument(
        doc_id=doc_id,
        doc_type=doc_type,
        title=title,
        sha256=sha256,
        injection_score=injection_score,
        injection_flags=[{k: f.get(k) for k in ("kind", "rule", "excerpt")} for f in flags],
        redactions=redactions,
        chunks=case_chunks,
    )


MIN_DOCUMENT_CHARS = 40
"""Text columns shorter than this (a loan title, a job title) are facts, not documents."""


class CaseSource:
    """Builds case files for one workspace (the demo portfolio) or one labelled dataset.

    Everything heavy (model, data, document store, case library) is loaded once, so a batch
    worker builds many case files cheaply.
    """

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
        self.similar_k = settings.memo.similar_cases if similar_k is None else similar_k
        self.portfolio = spec is None or spec == PORTFOLIO_SPEC
        if self.portfolio:
            files = PortfolioFiles(settings.portfolio_dir)
            if not files.exists() or not (settings.model_dir / "CURRENT").is_file():
                raise UnderwriterError(
                    f"no demo portfolio and model in {settings.workspace}; run `underwrite demo`"
                )
            if not (settings.documents_index_dir / "CURRENT").is_file():
                raise UnderwriterError("no document index; run `underwrite index build`")
            self.model = load_model(model or settings.model_dir, nthread=settings.threads)
            frame = pd.read_csv(files.merchants, dtype={"mcc": str, "merchant_id": str})
            self.id_column = "merchant_id"
            self.store: VectorStore | None = VectorStore.load(settings.documents_index_dir)
            self.library = PORTFOLIO_LIBRARY
        else:
            if spec is None or not data or not model:
                raise UnderwriterError("a dataset case source needs --data FILE and --model DIR with --spec")
            self.model = load_model(model, nthread=settings.threads)
            dataset_spec = load_spec(spec)
            dataset = load_dataset(data, dataset_spec, require_label=False)
            frame = dataset.frame.copy()
            if dataset.dates is not None and dataset_spec.date is not None:
                frame[dataset_spec.date.column] = dataset.dates.dt.strftime("%Y-%m-%d").to_numpy()
            self.id_column = "__case_id"
            frame[self.id_column] = dataset.ids.astype(str).to_numpy()
            self.store = None
            self.library = library or ""
        self.frame = frame.set_index(self.id_column, drop=False)
        self.spec = self.model.spec
        self._cases: CaseLibrary | None = None

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
        documents: list[CaseDocument] = []
        next_tag = 1
        if self.store is not None:
            records = self.store.records("document", merchant_id=case_id)
            ids = [i for i, _ in self.store.items_where("merchant_id = ?", (case_id,))]
            by_doc: dict[str, list[Any]] = {}
            for item in self.store.items(ids):
                by_doc.setdefault(item.payload["doc_id"], []).append(item)
            for doc_id in sorted(records):
                rec = records[doc_id]
                items = sorted(by_doc.get(doc_id, []), key=lambda it: it.payload["start"])
                chunks = [
                    (
                        it.key,
                        it.payload["section"],
                        it.payload["citation"],
                        it.payload["text"],
                        float(it.payload["injection_score"]),
                    )
                    for it in items
                ]
                documents.append(
                    document_from_parts(
                        doc_id,
                        rec["doc_type"],
                        rec["title"],
                        rec["sha256"],
                        float(rec["injection_score"]),
                        rec["injection_flags"],
                        chunks,
                        next_tag,
                    )
                )
                next_tag += len(chunks)
            return documents
        from retrieval.documents.normalise import normalise
        from retrieval.documents.screening import screen

        for column in self.spec.text:
            text = row.get(column)
            if not isinstance(text, str) or not text.strip():
                continue
            if len(text.strip()) < MIN_DOCUMENT_CHARS:
                continue  # shown among the facts
            text = text.strip()[:MAX_DOCUMENT_CHARS]
            sha = hashlib.sha256(text.encode()).hexdigest()
            screening = screen(normalise(text))
            doc_id = f"{case_id}-{column}"
            name = self.spec.display_name(column)
            chunk = (f"{doc_id}-0", name, f"{doc_id}, {name}", text, screening.score)
            flags = [f.to_dict() for f in screening.flags]
            documents.append(
                document_from_parts(doc_id, column, name, sha, screening.score, flags, [chunk], next_tag)
            )
            next_tag += 1
        return documents

    def _library(self) -> CaseLibrary | None:
        if self._cases is None:
            root = self.settings.case_library_dir(self.library)
            if not root.exists():
                return None
            self._cases = CaseLibrary.load(root)  # once per source, not once per memo
        return self._cases

    def similar(self, case_id: str) -> SimilarReport | None:
        if not self.library or self.similar_k == 0:
            return None
        cases = self._library()
        if cases is None:
            return None
        return similar_cases(
            self.settings,
            case_id,
            k=self.similar_k,
            library=self.library,
            cases=cases,
            documents=self.store,
        )

    def case_file(self, case_id: str, *, generated_at: str | None = None) -> CaseFile:
        row = self.row(case_id)
        return self._assemble(
            case_id, row, self.documents(case_id, row.iloc[0]), self.similar(case_id), generated_at
        )

    def new_case_file(
        self, case_id: str, row: pd.DataFrame, documents: list[CaseDocument], *, decided_at: str
    ) -> CaseFile:
        """A case that is not in the data yet (a new application): its feature row and uploaded
        documents. Similar cases compare the tabular profile only (the library's narrative
        vectors come from the document index, which the new documents are not in)."""
        similar = None
        if self.library and self.similar_k:
            cases = self._library()
            if cases is not None:
                contrib = None
                if cases.representation == "contributions":
                    x, _ = self.model.encoder.transform(row)
                    contrib = contributions(self.model, x, nthread=self.settings.threads)[0, :-1]
                query = cases.query_for(
                    row, contributions=contrib, merchant_id=case_id, decided_at=decided_at
                )
                hits = cases.similar(query, k=self.similar_k, as_of=decided_at)
                similar = SimilarReport(case_id, self.library, decided_at, False, hits)
        return self._assemble(case_id, row, documents, similar, None)

    def _assemble(
        self,
        case_id: str,
        row: pd.DataFrame,
        documents: list[CaseDocument],
        similar: SimilarReport | None,
        generated_at: str | None,
    ) -> CaseFile:
        first = row.iloc[0]
        score = score_row(self.model, row, self.settings.threads)
        facts = [
            Fact(key=f, name=self.spec.display_name(f), value=_plain(first.get(f)))
            for f in self.spec.features
        ]
        facts += [
            Fact(key=c, name=self.spec.display_name(c), value=str(first[c]).strip())
            for c in self.spec.text
            if isinstance(first.get(c), str) and 0 < len(str(first[c]).strip()) < MIN_DOCUMENT_CHARS
        ]
        as_of = None
        if self.spec.date is not None and self.spec.date.column in first:
            as_of = str(first[self.spec.date.column])[:10]
        request = {k: _plain(first[k]) for k in ("product", "requested_amount", "loan_amnt") if k in first}
        names = {f: self.spec.display_name(f) for f in self.spec.features}
        return CaseFile(
            case_id=case_id,
            name=str(first["legal_name"]) if "legal_name" in first else None,
            dataset=self.spec.name,
            as_of=as_of,
            generated_at=generated_at or datetime.now(UTC).isoformat(timespec="seconds"),
            model={
                "label": self.model.label,
                "model_id": self.model.model_id,
                "policy": self.model.policy.label,
            },
            request=request,
            score=score,
            facts=facts,
            documents=documents,
            similar=_similar_rows(similar),
            similar_library=self.library or None,
            contradictions=find_contradictions(self.spec.claims, names, first, documents),
        )
