"""Bad input gets one clear error listing every problem, with row numbers."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models.data.dataset import load_dataset
from models.data.spec import parse_spec
from models.errors import DatasetError

SPEC = parse_spec(
    """
name: t
id: id
label: {column: y, positive: [1], negative: [0]}
date: {column: d}
numeric: [a, b]
categorical: [c]
""",
    "test",
)

GOOD = "id,d,a,b,c,y\nx1,2024-01-01,1.5,2,red,1\nx2,2024-02-01,,3,blue,0\nx3,2024-03-01,2,4,,0\n"


def write(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_good_file_is_typed(tmp_path: Path):
    ds = load_dataset(write(tmp_path, GOOD), SPEC, require_label=True)
    assert list(ds.ids) == ["x1", "x2", "x3"]
    assert ds.labels.tolist() == [1, 0, 0]
    assert np.isnan(ds.frame["a"][1]) and ds.frame["b"].tolist() == [2.0, 3.0, 4.0]
    assert ds.frame["c"][0] == "red" and pd.isna(ds.frame["c"][2])
    assert str(ds.dates[0].date()) == "2024-01-01"


def test_every_problem_is_reported_at_once(tmp_path: Path):
    text = (
        "id,d,a,b,c,y\n"
        "x1,2024-01-01,1.5,abc,red,1\n"
        "x1,2024-13-45,2,3,blue,0\n"
        "x3,2024-03-01,oops,4,red,\n"
        "x4,2024-03-01,1,4,red,maybe\n"
    )
    with pytest.raises(DatasetError) as err:
        load_dataset(write(tmp_path, text), SPEC, require_label=True)
    message = str(err.value)
    assert "column 'b': non-numeric values at row 1, e.g. 'abc'" in message
    assert "column 'a': non-numeric values at row 3, e.g. 'oops'" in message
    assert "duplicate ids at rows 1, 2" in message
    assert "unreadable dates at row 2" in message
    assert "empty labels at row 3" in message
    assert "unknown label values at row 4, e.g. 'maybe'" in message
    assert len(err.value.problems) == 6


def test_missing_columns_are_named(tmp_path: Path):
    with pytest.raises(DatasetError, match="missing column\\(s\\): b, y"):
        load_dataset(write(tmp_path, "id,d,a,c\nx,2024-01-01,1,r\n"), SPEC, require_label=True)


def test_label_is_optional_for_scoring(tmp_path: Path):
    ds = load_dataset(write(tmp_path, "id,d,a,b,c\nx,2024-01-01,1,2,r\n"), SPEC, require_label=False)
    assert ds.labels is None and len(ds) == 1


def test_malformed_rows_are_listed_by_line(tmp_path: Path):
    text = "id,d,a,b,c,y\nx1,2024-01-01,1,2,r,1\nx2,2024-01-01,1,2,r,0,extra\nx3,2024-01-01,1,2,r,0\nx4,1\n"
    with pytest.raises(DatasetError) as err:
        load_dataset(write(tmp_path, text), SPEC, require_label=True)
    message = str(err.value)
    assert "line 3: has 7 fields, the header has 6" in message
    assert "line 5: has 2 fields" in message


def test_bad_encoding_names_the_line(tmp_path: Path):
    path = tmp_path / "latin.csv"
    path.write_bytes(GOOD.encode() + "x9,2024-01-01,1,2,caf\xe9,0\n".encode("latin-1"))
    with pytest.raises(DatasetError, match=r"line 5: byte 0xe9 is not valid utf-8"):
        load_dataset(path, SPEC, require_label=True)


@pytest.mark.parametrize(("text", "needle"), [("", "file is empty"), ("id,d,a,b,c,y\n", "no data rows")])
def test_empty_inputs(tmp_path: Path, text: str, needle: str):
    with pytest.raises(DatasetError, match=needle):
        load_dataset(write(tmp_path, text), SPEC, require_label=True)


def test_missing_file(tmp_path: Path):
    with pytest.raises(DatasetError, match="file not found"):
        load_dataset(tmp_path / "nope.csv", SPEC, require_label=True)


def test_single_class_cannot_train(tmp_path: Path):
    with pytest.raises(DatasetError, match="needs both defaulted and repaid rows"):
        load_dataset(write(tmp_path, GOOD.replace(",1\n", ",0\n")), SPEC, require_label=True)


def test_unlabelled_rows_skipped_when_the_spec_says_so(tmp_path: Path):
    spec = SPEC.model_copy(update={"label": SPEC.label.model_copy(update={"unlabelled": "skip"})})
    ds = load_dataset(write(tmp_path, GOOD + "x4,2024-04-01,1,1,red,\n"), spec, require_label=True)
    assert len(ds) == 3 and ds.skipped_unlabelled == 1


def test_parquet_reads_like_csv(tmp_path: Path):
    csv_path = write(tmp_path, GOOD)
    parquet_path = tmp_path / "data.parquet"
    frame = pd.read_csv(csv_path)
    frame["id"] = frame["id"].astype(str)
    frame.to_parquet(parquet_path)
    a = load_dataset(csv_path, SPEC, require_label=True)
    b = load_dataset(parquet_path, SPEC, require_label=True)
    pd.testing.assert_frame_equal(a.frame[["a", "b"]], b.frame[["a", "b"]])
    assert a.labels.tolist() == b.labels.tolist()


def test_corrupt_parquet(tmp_path: Path):
    path = tmp_path / "bad.parquet"
    path.write_bytes(b"PAR1 not really")
    with pytest.raises(DatasetError, match="not a readable Parquet file"):
        load_dataset(path, SPEC, require_label=True)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "UTF8", "utf_8"])
def test_every_spelling_of_utf8_reads_a_file_with_a_byte_order_mark(tmp_path: Path, encoding: str):
    spec = SPEC.model_copy(update={"encoding": encoding})
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.encode())
    assert list(load_dataset(path, spec, require_label=True).ids) == ["x1", "x2", "x3"]


def test_an_unknown_encoding_is_a_clear_spec_error():
    from models.errors import SpecError

    text = "name: t\nlabel: {column: y, positive: [1], negative: [0]}\nnumeric: [a]\nencoding: utf-9\n"
    with pytest.raises(SpecError, match="encoding 'utf-9' is not a text encoding"):
        parse_spec(text, "test")


def test_training_with_a_utf8_sig_spec_gives_a_model_not_a_traceback(tmp_path: Path):
    """The spec a user wrote for an Excel export (``encoding: utf-8-sig``) trains."""
    import subprocess
    import sys

    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "name: t\nid: id\nlabel: {column: y, positive: [1], negative: [0]}\nnumeric: [a, b]\nencoding: utf-8-sig\n"
    )
    rows = "".join(f"x{i},{i % 7},{(i * 3) % 11},{int(i % 7 > 3)}\n" for i in range(200))
    data = tmp_path / "data.csv"
    data.write_bytes(b"\xef\xbb\xbf" + ("id,a,b,y\n" + rows).encode())
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "assistant.cli",
            "--workspace",
            str(tmp_path / "ws"),
            "train",
            "--spec",
            str(spec),
            "--data",
            str(data),
            "--out",
            str(tmp_path / "model"),
            "--policy",
            "generic",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr


def test_missing_markers_read_as_missing_on_every_path():
    """Spark's CSV reader keeps "n/a" as text where pandas reads it as missing (Lending Club's emp_length
    has 12): the shared rule makes both missing, so a scorecard bins them alike."""
    from models.data.dataset import parse_features
    from models.data.spec import load_spec

    spec = load_spec("lending_club")
    raw = pd.DataFrame(
        {c: ["1"] * 4 for c in spec.numeric}
        | {c: ["x"] * 4 for c in spec.categorical}
        | {c: [""] * 4 for c in spec.text}
    )
    raw["emp_length"] = ["n/a", "NULL", "#N/A", "10+ years"]
    raw["dti"] = ["NA", "null", "", "3.5"]
    typed, bad = parse_features(raw, spec)
    assert typed["emp_length"].isna().tolist() == [True, True, True, False]
    assert typed["dti"].isna().tolist() == [True, True, True, False] and "dti" not in bad
