"""A minimal PDF writer: plain text pages with a real text layer.

Enough for synthetic statements and letters that PDF readers (pypdf,
pdfminer) extract back to the same text. Helvetica, WinAnsi encoding; text
outside Latin-1 is replaced with ``?`` (the generator only writes ASCII).
"""

from __future__ import annotations

import textwrap

LINES_PER_PAGE = 58
WRAP_COLUMNS = 95


def _escape(line: str) -> bytes:
    data = line.encode("latin-1", errors="replace")
    return data.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _wrap(text: str) -> list[str]:
    lines: list[str] = []
    for paragraph in text.split("\n"):
        lines.extend(textwrap.wrap(paragraph, WRAP_COLUMNS) or [""])
    return lines


def render_pdf(text: str, title: str = "") -> bytes:
    """Return the bytes of a PDF whose pages show ``text`` line by line."""
    lines = _wrap(text)
    pages = [lines[i : i + LINES_PER_PAGE] for i in range(0, max(len(lines), 1), LINES_PER_PAGE)]
    objects: list[bytes] = []  # object n is objects[n - 1]
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(b"")  # pages tree, filled in below
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    objects.append(b"<< /Title (" + _escape(title) + b") /Producer (underwriter) >>")
    page_ids = []
    for page_lines in pages:
        body = (
            b"BT /F1 10 Tf 12 TL 50 800 Td\n"
            + b"".join(b"(" + _escape(line) + b") Tj T*\n" for line in page_lines)
            + b"ET"
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(body) + body + b"\nendstream")
        content_id = len(objects)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % content_id
        )
        page_ids.append(len(objects))
    kids = b" ".join(b"%d 0 R" % p for p in page_ids)
    objects[1] = b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % len(page_ids)

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 4 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref_at,
    )
    return bytes(out)
