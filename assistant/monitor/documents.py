"""New documents of merchants on the book (``underwrite monitor --documents DIR``): ``DIR/<merchant_id>/*``,
read by the same sandboxed readers as uploads, screened, and searched for risk signals by the same
rules as a case file's documents (:mod:`retrieval.evidence`)."""

from __future__ import annotations

from pathlib import Path

from assistant.case.evidence import case_evidence
from assistant.case.uploads import read_uploads
from assistant.settings import Settings
from models.errors import UnderwriterError

SEVERE = {"high", "medium"}
"""Signals of these severities raise an alert; a low-severity one is left to the next memo."""


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
        files = sorted(f for f in folder.iterdir() if f.is_file())
        documents, _ = read_uploads(settings, folder.name, files)
        found = [s["type"] for s in case_evidence(documents, {}).signals if s.get("severity") in SEVERE]
        if found:
            out[folder.name] = list(dict.fromkeys(found))
    return out
