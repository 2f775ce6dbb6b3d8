"""New documents of merchants on the book (``underwrite monitor --documents DIR``): ``DIR/<merchant_id>/*``,
read by the same sandboxed readers as uploads (:mod:`assistant.file_reading`), redacted, and searched for
risk signals by the same rules as a case file's documents (:mod:`retrieval.evidence.found`)."""

from __future__ import annotations

from pathlib import Path

from assistant.file_reading import read_files
from assistant.settings import Settings
from models.errors import UnderwriterError
from retrieval.documents.pii import redact
from retrieval.evidence.found import evidence_in
from retrieval.evidence.signals import Passage

SEVERE = {"high", "medium"}
"""Signals of these severities raise an alert; a low-severity one is left to the next memo."""


def _signals_in(settings: Settings, merchant_id: str, files: list[Path]) -> list[str]:
    read = read_files(settings, merchant_id, files)
    titles = {d.doc_id: d.title or Path(d.source).name for d in read.documents}
    passages, sections = [], {}
    for i, chunk in enumerate(read.chunks):
        tag = f"C{i + 1}"
        passages.append(Passage(tag, chunk.doc_id, chunk.citation(), redact(chunk.text)[0]))
        sections[tag] = f"{titles.get(chunk.doc_id, '')} {chunk.section}"
    signals, _ = evidence_in(passages, sections)
    return list(dict.fromkeys(s.type for s in signals if s.severity in SEVERE))


def signals_in_new_documents(settings: Settings, root: Path, merchants: set[str]) -> dict[str, list[str]]:
    """Merchant -> the risk-signal types its new documents state (each once, in order found)."""
    if not root.is_dir():
        raise UnderwriterError(f"--documents {root}: not a folder (expected one sub-folder per merchant id)")
    unknown = sorted(p.name for p in root.iterdir() if p.is_dir() and p.name not in merchants)
    if unknown:
        raise UnderwriterError(
            f"--documents {root}: folders for merchants not in this month's data: {unknown[:5]}"
        )
    out: dict[str, list[str]] = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        found = _signals_in(settings, folder.name, sorted(f for f in folder.iterdir() if f.is_file()))
        if found:
            out[folder.name] = found
    return out
