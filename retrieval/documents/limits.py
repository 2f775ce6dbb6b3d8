"""Hard limits for reading untrusted documents.

Every reader checks them; the sandbox enforces time and memory from outside
the parser, so a file that makes a parser loop or allocate without bound
costs at most ``max_seconds`` and ``max_memory_mb``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReaderLimits:
    max_bytes: int = 25 * 1024 * 1024
    """Largest file accepted, before any parsing."""
    max_pages: int = 1000
    """Most PDF pages read."""
    max_ratio: float = 100.0
    """Largest decompressed/compressed size ratio of any archive member (zip bombs)."""
    max_unpacked_bytes: int = 100 * 1024 * 1024
    """Largest total decompressed size of an archive (docx, zip)."""
    max_members: int = 5000
    """Most members in an archive."""
    max_chars: int = 5_000_000
    """Longest extracted text kept per document."""
    max_seconds: float = 30.0
    """Wall-clock limit for parsing one file (enforced by the sandbox)."""
    max_memory_mb: int = 1024
    """Extra address space a sandboxed parser may take (enforced by the sandbox)."""

    def describe(self) -> dict[str, float]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}
