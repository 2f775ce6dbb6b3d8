"""Errors of the evidence layer, each naming the file, limit or index at fault."""

from __future__ import annotations

from models.errors import UnderwriterError


class DocumentError(UnderwriterError):
    """A document could not be read: too big, malformed, hostile or of an unknown format.

    ``source`` names the file (and the part of it, for archives and JSON records);
    ``limit`` names the hard limit that was hit, when one was.
    """

    def __init__(self, source: str, what: str, limit: str | None = None):
        self.source = source
        self.what = what
        self.limit = limit
        super().__init__(f"{source}: {what}")


class StoreError(UnderwriterError):
    """A vector store is missing, corrupt, foreign, or used with the wrong embedder."""
