"""Normalise extracted text, keeping a map back to the original offsets.

Unicode NFKC (so look-alike and full-width characters compare equal), line
endings to ``\\n``, and removal of characters a reader cannot see but a model
reads: zero-width characters, bidi controls, Unicode tag characters, soft
hyphens, variation selectors and C0/C1 controls. ``offsets[i]`` is the index
in the original text of normalised character ``i`` (``offsets[len]`` is the
original length), so a citation of a normalised span points at the exact
original passage. Text hidden in tag characters (``U+E0020..E007E`` spell
ASCII invisibly) is decoded and returned for screening.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np

INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8\U000e0000-\U000e0fff"
    "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
)
NEEDS_WORK = re.compile(INVISIBLE.pattern[:-1] + "\r]")
TAG_ASCII = range(0xE0020, 0xE007F)


@dataclass(frozen=True)
class NormalisedText:
    text: str
    offsets: np.ndarray
    """int64, ``len(text) + 1`` entries: original index of each normalised character."""
    removed: int
    """Invisible or control characters removed."""
    removed_at: np.ndarray
    """Original offsets of the removed characters (for screening: hidden text inside a span)."""
    tag_text: str
    """ASCII spelled with invisible Unicode tag characters, decoded."""

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Original ``[start, end)`` of normalised ``[start, end)``."""
        if start >= end:
            at = int(self.offsets[start])
            return at, at
        return int(self.offsets[start]), int(self.offsets[end - 1]) + 1


def _segments(line: str) -> list[str]:
    """Split ``line`` into a starter plus its combining marks, so NFKC cannot merge across segments."""
    out: list[str] = []
    for ch in line:
        if out and unicodedata.combining(ch):
            out[-1] += ch
        else:
            out.append(ch)
    return out


def normalise(original: str) -> NormalisedText:
    pieces: list[str] = []
    offset_runs: list[np.ndarray] = []
    removed_at: list[int] = []
    tags: list[str] = []
    position = 0
    for line in original.splitlines(keepends=True):
        if not NEEDS_WORK.search(line) and unicodedata.is_normalized("NFKC", line):
            pieces.append(line)
            offset_runs.append(np.arange(position, position + len(line), dtype=np.int64))
            position += len(line)
            continue
        out: list[str] = []
        idx: list[int] = []
        at = position
        for segment in _segments(line):
            first = segment[0]
            if first == "\r":
                if not line.startswith("\n", at - position + 1):  # a lone CR ends a line; CRLF keeps the LF
                    out.append("\n")
                    idx.append(at)
            elif INVISIBLE.match(first):
                removed_at.append(at)
                if ord(first) in TAG_ASCII:
                    tags.append(chr(ord(first) - 0xE0000))
                rest = segment[1:]
                if rest:  # orphaned combining marks: keep them, normalised
                    norm = unicodedata.normalize("NFKC", rest)
                    out.append(norm)
                    idx += [at + 1] * len(norm)
            else:
                norm = unicodedata.normalize("NFKC", segment)
                norm = INVISIBLE.sub("", norm)
                out.append(norm)
                idx += [at] * len(norm)
            at += len(segment)
        pieces.append("".join(out))
        offset_runs.append(np.asarray(idx, dtype=np.int64))
        position += len(line)
    offset_runs.append(np.asarray([position], dtype=np.int64))
    text = "".join(pieces)
    offsets = np.concatenate(offset_runs)
    assert len(offsets) == len(text) + 1
    return NormalisedText(
        text=text,
        offsets=offsets,
        removed=len(removed_at),
        removed_at=np.asarray(removed_at, dtype=np.int64),
        tag_text="".join(tags),
    )
