"""Names redacted whole, measured on 210 names from eleven languages (``tests/data/names_multilingual.tsv``:
hyphenated, apostrophised, Mac/Mc, particles, every accent) that the name rules were not written from."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from retrieval.documents.pii import PARTICLES, people_named, redact

NAMES = [
    (row["language"], row["name"])
    for row in csv.DictReader(
        (Path(__file__).parent / "data" / "names_multilingual.tsv").open(), delimiter="\t"
    )
]
TEMPLATES = (
    "Owner: {name}. {last} has run the shop since 2015 and {last}'s bank is local.",
    "The facility is guaranteed by {name}; {first} {last} signed on 3 May.",
    "Dear {name}, thank you for the statements. Regards, the credit team (cc: Mx {last}).",
)


def _leaks(name: str, text: str) -> list[str]:
    """Words of the name (not particles or initials) still in ``text``, and a redaction glued to letters."""
    words = [w for w in re.split(r"[\s-]+", name) if len(w) > 2 and w not in PARTICLES]
    left = [w for w in words if re.search(rf"(?<![\w])({re.escape(w)})(?![\w])", text)]
    glued = re.findall(r"\[PERSON\](?!['’]s\b)[\w'’-]|[\w'’-]\[PERSON\]", text)
    return left + glued


def test_names_from_many_languages_are_redacted_whole():
    whole = 0
    misses = []
    for language, name in NAMES:
        first, last = name.split()[0], name.split()[-1]
        texts = [t.format(name=name, first=first, last=last) for t in TEMPLATES]
        people = people_named(texts)
        leaked = [leak for text in texts for leak in _leaks(name, redact(text, people)[0])]
        if leaked:
            misses.append((language, name, leaked[:3]))
        else:
            whole += 1
    assert len(NAMES) >= 200 and len({lang for lang, _ in NAMES}) >= 8
    assert whole / len(NAMES) >= 0.98, misses


def test_a_name_glued_to_punctuation_leaves_nothing_behind():
    text = "Contact: Ada Okonkwo-Lindqvist. Okonkwo-Lindqvist (and Ms Lindqvist) agreed; O'Brien did not."
    people = people_named([text, "Owner: Seán O'Brien"])
    clean, found = redact(text, people)
    assert "Okonkwo" not in clean and "Lindqvist" not in clean and "Brien" not in clean
    assert "[PERSON]Lindqvist" not in clean and len(found) == 4
