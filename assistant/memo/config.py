"""How much of each case a memo reads, and when LLM text gives way to quoted text."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from assistant.settings import Settings
from prompts.loader import Prompt, load_prompt


@dataclass(frozen=True)
class MemoConfig:
    max_chunks_per_document: int = 2
    max_sentences_per_document: int = 3
    min_sentences: int = 1
    """Fewer surviving LLM sentences than this and the section falls back to extractive text."""
    extractive_sentences: int = 2
    min_support: float = 0.75
    """Share of a summary sentence's content words that must occur in the chunk it cites."""
    min_prose_share: float = 0.4
    """Chunks with less running text than this (tables, headings) are quoted, not summarised."""
    prompt_versions: tuple[tuple[str, int], ...] = ()
    """Pinned template versions, e.g. ``(("document_summary", 1),)``; others use the current one."""

    def prompt(self, name: str) -> Prompt:
        return load_prompt(name, dict(self.prompt_versions).get(name))

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "prompt_versions": [list(p) for p in self.prompt_versions]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MemoConfig:
        pinned = tuple((str(n), int(v)) for n, v in data.get("prompt_versions", ()))
        return cls(**{**data, "prompt_versions": pinned})


def memo_config(settings: Settings) -> MemoConfig:
    m = settings.memo
    return MemoConfig(
        max_chunks_per_document=m.max_chunks_per_document,
        max_sentences_per_document=m.max_sentences_per_document,
        min_sentences=m.min_sentences,
        extractive_sentences=m.extractive_sentences,
    )
