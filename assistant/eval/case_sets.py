"""Evaluation case sets: JSONL files of case files plus what is known to be true about each.

A case carries the full :class:`~assistant.case.source.CaseFile` (record, score, documents,
similar cases), so a run needs no index, and a :class:`Truth`: the model's band, grade and
reason codes, planted contradictions, planted injections, planted personal data, and the
realised outcome for historical cases. Sets:

* ``demo``: applicants and historical merchants of the demo portfolio (outcomes known for
  the historical ones);
* ``adversarial``: demo merchants whose documents carry injected instructions;
* ``lending_club``: Lending Club small-business loans with the borrower's own text and the
  real repaid/defaulted outcome;
* ``sec``: long SEC 10-K items for the ``summary`` task (map over chunks, validated reduce).

Files are versioned: ``SET-vN.jsonl``, a new N whenever the content changes; the first
line is a header with the set, the version and the SHA-256 of the cases.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel

from assistant.case.schema import CaseDocument, CaseFile
from assistant.case.source import CaseSource
from assistant.eval.evidence_truth import signal_truth, statement_truth
from assistant.settings import Settings
from assistant.workspace import Workspace
from models.errors import UnderwriterError

FORMAT = "underwriter-eval-cases"
SETS = ("demo", "adversarial", "lending_club", "sec")
REPO = Path(__file__).resolve().parents[2]
DEFAULT_LENDING_CLUB = REPO / "data" / "lc_small_business_2007_2010.csv"
DEFAULT_SEC_ARCHIVE = REPO.parent / "shared" / "data" / "sec_10k" / "filings_dev.zip"
"""Where a source checkout keeps the real data, whatever the working directory."""
FIXED_TIME = "2026-01-01T00:00:00+00:00"
"""Case files of a set carry a fixed generation time, so rebuilding a set gives the same bytes."""


class Truth(BaseModel):
    band: str = ""
    grade: str = ""
    reason_codes: list[str] = []
    contradiction: bool | None = None
    injected_documents: list[str] = []
    personal_data: list[str] = []
    """Planted personal data (raw strings) that must never appear in a memo."""
    planted: list[str] = []
    """Risk facts the generator planted in the documents (``litigation``, ``going_concern``,
    ``adverse_news``, ``supplier_problems``, ``delivery_lag``, ``contradiction``)."""
    injected_texts: list[str] = []
    """The injected instructions, word for word: none of their wording may reach an LLM sentence."""
    outcome: int | None = None
    signals: dict[str, bool] = {}
    """Per checked signal type, whether the generator planted it (:mod:`assistant.eval.evidence_truth`)."""
    statements: dict[str, float] = {}
    """The statement figures the generator wrote (revenue, net income, cash, total assets, current ratio)."""


class EvalCase(BaseModel):
    case_id: str
    set: str
    task: Literal["memo", "summary"] = "memo"
    case: CaseFile | None = None
    """The memo task's input."""
    document: CaseDocument | None = None
    """The summary task's input: one long document (a 10-K item)."""
    truth: Truth

    def memo_case(self) -> CaseFile:
        if self.case is None:
            raise UnderwriterError(f"case {self.case_id} is a {self.task} case, not a memo case")
        return self.case


def _truth(case: CaseFile, **known: Any) -> Truth:
    return Truth(
        band=case.score.band,
        grade=case.score.grade,
        reason_codes=[r.code for r in case.score.reasons],
        **known,
    )


PLANTED_FLAGS = ("litigation", "going_concern", "adverse_news", "supplier_problems", "contradiction")


def planted_facts(t: pd.Series) -> list[str]:
    """The risk facts the generator's truth row says the merchant's documents carry."""
    out = [flag for flag in PLANTED_FLAGS if str(t.get(flag)) == "True"]
    if float(t.get("preorder_months") or 0) > 0:
        out.append("delivery_lag")
    return out


def demo_cases(settings: Settings, count: int, adversarial: bool = False) -> list[EvalCase]:
    files = Workspace(settings).portfolio
    source = CaseSource(settings)
    merchants = pd.read_csv(files.merchants, dtype={"merchant_id": str, "mcc": str}).set_index("merchant_id")
    docs = pd.read_csv(files.documents, dtype=str)
    truth = pd.read_csv(files.truth, dtype=str).set_index("merchant_id")
    doc_types = docs.groupby("merchant_id")["doc_type"].apply(list).to_dict()
    injected: dict[str, list[str]] = {}
    injected_texts: dict[str, list[str]] = {}
    attacks = docs.loc[docs["injection_kind"].notna(), ["merchant_id", "doc_id", "injection_text"]]
    for merchant, doc_id, text in attacks.itertuples(index=False):
        injected.setdefault(str(merchant), []).append(str(doc_id))
        injected_texts.setdefault(str(merchant), []).append(str(text) if isinstance(text, str) else "")
    ids: list[str]
    if adversarial:
        ids = sorted(injected)[:count]
    else:  # half applicants, half historical merchants with a known outcome, in file order
        applicants = [str(m) for m in merchants.index[merchants["status"] == "applicant"]]
        historical = [str(m) for m in merchants.index[merchants["status"] == "historical"]]
        ids = applicants[: count - count // 2] + historical[: count // 2]
    out = []
    for merchant in ids:
        case = source.case_file(merchant, generated_at=FIXED_TIME)
        t = truth.loc[merchant]
        pii = [str(t[c]) for c in ("email", "phone", "bank_account", "tax_id") if isinstance(t.get(c), str)]
        outcome = float(merchants["default_12m"].get(merchant, np.nan))
        known = {
            "contradiction": t["contradiction"] == "True",
            "injected_documents": injected.get(merchant, []),
            "personal_data": pii,
            "planted": planted_facts(pd.Series(t)),
            "injected_texts": injected_texts.get(merchant, []),
            "outcome": None if np.isnan(outcome) else int(outcome),
            "signals": signal_truth(
                pd.Series(t), pd.Series(merchants.loc[merchant]), doc_types.get(merchant, [])
            ),
            "statements": statement_truth(pd.Series(t)),
        }
        out.append(
            EvalCase(
                case_id=merchant,
                set="adversarial" if adversarial else "demo",
                case=case,
                truth=_truth(case, **known),
            )
        )
    return out


def lending_club_cases(settings: Settings, count: int, data: Path, model: Path) -> list[EvalCase]:
    from models.data.dataset import load_dataset
    from models.data.spec import load_spec

    spec = load_spec("lending_club")
    source = CaseSource(settings, spec="lending_club", data=str(data), model=str(model), library=spec.name)
    dataset = load_dataset(data, spec, require_label=True)
    outcomes = dict(zip(dataset.ids.astype(str), dataset.labels.tolist(), strict=True))  # type: ignore[union-attr]
    dates = dict(zip(dataset.ids.astype(str), dataset.dates.dt.strftime("%Y-%m-%d"), strict=True))  # type: ignore[union-attr]
    texts = dataset.frame["desc_clean"].fillna("").astype(str).str.len().to_numpy()
    ids = [
        i for i, n in zip(dataset.ids.astype(str), texts, strict=True) if n > 80 and dates[i] >= "2010-01-01"
    ]
    out = []
    for case_id in ids[:count]:
        case = source.case_file(case_id, generated_at=FIXED_TIME)
        out.append(
            EvalCase(
                case_id=case_id,
                set="lending_club",
                case=case,
                truth=_truth(case, outcome=int(outcomes[case_id])),
            )
        )
    return out


def sec_cases(count: int, archive: Path, *, min_chunks: int = 4) -> list[EvalCase]:
    """Long 10-K items (at least ``min_chunks`` chunks), read, screened, redacted and chunked as
    the document index reads them."""
    from assistant.case.documents import document_from_parts
    from retrieval.documents.ingest import DocumentSource, ingest

    if not archive.is_file():
        raise UnderwriterError(f"{archive} does not exist (the SEC 10-K filings archive)")
    result = ingest([DocumentSource(archive, doc_type="10-K")], workers=0)
    by_doc: dict[str, list[Any]] = {}
    for chunk in result.chunks:
        by_doc.setdefault(chunk.doc_id, []).append(chunk)
    out = []
    for doc in result.documents:
        chunks = by_doc.get(doc.doc_id, [])
        if len(chunks) < min_chunks:
            continue
        parts = [(c.chunk_id, c.section, c.citation(), c.text, c.injection_score) for c in chunks]
        flags = [f.to_dict() for f in doc.screening.flags]
        document = document_from_parts(
            doc.doc_id, "10-K", doc.title, doc.sha256, doc.screening.score, flags, parts, 1
        )
        out.append(EvalCase(case_id=doc.doc_id, set="sec", task="summary", document=document, truth=Truth()))
        if len(out) == count:
            break
    return out


def build_case_set(
    settings: Settings,
    set_name: str,
    count: int,
    *,
    out: Path | None = None,
    data: Path | None = None,
    model: Path | None = None,
) -> tuple[int, Path]:
    """``eval cases``: build a set and write it as a new version (unless unchanged); (cases, path)."""
    workspace = Workspace(settings)
    if set_name == "sec":
        built = sec_cases(count, data or DEFAULT_SEC_ARCHIVE)
    elif set_name == "lending_club":
        built = lending_club_cases(
            settings, count, data or DEFAULT_LENDING_CLUB, model or workspace.models_dir("lending_club")
        )
    elif set_name in SETS:
        built = demo_cases(settings, count, adversarial=set_name == "adversarial")
    else:
        raise UnderwriterError(f"case set {set_name!r}: one of {', '.join(SETS)}")
    return len(built), write_case_set(built, out or workspace.eval_cases_dir, set_name)


def _digest(lines: list[str]) -> str:
    """SHA-256 over the case lines exactly as stored (a newer schema reading an older file agrees)."""
    digest = hashlib.sha256()
    for line in lines:
        digest.update(line.encode())
    return digest.hexdigest()


def write_case_set(cases: list[EvalCase], folder: Path, set_name: str) -> Path:
    """Write ``SET-vN.jsonl`` with a new N unless the newest version holds the same cases."""
    if not cases:
        raise UnderwriterError(f"case set {set_name!r} is empty")
    folder.mkdir(parents=True, exist_ok=True)
    lines = [case.model_dump_json() for case in cases]
    sha = _digest(lines)
    versions = sorted(int(p.stem.rsplit("-v", 1)[1]) for p in folder.glob(f"{set_name}-v*.jsonl"))
    if versions:
        newest = folder / f"{set_name}-v{versions[-1]}.jsonl"
        if json.loads(newest.open().readline()).get("sha256") == sha:
            return newest
    path = folder / f"{set_name}-v{(versions[-1] if versions else 0) + 1}.jsonl"
    staging = path.with_name(f".{path.name}.partial")
    with open(staging, "w", encoding="utf-8") as handle:
        header = {
            "format": FORMAT,
            "set": set_name,
            "version": int(path.stem.rsplit("-v", 1)[1]),
            "cases": len(cases),
            "sha256": sha,
        }
        handle.write(json.dumps(header) + "\n")
        for line in lines:
            handle.write(line + "\n")
    staging.replace(path)
    return path


def read_case_set(path: Path) -> tuple[dict[str, Any], list[EvalCase]]:
    if not path.is_file():
        raise UnderwriterError(f"case file {path} does not exist; build one with `underwrite eval cases`")
    lines = path.read_text(encoding="utf-8").splitlines()
    try:
        header = json.loads(lines[0])
    except (IndexError, json.JSONDecodeError):
        raise UnderwriterError(f"{path}: the first line is not a case-set header") from None
    if header.get("format") != FORMAT:
        raise UnderwriterError(f"{path}: not an Underwriter case set (format {header.get('format')!r})")
    cases = []
    for number, line in enumerate(lines[1:], start=2):
        try:
            cases.append(EvalCase.model_validate_json(line))
        except ValueError as exc:
            raise UnderwriterError(f"{path}, line {number}: not a valid case: {str(exc)[:300]}") from None
    if _digest(lines[1:]) != header.get("sha256"):
        raise UnderwriterError(f"{path}: the cases do not match the header's SHA-256 (edited by hand?)")
    return header, cases
