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


def test_names_in_real_loan_descriptions_never_reach_a_prompt_a_memo_or_an_audit_row(tmp_path, real_model):
    """Names of the set written into real Lending Club descriptions (as an owner would: "Owner: Zoë
    Ångström. Ångström has run ..."), through the product: case file, prompts, a model that repeats
    what it reads, the memo and every audit row. No part of any name survives anywhere."""
    import json
    import random
    from datetime import date

    import pandas as pd

    from assistant.audit.schema import TABLES
    from assistant.audit.store import AuditStore
    from assistant.case.source import CaseSource
    from assistant.memo.config import MemoConfig
    from assistant.memo.record import generate_memo
    from assistant.settings import load_settings
    from tests.conftest import LENDING_CLUB, require_file
    from tests.fakes import ObeyingChat, fake_llm

    data = require_file(LENDING_CLUB)
    trained = real_model("lending_club", data, test_from=date(2010, 1, 1))
    frame = pd.read_csv(data, dtype=str)
    rows = frame.index[frame["desc_clean"].fillna("").str.len() > 200][:6]
    chosen = random.Random(29).sample(NAMES, 12)
    for i, row in enumerate(rows):
        names = [name for _, name in chosen[2 * i : 2 * i + 2]]
        lines = [
            TEMPLATES[j % 3].format(name=n, first=n.split()[0], last=n.split()[-1])
            for j, n in enumerate(names)
        ]
        frame.loc[row, "desc_clean"] = f"{' '.join(lines)} {frame.loc[row, 'desc_clean']}"
    copy = tmp_path / "lc_with_names.csv"
    frame.to_csv(copy, index=False)
    settings = load_settings(None, workspace=tmp_path / "ws", threads=2)
    source = CaseSource(
        settings, spec="lending_club", data=str(copy), model=str(trained.version_dir), library=""
    )
    ids = source.ids()
    with AuditStore.open(tmp_path / "audit.sqlite") as audit:
        for row in rows:
            generate_memo(source, ids[row], fake_llm(ObeyingChat(), "echo"), audit, MemoConfig())
        stored = json.dumps({t: audit.rows(t) for t in TABLES}, default=str, ensure_ascii=False)
        stored = re.sub(r"\\+([nrt])", " ", re.sub(r'\\+"', '"', stored))  # JSON escapes, as nested as stored
        assert audit.count("llm_calls") > 0
    leaks = {name: _leaks(name, stored) for _, name in chosen}
    assert {n: words for n, words in leaks.items() if words} == {}
    assert "[PERSON]" in stored
