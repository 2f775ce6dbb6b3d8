"""The verdict classifier on sentences it never saw: Lending Club borrowers of a later vintage."""

from __future__ import annotations

import pandas as pd

from assistant.memo import verdict_training
from assistant.memo.verdict_model import verdict_model
from assistant.memo.verdicts import decision_reasons, grade_reasons
from retrieval.evidence.sentences import prose_sentences
from tests.conftest import LENDING_CLUB, require_file


def loans(after: bool) -> pd.DataFrame:
    frame = pd.read_csv(require_file(LENDING_CLUB), usecols=["issue_d", "desc_clean"])
    later = pd.to_datetime(frame["issue_d"], format="mixed") >= pd.Timestamp(
        verdict_training.DESCRIPTIONS_BEFORE
    )
    return frame[later if after else ~later]


def test_borrowers_own_sentences_of_later_loans_are_rarely_taken_for_verdicts():
    """Trained on filings alone, the classifier took 22.7% of these for verdicts (457 of 2,014); with
    borrowers' sentences of the earlier loans among its examples, 2.6%."""
    sentences = sorted(
        {
            s
            for text in loans(after=True)["desc_clean"].fillna("")
            for s in prose_sentences(str(text))
            if 8 <= len(s.split()) <= 40
            and s.endswith((".", "!"))
            and not decision_reasons(s, "", allow_verdicts=False)
            and not grade_reasons(s, "")
        }
    )
    model = verdict_model()
    flagged = [s for s in sentences if model.probability(s) >= model.threshold]
    assert len(sentences) > 1500 and len(flagged) / len(sentences) <= 0.04, flagged[:10]


def test_the_borrower_sample_comes_from_the_earlier_loans_only():
    early = " ".join(" ".join(str(t).split()) for t in loans(after=False)["desc_clean"].fillna(""))
    sample = verdict_training.lines(verdict_training.DESCRIPTION_SAMPLE)
    assert len(sample) == 300 and all(s in early for s in sample)


def test_an_example_sharing_a_phrase_with_the_trust_set_is_refused():
    held = verdict_training.TRUST_SET.read_text(encoding="utf-8").splitlines()[1].split("\t")[-1]
    fresh = "The borrower sells handmade furniture at two weekend markets."
    assert verdict_training.shared_phrases([fresh, f"As written: {held}"]) == [1]


def test_a_broken_loans_file_is_refused_and_no_sample_is_rewritten(tmp_path):
    before = {
        p: p.read_bytes() for p in (verdict_training.FILING_SAMPLE, verdict_training.DESCRIPTION_SAMPLE)
    }
    broken = tmp_path / "loans.csv"
    broken.write_text("row_key,loan_amnt\n1,5000\n", encoding="utf-8")
    try:
        verdict_training.main(["--descriptions", str(broken)])
    except SystemExit as exit_:
        message = str(exit_.code)
    else:
        message = ""
    assert "is not a Lending Club CSV" in message and "nothing was written" in message
    assert {p: p.read_bytes() for p in before} == before
