"""Personal data in the forms people write it, found; ordinary figures left alone."""

from __future__ import annotations

import pandas as pd
import pytest

from retrieval.documents.pii import find_personal_data, people_named, redact
from tests.conftest import LENDING_CLUB, require_file


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Call (555) 123-4567 after noon.", "PHONE"),
        ("Call 555-123-4567 after noon.", "PHONE"),
        ("Call +44 20 7946 0958 in London.", "PHONE"),
        ("Call +1-555-362-1342.", "PHONE"),
        ("Her SSN is 123 45 6789.", "TAX_ID"),
        ("SSN 123-45-6789 on file.", "TAX_ID"),
        ("EIN 97 9284579 registered.", "TAX_ID"),
        ("Write to elena dot brennan at willowkite dot com today.", "EMAIL"),
        ("Write to jo [at] example [dot] org today.", "EMAIL"),
        ("Write to jo(at)example(dot)com today.", "EMAIL"),
        ("Card 4111 1111 1111 1111 was charged.", "CARD"),
    ],
)
def test_each_form_is_found(text: str, kind: str):
    assert kind in {f.kind for f in find_personal_data(text)}, text


def test_the_cases_own_people_are_redacted_wherever_they_occur():
    docs = [
        "Founded in 2015 by Elena Brennan, who remains the managing director.",
        "Dear Elena Brennan, invoices totalling $76,600 are overdue. Ms Brennan must reply.",
        "Guarantor: Omar Haddad. Contact: Priya N. Raman.",
    ]
    people = people_named(docs)
    assert {"Elena Brennan", "Omar Haddad", "Priya N. Raman"} <= set(people)
    clean = " ".join(redact(d, people)[0] for d in docs)
    assert "Brennan" not in clean and "Haddad" not in clean and "Raman" not in clean
    assert "$76,600" in clean and "2015" in clean


def test_ordinary_figures_in_real_loan_descriptions_are_not_personal_data():
    """The borrowers' own words: amounts, years and percentages stay; only real contact data goes."""
    frame = pd.read_csv(require_file(LENDING_CLUB), dtype=str)
    texts = frame["desc_clean"].dropna().tolist()
    found = [f for t in texts for f in find_personal_data(t)]
    figures = [f for f in found if f.kind in {"PHONE", "ACCOUNT"} and "$" in f.text]
    assert figures == []
    money = sum("$" in t for t in texts)
    kept = sum("$" in redact(t)[0] for t in texts)
    assert kept == money  # no dollar amount was mistaken for personal data


@pytest.mark.parametrize(
    "text",
    [
        "Requested amount: 130000.0",
        "chars 832-1035",
        "Revenue 1,234,567 in 2021-2022",
        "Total 181737.5",
        "12 345 678 units",
    ],
)
def test_amounts_spans_and_years_are_not_phones(text: str):
    assert [f for f in find_personal_data(text) if f.kind == "PHONE"] == []
