"""What every LLM backend takes and how chat messages are handed to a chat template.

Below :mod:`models.backends.llm` (which loads the backends) and the backend modules themselves, so
that neither imports the other and the settings tree reads :class:`LLMParams` without a backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class LLMParams:
    temperature: float = 0.0
    seed: int = 7
    max_tokens: int = 256
    context_size: int = 4096
    threads: int = 2
    timeout_s: float = 60.0
    repeat_penalty: float = 1.1
    """llama.cpp only: discourages the loops a small model falls into."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


CHAT_ROLES = {"system": "system", "human": "user", "ai": "assistant"}


def chat_dicts(messages: Sequence[Any]) -> list[dict[str, str]]:
    """LangChain messages as the ``{"role", "content"}`` dicts chat templates expect."""
    return [{"role": CHAT_ROLES.get(m.type, "user"), "content": str(m.content)} for m in messages]
