"""Readers: one untrusted file in, extracted text parts out.

Supported: txt, md, html, pdf (text layer), docx, JSON records (SEC 10-K
filings: one part per item) and zip archives of those. Every reader checks the
``ReaderLimits`` it can check itself (size, pages, archive ratio, member
count); time and memory are enforced by :mod:`retrieval.documents.sandbox`.
Nothing here evaluates or fetches anything a file refers to.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from retrieval.documents.decode import decode_bytes
from retrieval.documents.html_text import html_to_text
from retrieval.documents.limits import ReaderLimits
from retrieval.errors import DocumentError

FORMATS = ("txt", "md", "html", "pdf", "docx", "json", "zip")
EXTENSIONS = {
    ".txt": "txt",
    ".text": "txt",
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".docx": "docx",
    ".json": "json",
    ".zip": "zip",
}


@dataclass
class Part:
    """Text extracted from one document (a file, or one record or item of it)."""

    name: str
    """Where in the file: ``""`` for the whole file, ``item_1A`` for a 10-K item, a zip member path."""
    title: str
    text: str
    page_starts: list[int] = field(default_factory=list)
    """Character offset in ``text`` where each page begins (PDF); empty when unpaged."""
    hidden: list[str] = field(default_factory=list)
    """Text in the file that a reader would not see (hidden HTML, comments, vanished docx runs)."""
    encoding: str | None = None
    notes: list[str] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)


def format_of(path: str | Path) -> str:
    fmt = EXTENSIONS.get(Path(path).suffix.lower())
    if fmt is None:
        raise DocumentError(
            str(path), f"unsupported file type {Path(path).suffix!r}; readable: {', '.join(FORMATS)}"
        )
    return fmt


def read_file(path: str | Path, limits: ReaderLimits | None = None, fmt: str | None = None) -> list[Part]:
    """Read one file from disk; raises :class:`DocumentError` naming the file and the limit."""
    limits = limits or ReaderLimits()
    source = str(path)
    fmt = fmt or format_of(path)
    p = Path(path)
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise DocumentError(source, f"cannot be opened: {exc.strerror or exc}") from None
    if size > limits.max_bytes:
        raise DocumentError(
            source, f"is {size:,} bytes, over the limit of {limits.max_bytes:,} (max_bytes)", "max_bytes"
        )
    with open(p, "rb") as handle:
        data = handle.read(limits.max_bytes + 1)
    return read_bytes(data, source, fmt, limits)


def read_bytes(data: bytes, source: str, fmt: str, limits: ReaderLimits | None = None) -> list[Part]:
    limits = limits or ReaderLimits()
    if len(data) > limits.max_bytes:
        raise DocumentError(
            source, f"is over the size limit of {limits.max_bytes:,} bytes (max_bytes)", "max_bytes"
        )
    if not data.strip():
        raise DocumentError(source, "is empty")
    reader = READERS.get(fmt)
    if reader is None:
        raise DocumentError(source, f"unsupported format {fmt!r}; readable: {', '.join(FORMATS)}")
    parts = reader(data, source, limits)
    for part in parts:
        if len(part.text) > limits.max_chars:
            part.notes.append(f"text cut at {limits.max_chars:,} characters (max_chars)")
            part.text = part.text[: limits.max_chars]
            part.page_starts = [s for s in part.page_starts if s < limits.max_chars]
    if not any(part.text.strip() for part in parts):
        raise DocumentError(source, "contains no text")
    return parts


def _read_text(data: bytes, source: str, limits: ReaderLimits) -> list[Part]:
    decoded = decode_bytes(data, source)
    title = next((ln.strip("# ").strip() for ln in decoded.text.splitlines() if ln.strip()), "")[:200]
    return [
        Part("", title, decoded.text, encoding=decoded.encoding, notes=[decoded.note] if decoded.note else [])
    ]


def _read_html(data: bytes, source: str, limits: ReaderLimits) -> list[Part]:
    decoded = decode_bytes(data, source)
    page = html_to_text(decoded.text)
    return [
        Part(
            "",
            page.title,
            page.text,
            hidden=page.hidden,
            encoding=decoded.encoding,
            notes=[decoded.note] if decoded.note else [],
        )
    ]


def _read_pdf(data: bytes, source: str, limits: ReaderLimits) -> list[Part]:
    import logging

    import pypdf

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    cap = min(pypdf.get_configuration().zlib_maximum_output_length, limits.max_unpacked_bytes)
    with pypdf.apply_configuration(zlib_maximum_output_length=cap):
        return _read_pdf_capped(data, source, limits, cap)


def _read_pdf_capped(data: bytes, source: str, limits: ReaderLimits, cap: int) -> list[Part]:
    import pypdf
    from pypdf.errors import LimitReachedError, PyPdfError

    if not data.lstrip()[:5] == b"%PDF-":
        raise DocumentError(source, "is not a PDF (no %PDF- header)")
    try:
        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise DocumentError(source, "is an encrypted PDF; decrypt it first")
        count = len(reader.pages)
        if count > limits.max_pages:
            raise DocumentError(
                source,
                f"has {count:,} pages, over the limit of {limits.max_pages:,} (max_pages)",
                "max_pages",
            )
        texts = []
        for number, page in enumerate(reader.pages, start=1):
            try:  # inflate the page's streams first: pypdf's text extraction hides a bomb as empty text
                contents = page.get_contents()
                if contents is not None:
                    contents.get_data()
            except LimitReachedError:
                raise DocumentError(
                    source,
                    f"page {number} has a compressed stream that inflates past "
                    f"{cap:,} bytes (max_unpacked_bytes): a decompression bomb?",
                    "max_unpacked_bytes",
                ) from None
            texts.append(page.extract_text() or "")
        info = reader.metadata
        title = str(info.title) if info and info.title else ""
        labels = {
            k: str(getattr(info, k, "") or "")[:500] for k in ("author", "subject", "creator", "producer")
        }
    except DocumentError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError) as exc:
        raise DocumentError(source, f"is not a readable PDF ({type(exc).__name__}: {exc})") from None
    if not any(t.strip() for t in texts):
        raise DocumentError(source, "has no text layer (a scanned PDF?); OCR is not supported")
    starts, chunks, at = [], [], 0
    for text in texts:
        starts.append(at)
        chunks.append(text.rstrip() + "\n\n")
        at += len(chunks[-1])
    full = "".join(chunks)
    if not title:
        title = next((ln.strip() for ln in full.splitlines() if ln.strip()), "")[:200]
    meta = {"pages": str(count), **{k: v for k, v in labels.items() if v}}
    return [Part("", title, full, page_starts=starts, meta=meta)]


def check_archive(archive: zipfile.ZipFile, source: str, limits: ReaderLimits) -> list[zipfile.ZipInfo]:
    """Refuse zip bombs from the central directory, before inflating anything."""
    members = [m for m in archive.infolist() if not m.is_dir()]
    if len(members) > limits.max_members:
        raise DocumentError(
            source,
            f"has {len(members):,} archive members, over the limit of {limits.max_members:,}",
            "max_members",
        )
    total = 0
    for m in members:
        ratio = m.file_size / max(m.compress_size, 1)
        if ratio > limits.max_ratio:
            raise DocumentError(
                source,
                f"member {m.filename} expands {ratio:,.0f}x ({m.compress_size:,} -> {m.file_size:,} bytes), "
                f"over the decompression ratio limit of {limits.max_ratio:,.0f} (max_ratio): a zip bomb?",
                "max_ratio",
            )
        total += m.file_size
    if total > limits.max_unpacked_bytes:
        raise DocumentError(
            source,
            f"unpacks to {total:,} bytes, over the limit of {limits.max_unpacked_bytes:,} (max_unpacked_bytes)",
            "max_unpacked_bytes",
        )
    return members


def read_member(
    archive: zipfile.ZipFile, member: zipfile.ZipInfo, source: str, limits: ReaderLimits
) -> bytes:
    """Inflate one member, never past its declared size (headers can lie)."""
    cap = min(member.file_size, limits.max_unpacked_bytes)
    try:
        with archive.open(member) as handle:
            data = handle.read(cap + 1)
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error, NotImplementedError) as exc:
        raise DocumentError(source, f"member {member.filename} is corrupt or unsupported ({exc})") from None
    if len(data) > cap:
        raise DocumentError(
            source, f"member {member.filename} inflates past its declared size: a zip bomb?", "max_ratio"
        )
    return data


def _open_zip(data: bytes, source: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise DocumentError(source, f"is not a readable zip archive ({exc})") from None


W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
XML_DECLARATIONS = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)


def _read_docx(data: bytes, source: str, limits: ReaderLimits) -> list[Part]:
    import xml.etree.ElementTree as ET

    archive = _open_zip(data, source)
    members = {m.filename: m for m in check_archive(archive, source, limits)}
    if "word/document.xml" not in members:
        raise DocumentError(source, "is not a Word document (no word/document.xml)")
    xml = read_member(archive, members["word/document.xml"], source, limits)
    if XML_DECLARATIONS.search(xml):
        raise DocumentError(
            source, "word/document.xml declares a DTD or entities; refused (XML bomb defence)"
        )
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise DocumentError(source, f"word/document.xml is not well-formed XML ({exc})") from None
    body = root.find(f"{W}body")
    lines: list[str] = []
    hidden: list[str] = []

    def paragraph_text(p: ET.Element) -> str:
        out: list[str] = []
        for run in p.iter(f"{W}r"):
            props = run.find(f"{W}rPr")
            text = "".join(
                t.text or "" if t.tag == f"{W}t" else "\t" if t.tag == f"{W}tab" else "\n"
                for t in run
                if t.tag in (f"{W}t", f"{W}tab", f"{W}br")
            )
            if props is not None and props.find(f"{W}vanish") is not None:
                hidden.append(text)
            else:
                out.append(text)
        return "".join(out)

    for block in list(body) if body is not None else []:
        if block.tag == f"{W}p":
            style = block.find(f"{W}pPr/{W}pStyle")
            name = style.get(f"{W}val", "") if style is not None else ""
            text = paragraph_text(block)
            if not text.strip():
                continue
            level = re.match(r"(?i)heading\s*(\d)|title", name)
            if level:
                lines += ["#" * int(level.group(1) or 1) + " " + text.strip(), ""]
            else:
                lines += [text, ""]
        elif block.tag == f"{W}tbl":
            for row in block.iter(f"{W}tr"):
                cells = [
                    " ".join(paragraph_text(p) for p in cell.iter(f"{W}p")).strip()
                    for cell in row.iter(f"{W}tc")
                ]
                lines.append("| " + " | ".join(cells) + " |")
            lines.append("")
    text = "\n".join(lines).strip() + "\n"
    title = next((ln.strip("# ").strip() for ln in lines if ln.strip()), "")[:200]
    return [Part("", title, text, hidden=[h for h in hidden if h.strip()])]


SEC_ITEM = re.compile(r"^item_\w+$")


def _read_json(data: bytes, source: str, limits: ReaderLimits) -> list[Part]:
    decoded = decode_bytes(data, source)
    try:
        record = json.loads(decoded.text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise DocumentError(source, f"is not valid JSON ({exc})") from None
    records = record if isinstance(record, list) else [record]
    parts: list[Part] = []
    for number, rec in enumerate(records):
        if not isinstance(rec, dict):
            raise DocumentError(source, f"record {number} is not a JSON object")
        meta = {k: str(v) for k, v in rec.items() if isinstance(v, str | int | float) and len(str(v)) < 200}
        items = [k for k in rec if SEC_ITEM.match(k) and isinstance(rec[k], str) and rec[k].strip()]
        prefix = f"record {number} " if len(records) > 1 else ""
        if items:
            who = " ".join(
                x for x in (rec.get("company"), rec.get("filing_type"), rec.get("filing_date")) if x
            )
            for key in items:
                label = key.replace("item_", "Item ")
                parts.append(Part(f"{prefix}{key}".strip(), f"{who} {label}".strip(), rec[key], meta=meta))
        else:
            text_key = next(
                (k for k in ("text", "content", "body", "desc") if isinstance(rec.get(k), str)), None
            )
            if text_key is None:
                raise DocumentError(
                    source, f"{prefix}has no text: expected item_* fields (SEC filings) or a 'text' field"
                )
            title = str(rec.get("title") or rec.get("name") or "")[:200]
            parts.append(Part(f"{prefix}{text_key}".strip(), title, rec[text_key], meta=meta))
    return parts


def _read_zip(data: bytes, source: str, limits: ReaderLimits) -> list[Part]:
    archive = _open_zip(data, source)
    parts: list[Part] = []
    failures: list[str] = []
    for member in check_archive(archive, source, limits):
        fmt = EXTENSIONS.get(Path(member.filename).suffix.lower())
        if fmt is None or fmt == "zip":
            continue
        inner_source = f"{source}!{member.filename}"
        try:
            inner = read_bytes(read_member(archive, member, inner_source, limits), inner_source, fmt, limits)
        except DocumentError as exc:  # one bad member does not sink the archive
            failures.append(str(exc))
            continue
        for part in inner:
            part.name = f"{member.filename}#{part.name}" if part.name else member.filename
        parts.extend(inner)
    if not parts:
        detail = "; ".join(failures[:3]) or f"no member is one of {', '.join(FORMATS)}"
        raise DocumentError(source, f"archive holds no readable documents ({detail})")
    if failures:
        parts[0].notes += [f"skipped {f}" for f in failures]
    return parts


READERS: dict[str, Callable[[bytes, str, ReaderLimits], list[Part]]] = {
    "txt": _read_text,
    "md": _read_text,
    "html": _read_html,
    "pdf": _read_pdf,
    "docx": _read_docx,
    "json": _read_json,
    "zip": _read_zip,
}
