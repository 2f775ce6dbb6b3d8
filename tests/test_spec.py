from pathlib import Path

import pytest

from models.data.spec import canonical_value, load_spec, parse_spec, shipped_spec_names
from models.errors import SpecError


def test_every_shipped_spec_loads():
    names = shipped_spec_names()
    assert {
        "merchant_portfolio",
        "lending_club",
        "sba_national",
        "german_credit",
        "polish_bankruptcy",
    } <= set(names)
    for name in names:
        spec = load_spec(name)
        assert spec.features, name
        assert all(spec.reason_text(f) for f in spec.features)


def test_label_values_compare_after_normalisation():
    assert canonical_value(1) == canonical_value("1") == canonical_value(" 1.0 ") == "1"
    assert canonical_value("CHGOFF") == canonical_value("chgoff")


BASE = """
name: t
id: id
label: {column: y, positive: [1], negative: [0]}
numeric: [a, b]
categorical: [c]
"""


def test_spec_problems_are_reported_together():
    bad = BASE + "monotone: {c: 1, zz: -1}\nnames: {nope: Nope}\n"
    with pytest.raises(SpecError) as err:
        parse_spec(bad, "bad.yaml")
    message = str(err.value)
    assert "bad.yaml" in message
    assert "'c', which is not a numeric feature" in message
    assert "'zz'" in message and "nope" in message


def test_unknown_key_and_overlapping_labels_are_refused():
    with pytest.raises(SpecError, match="colour"):
        parse_spec(BASE + "colour: blue\n", "x.yaml")
    with pytest.raises(SpecError, match="both positive and negative"):
        parse_spec(BASE.replace("negative: [0]", "negative: [1.0]"), "x.yaml")


def test_missing_spec_names_the_shipped_ones(tmp_path: Path):
    with pytest.raises(SpecError, match="lending_club"):
        load_spec(tmp_path / "nope.yaml")


def test_reason_text_follows_monotone_direction():
    spec = parse_spec(BASE + "monotone: {a: 1, b: -1}\nnames: {a: Dispute rate, b: Tenure}\n", "x")
    assert spec.reason_text("a") == "Dispute rate is high"
    assert spec.reason_text("b") == "Tenure is low"
    assert "associated with higher risk" in spec.reason_text("c")
