"""Errors that carry a message meant for a person, not a traceback.

Every error a user can cause (bad data, a bad spec, a tampered model) is an
``UnderwriterError``; the CLI prints its message and exits non-zero.
"""

from __future__ import annotations

from dataclasses import dataclass


class UnderwriterError(Exception):
    """Base class for errors caused by input or artifacts, reported without a traceback."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where it is and what is wrong."""

    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


class DatasetError(UnderwriterError):
    """A data file does not match its dataset spec. Lists every problem found at once."""

    def __init__(self, source: str, problems: list[Problem]):
        self.source = source
        self.problems = problems
        lines = [f"{source}: {len(problems)} problem(s) found"]
        lines += [f"  - {p}" for p in problems]
        super().__init__("\n".join(lines))


class SpecError(UnderwriterError):
    """A dataset spec or policy file is malformed."""


class ArtifactError(UnderwriterError):
    """A model artifact is missing, corrupt, tampered with or of an unknown format."""
