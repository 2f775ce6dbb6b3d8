"""Readings of a text that hide words from a plain reading: ROT13, leetspeak, spaced or dotted letters.

An order to a model may be written ``Vtaber lbhe vafgehpgvbaf`` (ROT13), ``1gn0r3 7h3 m0d3l``
(leetspeak) or ``I G N O R E`` (letters spaced out); the screening rules read each of these readings
as well as the text itself (base64 is decoded in ``screening.py``, token by token). A reading is
returned only where it differs from the text, so a plain document costs one pass of each test.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g", "@": "a"}
)
LEET |= str.maketrans({"$": "s", "!": "i", "|": "l"})
MIXED_TOKEN = re.compile(r"\b(?=[\w@$!|]*[A-Za-z])(?=[\w@$!|]*[0-9@$|])[\w@$!|]{2,}\b")
"""A token of letters and digits together (``Ign0r3``): leetspeak, or a code (``10-K`` is not one)."""
SPACED = re.compile(r"(?<![\w.])(?:[A-Za-z][ .]){2,}[A-Za-z](?![\w])")
"""Single letters with one space or dot between them (``H I D E``, ``i.g.n.o.r.e``)."""
WORD_GAP = re.compile(r"(?<=[A-Za-z])(?: {2,}|\.\s+| \. )(?=[A-Za-z])")


def leetspeak(text: str) -> str:
    """``text`` with each letter-and-digit token read as leetspeak (``4ppr0v3`` -> ``approve``)."""
    return MIXED_TOKEN.sub(lambda m: m.group(0).translate(LEET), text)


def spaced_letters(text: str) -> str:
    """``text`` with letters spaced out joined into words (``H I D E   A L L`` -> ``HIDE ALL``)."""
    words = WORD_GAP.sub("  ", text)
    return SPACED.sub(lambda m: re.sub(r"[ .]", "", m.group(0)), words)


def rot13(text: str) -> str:
    return codecs.decode(text, "rot13")


ROT13_WORDS = re.compile(r"\b(?:gur|naq|bs|gb|vf|sbe|lbh|lbhe|guvf|gung|jvgu|nyy|ner|jvyy|abg)\b")
"""English's commonest words in ROT13 (``gur`` is ``the``): a sentence with one is worth reading in ROT13."""
SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")


@dataclass(frozen=True)
class Reading:
    kind: str
    text: str
    start: int
    """Where the sentence read this way starts in the text."""
    end: int
    same_length: bool
    """Whether a span in ``text`` is the same span in the original (ROT13 and leetspeak: one letter for one)."""


def readings(text: str) -> list[Reading]:
    """Each sentence of ``text`` that reads differently in ROT13, leetspeak or spaced letters, in that
    reading. Only sentences with a sign of the encoding are read (a ROT13 function word such as
    ``gur``, two tokens of letters and digits, letters spaced out), so a plain document costs one cheap
    pass."""
    out = []
    for m in SENTENCE.finditer(text):
        sentence, start, end = m.group(0), m.start(), m.end()
        if ROT13_WORDS.search(sentence):
            out.append(Reading("rot13", rot13(sentence), start, end, True))
        if len(MIXED_TOKEN.findall(sentence)) >= 2:
            out.append(Reading("leetspeak", leetspeak(sentence), start, end, True))
        if SPACED.search(sentence):
            joined = spaced_letters(sentence)
            out += [Reading("spaced_letters", joined, start, end, False)]
            out += [Reading("spaced_letters", leetspeak(joined), start, end, False)]
    return [r for r in out if r.text != text[r.start : r.end]]
