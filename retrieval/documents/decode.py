"""Bytes to text: detect the encoding of an untrusted text file.

Order: a byte-order mark, then strict UTF-8, then Windows-1252 (the usual
encoding of text that is "almost UTF-8"), then Latin-1, which decodes any
byte. Files that look binary are refused rather than decoded into noise.
"""

from __future__ import annotations

from dataclasses import dataclass

from retrieval.errors import DocumentError

BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
BINARY_NUL_SHARE = 0.01


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str
    note: str | None = None


def decode_bytes(data: bytes, source: str) -> Decoded:
    for bom, codec in BOMS:
        if data.startswith(bom):
            try:
                return Decoded(data.decode(codec), codec)
            except UnicodeDecodeError as exc:
                raise DocumentError(
                    source, f"starts with a {codec} byte-order mark but is not {codec}: {exc}"
                ) from None
    head = data[:65536]
    if head and head.count(0) / len(head) > BINARY_NUL_SHARE:
        raise DocumentError(source, "looks like binary data, not text (many NUL bytes)")
    try:
        return Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError as exc:
        where = f"not valid UTF-8 (first bad byte at offset {exc.start})"
    try:
        return Decoded(data.decode("cp1252"), "cp1252", f"{where}; decoded as Windows-1252")
    except UnicodeDecodeError:
        return Decoded(data.decode("latin-1"), "latin-1", f"{where}; decoded as Latin-1")
