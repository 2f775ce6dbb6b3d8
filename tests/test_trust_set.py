"""The crafted trust set (``tests/data/trust_set``): frozen, split fairly, and measured.

The set was frozen before the checks it measures; its test half is never read, only counted. The
thresholds below are the levels measured when the checks landed (``docs/security.md``), so a change
that lets more must-drop sentences through, or drops more true ones, fails here. Where a category
meets the issue's targets (at most 1% of must-drop kept, at most 5% of must-keep dropped), the test
holds it there.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import trust_set  # noqa: E402

MEASURED = {
    # half: (largest share of must-drop kept, largest share of must-keep dropped), over all categories
    "dev": (0.03, 0.02),
    "test": (0.09, 0.10),
}
"""Levels measured when the checks landed (dev 1.7% / 0.7%, test 10.1% / 8.4%), with a little room."""
BASELINE = {"dev": (0.557, 0.132), "test": (0.547, 0.135)}
"""The validator before this work (commit 679063a) on the same halves: far above what is allowed now."""


def test_the_set_is_the_frozen_one_and_a_changed_file_is_refused(tmp_path, monkeypatch):
    path = trust_set.SET_DIR / "sentences.tsv"
    recorded = (trust_set.SET_DIR / "FROZEN.sha256").read_text().strip()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == recorded
    rows = trust_set.frozen_rows()
    assert sum(r.expect == "drop" for r in rows) >= 300 and sum(r.expect == "keep" for r in rows) >= 300
    changed = tmp_path / "set"
    changed.mkdir()
    (changed / "sentences.tsv").write_bytes(path.read_bytes().replace(b"drop", b"keep", 1))
    (changed / "FROZEN.sha256").write_text(recorded)
    monkeypatch.setattr(trust_set, "SET_DIR", changed)
    with pytest.raises(SystemExit, match="changed after it was frozen"):
        trust_set.frozen_rows()


def test_the_halves_are_disjoint_seeded_and_split_within_each_category():
    rows = trust_set.frozen_rows()
    first, again = trust_set.halves(rows), trust_set.halves(rows)
    assert [r.id for r in first["test"]] == [r.id for r in again["test"]]
    assert not {r.id for r in first["dev"]} & {r.id for r in first["test"]}
    assert len(first["dev"]) + len(first["test"]) == len(rows)
    for category in {r.category for r in rows}:
        for expect in ("drop", "keep"):
            dev = sum(r.category == category and r.expect == expect for r in first["dev"])
            test = sum(r.category == category and r.expect == expect for r in first["test"])
            assert abs(dev - test) <= 1, (category, expect, dev, test)
    other = trust_set.halves(rows, seed=7)
    assert [r.id for r in other["test"]] != [r.id for r in first["test"]]


@pytest.mark.parametrize("half", ["dev", "test"])
def test_the_validator_holds_the_measured_levels_on_each_half(half: str):
    tallies = trust_set.measure(trust_set.halves(trust_set.frozen_rows())[half])
    total = trust_set.Tally()
    for t in tallies.values():
        total.drops += t.drops
        total.kept_drops += t.kept_drops
        total.keeps += t.keeps
        total.dropped_keeps += t.dropped_keeps
    most_kept, most_dropped = MEASURED[half]
    assert total.kept_drop_share() <= most_kept, trust_set.report(tallies)
    assert total.dropped_keep_share() <= most_dropped, trust_set.report(tallies)
    assert total.kept_drop_share() < BASELINE[half][0] / 4
    # categories that met the targets when the checks landed must still meet them
    for category in {"dev": ("dates", "decision", "pd", "quote", "similar", "verdict"), "test": ("dates",)}[
        half
    ]:
        assert tallies[category].meets(), trust_set.report(tallies)


def test_the_bench_refuses_to_print_the_test_half_sentences(capsys):
    with pytest.raises(SystemExit):
        trust_set.main(["--half", "test", "--verbose"])
    assert "only the dev half is read" in capsys.readouterr().err


def probe_errors(name: str) -> tuple[int, list[str]]:
    """Sentences of a dev set in ``tests/data`` (``expect``, citation tag, sentence) the validator gets
    wrong, and how many it holds."""
    from assistant.memo.validation import check_sentence

    case = trust_set.case_context()
    truth, sources = trust_set.case_truth(case), trust_set.case_sources(case)
    lines = (trust_set.SET_DIR.parent / name).read_text(encoding="utf-8").splitlines()[1:]
    wrong = []
    for line in lines:
        expect, tag, sentence = line.split("\t")
        tagged = f"{sentence[:-1]} [{tag}]." if tag else sentence
        kept = check_sentence(tagged, truth, sources, allow_verdicts=False).kept
        if kept != (expect == "keep"):
            wrong.append(sentence)
    return len(lines), wrong


def test_the_second_dev_set_of_fresh_sentences_stays_right():
    """``tests/data/validator_probes.tsv``: 216 sentences written after the first test-half measurement,
    against the same case, to find out whether the checks generalise beyond the dev half without
    reading the test half again (negations, similar-case counts, figures, verdicts). The checks were
    then revised on them, so they are a second dev set now: this holds them right, bar the three
    known misses ("will not have to start the certification from scratch" read as a verdict, "must
    obtain the certification from scratch" kept since the classifier learned borrowers' sentences,
    "split three performing to seven defaulting")."""
    held, wrong = probe_errors("validator_probes.tsv")
    assert held >= 200 and len(wrong) <= 3, wrong


def test_the_third_dev_set_of_negations_stays_right():
    """``tests/data/negation_probes.tsv``: 80 negations and faithful negated paraphrases (40 each),
    written before the dependency-parse polarity was revised on them, against the same passages. It
    measured 9 must-drop kept and 17 must-keep dropped on the first parse-based check (16 and 10 on
    the regex one before it); the revisions it prompted (privative and doubting verbs, denied
    quantifiers, corrected and comparative negations) leave four known misses, idioms and inferences
    no rule reads ("did not go the company's way", "did not lose money on Google advertising", "is not
    new to aviation", "would not be quick")."""
    held, wrong = probe_errors("negation_probes.tsv")
    assert held == 80 and len(wrong) <= 4, wrong


def test_a_stronger_narrators_faithful_paraphrases_are_kept_and_its_slips_dropped():
    """``tests/data/narrator_paraphrases.jsonl``: sentences Qwen2.5-Coder-1.5B wrote through the product
    (bench/narrator_ladder.py) that the validator dropped although a reader calls them faithful
    (``14-day`` for "14 days", ``one business day`` for "1 business days", ``20 years`` for "20 yrs", a
    later clause's words taken for an earlier figure's), with sentences written to be kept or dropped
    beside them, each against its own passage (``narrator_passages.json``)."""
    import json

    from assistant.memo.validation import CaseTruth, check_sentence

    folder = trust_set.SET_DIR.parent
    passages = json.loads((folder / "narrator_passages.json").read_text(encoding="utf-8"))
    rows = [json.loads(line) for line in (folder / "narrator_paraphrases.jsonl").read_text().splitlines()]
    truth = CaseTruth(band="", grade="", pd=float("nan"))
    wrong = []
    for row in rows:
        tagged = f"{row['sentence'][:-1]} [C1]."
        verdict = check_sentence(
            tagged, truth, {"C1": passages[row["passage"]]}, min_support=0.75, allow_verdicts=False
        )
        if verdict.kept != (row["expect"] == "keep"):
            wrong.append((row["sentence"], verdict.reasons))
    assert len(rows) == 16 and {r["expect"] for r in rows} == {"keep", "drop"}
    assert not wrong, wrong
