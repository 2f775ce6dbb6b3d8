"""A model whose file was changed cannot be loaded by rewriting the manifest beside it, once the
manifests are signed (``UNDERWRITER_AUDIT_KEY``) or the model id is pinned (``UNDERWRITER_MODEL_ID``)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from models.errors import UnderwriterError
from models.store.artifacts import _model_id, load_model
from models.store.integrity import signed
from models.store.versioned import MANIFEST, sha256_file

KEY = "a key kept outside the workspace"


def _copy(trained, tmp_path: Path) -> Path:
    folder = tmp_path / "v0001"
    shutil.copytree(trained.version_dir, folder)
    return folder


def _forge(folder: Path, *, keep_signature: bool) -> None:
    """Raise the policy's approve cut-off to 12% PD and rewrite the manifest to match."""
    policy = folder / "policy.yaml"
    policy.write_text(policy.read_text().replace("approve: 0.04", "approve: 0.12"))
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest["files"]["policy.yaml"] = sha256_file(policy)
    manifest["model_id"] = _model_id(manifest["files"])
    if not keep_signature:
        manifest.pop("signature", None)
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2))


def test_without_a_pin_a_rewritten_manifest_loads(trained, tmp_path: Path, monkeypatch):
    """The hole the pins close: file hashes alone stop corruption, not a forger."""
    monkeypatch.delenv("UNDERWRITER_AUDIT_KEY", raising=False)
    folder = _copy(trained, tmp_path)
    _forge(folder, keep_signature=True)
    assert load_model(folder).model_id != load_model(trained.version_dir).model_id


@pytest.mark.parametrize("keep_signature", [True, False])
def test_a_signed_manifest_rewritten_without_the_key_is_refused(
    trained, tmp_path: Path, monkeypatch, keep_signature
):
    monkeypatch.setenv("UNDERWRITER_AUDIT_KEY", KEY)
    folder = _copy(trained, tmp_path)
    manifest = json.loads((folder / MANIFEST).read_text())
    (folder / MANIFEST).write_text(json.dumps(signed(manifest), indent=2))  # as written with the key set
    assert load_model(folder).model_id == manifest["model_id"]
    _forge(folder, keep_signature=keep_signature)
    with pytest.raises(
        UnderwriterError, match=r"manifest.json (carries no signature|has a signature that does not match)"
    ):
        load_model(folder)


def test_a_pinned_model_id_refuses_any_other_model(trained, tmp_path: Path, monkeypatch):
    monkeypatch.delenv("UNDERWRITER_AUDIT_KEY", raising=False)
    good = load_model(trained.version_dir).model_id
    monkeypatch.setenv("UNDERWRITER_MODEL_ID", good[:16])
    assert load_model(trained.version_dir).model_id == good
    folder = _copy(trained, tmp_path)
    _forge(folder, keep_signature=True)
    with pytest.raises(UnderwriterError, match="not one this deployment pins"):
        load_model(folder)


def test_a_model_trained_with_the_key_set_is_signed_and_loads(portfolio, tmp_path: Path, monkeypatch):
    from assistant.jobs.modeling import train_model
    from assistant.settings import load_settings

    monkeypatch.setenv("UNDERWRITER_AUDIT_KEY", KEY)
    settings = load_settings(None, workspace=tmp_path / "ws", threads=2)
    out = train_model(
        settings, spec="merchant_portfolio", data=portfolio.merchants, out=tmp_path / "m", progress=False
    )
    assert "signature" in json.loads((out.version_dir / MANIFEST).read_text())
    load_model(out.version_dir)
    monkeypatch.setenv("UNDERWRITER_AUDIT_KEY", "another key")
    with pytest.raises(UnderwriterError, match="signature that does not match"):
        load_model(out.version_dir)
