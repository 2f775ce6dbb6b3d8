"""Manifests that cannot be rewritten to match a changed file: HMAC signatures and pinned ids.

Every model version and vector store carries a manifest with the SHA-256 of its files, and a load
refuses a file that does not match. That stops corruption, not an attacker: whoever can change the
file can rewrite the manifest beside it. Two pins stop that:

* with ``UNDERWRITER_AUDIT_KEY`` set, each manifest written gets ``signature``, an HMAC-SHA256 of
  its content, and a load refuses a manifest whose signature is missing or wrong;
* ``UNDERWRITER_MODEL_ID`` (one id or several, comma-separated) names the model ids a deployment
  may load; any other model (a retrained one, a rewritten one) is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from typing import Any

from models.errors import UnderwriterError

KEY_ENV = "UNDERWRITER_AUDIT_KEY"
MODEL_PIN_ENV = "UNDERWRITER_MODEL_ID"


class IntegrityError(UnderwriterError):
    """A manifest is not the one that was signed or pinned."""


def signing_key() -> bytes | None:
    text = os.environ.get(KEY_ENV, "")
    return text.encode() if text else None


def _digest(key: bytes, manifest: dict[str, Any]) -> str:
    body = {k: v for k, v in manifest.items() if k != "signature"}
    blob = json.dumps(body, sort_keys=True, ensure_ascii=False, default=str).encode()
    return hmac.new(key, blob, hashlib.sha256).hexdigest()


def signed(manifest: dict[str, Any]) -> dict[str, Any]:
    """``manifest`` with its signature when a key is set (unchanged otherwise)."""
    key = signing_key()
    return {**manifest, "signature": _digest(key, manifest)} if key else manifest


def check_signature(manifest: dict[str, Any], where: str) -> None:
    key = signing_key()
    if key is None:
        return
    found = manifest.get("signature")
    if not isinstance(found, str) or not hmac.compare_digest(found, _digest(key, manifest)):
        state = "carries no signature" if found is None else "has a signature that does not match"
        raise IntegrityError(
            f"{where}/manifest.json {state} under {KEY_ENV}: it was rewritten, signed with another key, "
            "or written before the key was set; it is refused (rebuild it with the key set)"
        )


def check_model_pin(model_id: str, where: str) -> None:
    pins = [p.strip() for p in os.environ.get(MODEL_PIN_ENV, "").split(",") if p.strip()]
    if pins and not any(model_id.startswith(p) for p in pins):
        raise IntegrityError(
            f"{where} is model {model_id[:16]}, not one this deployment pins ({MODEL_PIN_ENV}={', '.join(pins)}); "
            "it is refused"
        )
