from pathlib import Path

import pytest

from assistant.settings import DEMO_MERCHANTS, load_settings
from assistant.workspace import Workspace
from models.errors import UnderwriterError


def test_file_then_environment_then_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    config = tmp_path / "u.toml"
    config.write_text(
        'workspace = "from-file"\nthreads = 1\n[demo]\nmerchants = 300\n[training]\nmax_depth = 3\n'
    )
    settings = load_settings(config)
    assert (
        settings.workspace,
        settings.threads,
        settings.demo.merchants,
        settings.training.max_depth,
    ) == (Path("from-file"), 1, 300, 3)
    monkeypatch.setenv("UNDERWRITER_DEMO__MERCHANTS", "400")
    monkeypatch.setenv("UNDERWRITER_THREADS", "2")
    settings = load_settings(config, workspace=tmp_path / "cli")
    assert (settings.workspace, settings.threads, settings.demo.merchants) == (
        tmp_path / "cli",
        2,
        400,
    )
    assert Workspace(settings).model_dir == tmp_path / "cli" / "models" / "merchant"


def test_defaults_without_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("UNDERWRITER_CONFIG", raising=False)
    settings = load_settings()
    assert settings.workspace == Path("workspace") and settings.demo.merchants == DEMO_MERCHANTS == 2000


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("threads = [", "not valid TOML"),
        ("colour = 1\n", "colour"),
        ("[demo]\nmerchants = -5\n", "demo.merchants"),
    ],
)
def test_bad_settings_are_named(tmp_path: Path, text: str, needle: str):
    config = tmp_path / "u.toml"
    config.write_text(text)
    with pytest.raises(UnderwriterError, match=needle):
        load_settings(config)
