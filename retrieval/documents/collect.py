"""A user's own documents, found and assigned to cases: a folder of case folders (``DIR/<case id>/...``),
a zip archive laid out the same way (or whose files are named after their case), or a manifest CSV
(``case_id, path[, doc_type][, received]``).

Every file becomes a :class:`DocumentSource` dated by when it was received (the manifest's date, else
the case's own decision date), so point-in-time rules hold for it. Anything that cannot be assigned
(an unknown case, a missing file, a bad date) is reported by name and left out; nothing is guessed.
"""

from __future__ import annotations

import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import pandas as pd

from retrieval.documents.ingest import DocumentSource
from retrieval.documents.limits import ReaderLimits
from retrieval.documents.readers import EXTENSIONS, check_archive, read_member
from retrieval.errors import DocumentError

MANIFEST_COLUMNS = ("case_id", "path")
OPTIONAL_COLUMNS = ("doc_type", "received")


@dataclass
class Collected:
    sources: list[DocumentSource] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """One line per file or row left out, saying why."""


def _source(
    path: Path, case_id: str, name: str, doc_type: str | None, received: str | None
) -> DocumentSource:
    return DocumentSource(
        path=path,
        doc_id=f"{case_id}/{name}",
        merchant_id=case_id,
        doc_type=doc_type or _type_of(name, case_id),
        as_of=received,
    )


def _type_of(name: str, case_id: str) -> str:
    """A document's type from its file name (``bank_statement.pdf`` -> ``bank_statement``); a file named
    after its case (a filing) is typed by its format."""
    path = PurePosixPath(name)
    return path.suffix.lstrip(".").lower() if path.stem == case_id else path.stem.lower()


def _readable(path: Path | PurePosixPath) -> bool:
    return path.suffix.lower() in EXTENSIONS and not path.name.startswith(".")


def _from_folder(root: Path, dates: Mapping[str, str | None], out: Collected) -> None:
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if folder.name not in dates:
            out.skipped.append(f"folder {folder.name}: no case {folder.name!r} in the data")
            continue
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            name = path.relative_to(folder).as_posix()
            if not _readable(path):
                out.skipped.append(f"{folder.name}/{name}: not a readable document type")
                continue
            out.sources.append(_source(path, folder.name, name, None, dates[folder.name]))
    for path in sorted(p for p in root.iterdir() if p.is_file()):
        out.skipped.append(f"{path.name}: a file outside any case folder (put it in {root.name}/<case id>/)")


def _case_of(member: PurePosixPath, dates: Mapping[str, str | None]) -> str | None:
    """The case a member belongs to: the first folder named after a case, else a file named after one."""
    for part in member.parts[:-1]:
        if part in dates:
            return part
    return member.stem if member.stem in dates else None


def _from_archive(
    archive_path: Path, dates: Mapping[str, str | None], staging: Path, limits: ReaderLimits, out: Collected
) -> None:
    source = str(archive_path)
    try:
        archive = zipfile.ZipFile(archive_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise DocumentError(source, f"is not a readable zip archive ({exc})") from None
    with archive:
        for member in check_archive(archive, source, limits):
            name = PurePosixPath(member.filename)
            case_id = _case_of(name, dates)
            if case_id is None:
                out.skipped.append(f"{member.filename}: names no case in the data (folder or file name)")
                continue
            if not _readable(name) or ".." in name.parts:
                out.skipped.append(f"{member.filename}: not a readable document type")
                continue
            target = staging / case_id / name.name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(read_member(archive, member, f"{source}!{member.filename}", limits))
            out.sources.append(_source(target, case_id, name.name, None, dates[case_id]))


def _from_manifest(manifest: Path, dates: Mapping[str, str | None], out: Collected) -> None:
    try:
        rows = pd.read_csv(manifest, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise DocumentError(str(manifest), f"is not a readable CSV manifest ({exc})") from None
    missing = [c for c in MANIFEST_COLUMNS if c not in rows.columns]
    if missing:
        raise DocumentError(
            str(manifest),
            f"lacks column(s) {', '.join(missing)}; a manifest has case_id, path[, doc_type][, received]",
        )
    received = pd.to_datetime(rows.get("received", pd.Series([""] * len(rows))), errors="coerce")
    for number, row in enumerate(rows.to_dict("records"), start=2):
        case_id, path = row["case_id"].strip(), manifest.parent / row["path"].strip()
        where = f"{manifest.name} line {number}"
        if case_id not in dates:
            out.skipped.append(f"{where}: no case {case_id!r} in the data")
        elif not path.is_file():
            out.skipped.append(f"{where}: no file {row['path']!r}")
        elif not _readable(path):
            out.skipped.append(f"{where}: {row['path']!r} is not a readable document type")
        elif row.get("received", "").strip() and pd.isna(received.iloc[number - 2]):
            out.skipped.append(f"{where}: received date {row['received']!r} is not a date")
        else:
            day = received.iloc[number - 2]
            when = day.date().isoformat() if not pd.isna(day) else dates[case_id]
            out.sources.append(
                _source(path, case_id, path.name, row.get("doc_type", "").strip() or None, when)
            )


def collect_documents(
    location: Path, dates: Mapping[str, str | None], staging: Path, limits: ReaderLimits | None = None
) -> Collected:
    """The documents at ``location`` assigned to the cases in ``dates`` (case id -> decision date)."""
    limits = limits or ReaderLimits()
    out = Collected()
    if location.is_dir():
        _from_folder(location, dates, out)
    elif location.suffix.lower() == ".csv":
        _from_manifest(location, dates, out)
    elif location.suffix.lower() == ".zip":
        _from_archive(location, dates, staging, limits, out)
    elif location.exists():
        raise DocumentError(str(location), "is neither a folder, a zip archive nor a CSV manifest")
    else:
        raise DocumentError(str(location), "does not exist")
    return out
