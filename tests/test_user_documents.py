"""A user's own documents: found per case in a folder, a zip or a manifest, dated for point-in-time
rules, indexed, and read by memo and chat; shown on a real SEC filing reviewed unscored."""

import zipfile
from pathlib import Path

import pytest

from retrieval.documents.collect import collect_documents
from retrieval.errors import DocumentError
from tests.conftest import SHARED_DATA, require_file
from tests.test_cli import underwrite

REPO = Path(__file__).resolve().parents[1]
FILINGS = REPO / "data" / "sec_10k" / "filings.csv"
ASTROTECH = "1001907_10K_2010_0000950123-10-082003"
DATES = {"A1": "2024-03-01", "B2": "2024-05-10"}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_a_folder_of_case_folders_assigns_each_file_and_names_what_it_leaves_out(tmp_path):
    write(tmp_path / "docs" / "A1" / "bank_statement.txt", "Closing balance    $1,200.00")
    write(tmp_path / "docs" / "A1" / "notes" / "lawsuit.md", "# Claim\nA claim is pending.")
    write(tmp_path / "docs" / "A1" / "photo.jpg", "not a document")
    write(tmp_path / "docs" / "Z9" / "x.txt", "no such case")
    write(tmp_path / "docs" / "loose.txt", "outside any case folder")
    got = collect_documents(tmp_path / "docs", DATES, tmp_path / "staging")
    assert sorted((s.merchant_id, s.doc_id, s.doc_type, s.as_of) for s in got.sources) == [
        ("A1", "A1/bank_statement.txt", "bank_statement", "2024-03-01"),
        ("A1", "A1/notes/lawsuit.md", "lawsuit", "2024-03-01"),
    ]
    assert any("photo.jpg" in s for s in got.skipped) and any("no case 'Z9'" in s for s in got.skipped)
    assert any("loose.txt" in s and "outside any case folder" in s for s in got.skipped)


def test_a_manifest_dates_each_document_and_refuses_bad_rows_by_line(tmp_path):
    write(tmp_path / "a.txt", "statement")
    write(tmp_path / "b.txt", "statement")
    manifest = write(
        tmp_path / "manifest.csv",
        "case_id,path,doc_type,received\nA1,a.txt,bank_statement,2024-02-01\nB2,b.txt,,\n"
        "A1,missing.txt,x,\nQ7,a.txt,x,\nA1,b.txt,x,last tuesday-ish\n",
    )
    got = collect_documents(manifest, DATES, tmp_path / "staging")
    assert [(s.merchant_id, s.doc_type, s.as_of) for s in got.sources] == [
        ("A1", "bank_statement", "2024-02-01"),
        ("B2", "b", "2024-05-10"),  # no date given: received by the case's own decision date
    ]
    assert [line.split(":")[0] for line in got.skipped] == [
        "manifest.csv line 4",
        "manifest.csv line 5",
        "manifest.csv line 6",
    ]
    with pytest.raises(DocumentError, match="lacks column"):
        collect_documents(write(tmp_path / "bad.csv", "id,file\nA1,a.txt\n"), DATES, tmp_path / "s")


def test_a_zip_is_split_into_its_cases_within_the_archive_limits(tmp_path):
    archive = tmp_path / "docs.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("A1/statement.txt", "Closing balance    $1,200.00")
        z.writestr("filings/B2.json", '{"company": "B", "item_7": "Revenues were $5 million."}')
        z.writestr("other/unknown.txt", "nobody's")
    got = collect_documents(archive, DATES, tmp_path / "staging")
    assert sorted((s.merchant_id, s.doc_type) for s in got.sources) == [("A1", "statement"), ("B2", "json")]
    assert all(Path(s.path).is_file() for s in got.sources) and len(got.skipped) == 1
    with pytest.raises(DocumentError, match="does not exist"):
        collect_documents(tmp_path / "nowhere", DATES, tmp_path / "staging")


def test_a_real_10k_filing_is_indexed_reviewed_unscored_and_answered(tmp_path):
    shared = require_file(SHARED_DATA / "sec_10k" / "filings_dev.zip")
    one = tmp_path / "astrotech.zip"
    with zipfile.ZipFile(shared) as source, zipfile.ZipFile(one, "w") as target:
        target.writestr(f"10-K/{ASTROTECH}.json", source.read(f"10-K/{ASTROTECH}.json"))
    ws = ("--workspace", str(tmp_path / "ws"))
    case = ("--spec", "sec_10k", "--data", str(FILINGS))
    built = underwrite(*ws, "index", "build", *case, "--documents", str(one), cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    assert "no similar-case library: spec sec_10k has no label" in built.stdout
    memo = underwrite(*ws, "memo", *case, ASTROTECH, cwd=tmp_path)
    assert memo.returncode == 0, memo.stderr
    text = memo.stdout
    assert "probability of default not scored" in text and "**REFER**" in text
    assert "## Financial analysis" in text and "| Revenue decline or losses |" in text
    assert (
        text.index("## Risk rating") < text.index("## Financial analysis") < text.index("## Recommendation")
    )
    assert "| Total assets |" in text and "a sentence, million" in text
    chat = underwrite(
        *ws,
        "chat",
        *case,
        ASTROTECH,
        "--ask",
        "What were the total assets?",
        "--ask",
        "Is the company in litigation?",
        cwd=tmp_path,
    )
    assert chat.returncode == 0, chat.stderr
    assert "a sentence states it" in chat.stdout and "$54.9 million" in chat.stdout
    # bad input: a clear error, and the index already built is untouched
    index = tmp_path / "ws" / "index" / "datasets" / "sec_10k" / "documents"
    before = sorted(p.name for p in (index / "versions").iterdir())
    for args, message in [
        (("--documents", str(tmp_path / "nowhere")), "does not exist"),
        (("--documents", str(write(tmp_path / "m.csv", "case_id,path\nnobody,x.txt\n"))), "no document in"),
    ]:
        failed = underwrite(*ws, "index", "build", *case, *args, cwd=tmp_path)
        assert failed.returncode != 0 and message in failed.stderr and "Traceback" not in failed.stderr
    assert sorted(p.name for p in (index / "versions").iterdir()) == before
    trained = underwrite(
        *ws, "train", "--spec", "sec_10k", "--data", str(FILINGS), "--out", "m", cwd=tmp_path
    )
    assert trained.returncode != 0 and "has no label" in trained.stderr and "Traceback" not in trained.stderr


def test_a_document_received_after_the_decision_is_not_in_the_case_file(tmp_path):
    from assistant.case.source import CaseSource
    from assistant.jobs.index_build import build_indexes
    from assistant.settings import load_settings

    write(
        tmp_path / "before.txt", "Board minutes. A claim of $40,000 against the company is pending in court."
    )
    write(tmp_path / "after.txt", "Letter. The Company filed for Chapter 11 bankruptcy protection last week.")
    manifest = write(
        tmp_path / "m.csv",
        f"case_id,path,doc_type,received\n{ASTROTECH},before.txt,minutes,2010-08-01\n"
        f"{ASTROTECH},after.txt,letter,2010-12-01\n",
    )
    settings = load_settings(None, workspace=tmp_path / "ws", threads=2)
    build_indexes(settings, spec="sec_10k", data=FILINGS, documents=manifest, progress=False)
    case = CaseSource(settings, spec="sec_10k", data=str(FILINGS)).case_file(ASTROTECH)  # filed 2010-08-30
    assert [d.doc_type for d in case.documents] == ["minutes"]
    assert {s["type"] for s in case.evidence.signals} == {
        "litigation"
    }  # the later bankruptcy is not known yet
    assert case.score.pd is None and case.score.band == "refer"
