"""The dependency parser's model files are pinned: a changed or missing file is refused by name."""

from __future__ import annotations

import shutil

import pytest

from assistant.memo import parse


def test_the_installed_parser_is_the_pinned_one():
    parse.verify(parse.model_dir())
    doc = parse.parse("The company did not meet its covenant.")
    assert [t.dep_ for t in doc if t.lower_ == "not"] == ["neg"]


def test_a_changed_model_file_is_refused_with_its_name(tmp_path):
    copy = tmp_path / "model"
    shutil.copytree(parse.model_dir(), copy)
    with (copy / "parser" / "model").open("ab") as f:
        f.write(b"\0")
    with pytest.raises(parse.ParserError, match=r"parser/model is not the pinned one"):
        parse.verify(copy)


def test_a_missing_model_file_is_refused(tmp_path):
    copy = tmp_path / "model"
    shutil.copytree(parse.model_dir(), copy)
    (copy / "tagger" / "model").unlink()
    with pytest.raises(parse.ParserError, match=r"has no tagger/model"):
        parse.verify(copy)


def test_a_tampered_parser_never_loads(tmp_path, monkeypatch):
    copy = tmp_path / "model"
    shutil.copytree(parse.model_dir(), copy)
    (copy / "tok2vec" / "model").write_bytes(b"not the weights")
    monkeypatch.setattr(parse, "model_dir", lambda: copy)
    parse.pipeline.cache_clear()
    try:
        with pytest.raises(parse.ParserError, match="tok2vec/model"):
            parse.pipeline()
    finally:
        parse.pipeline.cache_clear()
