"""The embedder's tokenizer on its own, below both embedder modules (no weights, no torch)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from models.errors import UnderwriterError


class Tokenizer:
    """The embedder's tokenizer alone (the Rust ``tokenizers`` library: no weights, no torch): chunks
    documents exactly as the embedder would where only reading is needed (a case opened before the
    index is built)."""

    def __init__(self, path: Path):
        from tokenizers import Tokenizer as RustTokenizer

        file = path / "tokenizer.json"
        if not file.is_file():
            raise UnderwriterError(f"{path} has no tokenizer.json")
        self._tokenizer = RustTokenizer.from_file(str(file))
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        config = path / "sentence_bert_config.json"
        window = json.loads(config.read_text()).get("max_seq_length") if config.is_file() else None
        self.max_tokens = int(window or 256)

    def encode(self, texts: Sequence[str]) -> list[Any]:
        """Each text's word pieces (``.ids``), without special tokens."""
        return self._tokenizer.encode_batch(list(texts), add_special_tokens=False) if texts else []

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(e.ids) for e in self.encode(texts)]

    def vocabulary(self) -> dict[str, int]:
        return dict(self._tokenizer.get_vocab())
