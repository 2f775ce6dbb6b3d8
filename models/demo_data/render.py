"""Format-neutral documents rendered to txt, md, html or pdf.

Templates build a ``Doc`` of titled sections (paragraphs and two-column
tables); the renderers turn it into one file format, so every fact appears in
the same words whichever format a merchant's document happens to have.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from models.demo_data.pdf import render_pdf


@dataclass
class Section:
    title: str
    paragraphs: list[str] = field(default_factory=list)
    table: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Doc:
    doc_type: str
    title: str
    sections: list[Section]
    hidden_html: str = ""
    """Text placed in the HTML rendering only, invisible in a browser."""


def to_txt(doc: Doc) -> str:
    out = [doc.title.upper(), "=" * len(doc.title), ""]
    for s in doc.sections:
        out += [s.title, "-" * len(s.title)]
        out += [p + "\n" for p in s.paragraphs]
        width = max((len(k) for k, _ in s.table), default=0)
        out += [f"{k.ljust(width)}  {v}" for k, v in s.table]
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def to_md(doc: Doc) -> str:
    out = [f"# {doc.title}", ""]
    for s in doc.sections:
        out += [f"## {s.title}", ""]
        out += [p + "\n" for p in s.paragraphs]
        if s.table:
            out += ["| Item | Amount |", "|---|---:|"] + [f"| {k} | {v} |" for k, v in s.table] + [""]
    return "\n".join(out).rstrip() + "\n"


def to_html(doc: Doc) -> str:
    e = html.escape
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(doc.title)}</title></head><body>",
        f"<h1>{e(doc.title)}</h1>",
    ]
    for s in doc.sections:
        out.append(f"<h2>{e(s.title)}</h2>")
        out += [f"<p>{e(p)}</p>" for p in s.paragraphs]
        if s.table:
            rows = "".join(f"<tr><td>{e(k)}</td><td>{e(v)}</td></tr>" for k, v in s.table)
            out.append(f"<table>{rows}</table>")
    if doc.hidden_html:
        out.append(f'<div style="display:none">{e(doc.hidden_html)}</div>')
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def render(doc: Doc, fmt: str) -> bytes:
    if fmt == "txt":
        return to_txt(doc).encode("utf-8")
    if fmt == "md":
        return to_md(doc).encode("utf-8")
    if fmt == "html":
        return to_html(doc).encode("utf-8")
    if fmt == "pdf":
        return render_pdf(to_txt(doc), title=doc.title)
    raise ValueError(f"unknown document format {fmt!r}")
