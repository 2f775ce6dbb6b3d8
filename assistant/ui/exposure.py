"""Whether the workbench may listen where the settings say: below both the launcher and the app."""

from __future__ import annotations

from assistant.settings import Settings
from models.errors import UnderwriterError

LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def check_exposure(settings: Settings) -> None:
    """A workbench reachable from other machines must ask who is there: refuse a non-loopback
    address unless sign-in is configured."""
    host = settings.ui.host.strip().strip("[]")
    if host not in LOOPBACK and not host.startswith("127.") and not settings.ui.auth_file:
        raise UnderwriterError(
            f"listening on {settings.ui.host} would let other machines read cases and record decisions "
            "without signing in; configure sign-in first (`underwrite ui-user add NAME`, then [ui] auth_file "
            "or UNDERWRITER_UI__AUTH_FILE), or keep the default 127.0.0.1"
        )
