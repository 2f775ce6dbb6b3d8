"""The models a workbench process shares across its requests: the LLM and the document index.

Both load off the request path: the LLM in the workbench's background thread (a case page needs
only the risk model and the stored evidence), the document index on the first chat question
(importing torch earlier would hold the import lock and both cores while the first page renders).
The LLM is shared and not thread-safe, so every LLM call takes :attr:`SharedModels.lock`.
"""

from __future__ import annotations

import threading
from typing import Any

from assistant.backends import open_embedder, open_llm
from assistant.settings import Settings
from assistant.workspace import Workspace
from models.backends.llm import LLM
from models.errors import UnderwriterError

WAITING_FOR_LLM_S = 120


class SharedModels:
    def __init__(self, settings: Settings, llm: LLM | None = None):
        self.settings = settings
        self.lock = threading.Lock()
        """Held for every LLM call."""
        self._index_lock = threading.Lock()
        self._llm = llm
        self._llm_error: str | None = None
        self._llm_ready = threading.Event()
        if llm is not None:
            self._llm_ready.set()
        self._index: Any | None = None
        self._index_error: str | None = None

    def use_llm(self, llm: LLM) -> None:
        """Serve ``llm`` from now on (a test's scripted model, a backend switched at run time)."""
        self._llm, self._llm_error = llm, None
        self._llm_ready.set()

    def load_llm(self) -> None:
        if self._llm_ready.is_set():
            return
        try:
            self._llm = open_llm(self.settings, threads=self.settings.threads)
        except Exception as exc:  # a missing model file or a bad backend setting: shown, not fatal
            self._llm_error = f"{type(exc).__name__}: {exc}"
        finally:
            self._llm_ready.set()

    def llm(self) -> LLM:
        if not self._llm_ready.is_set():
            threading.Thread(target=self.load_llm, daemon=True).start()
        if not self._llm_ready.wait(WAITING_FOR_LLM_S):
            raise UnderwriterError("the LLM is still loading; try again in a moment")
        if self._llm is None:
            raise UnderwriterError(f"the LLM backend is not available ({self._llm_error})")
        return self._llm

    def llm_status(self) -> str:
        if not self._llm_ready.is_set():
            return "LLM loading…"
        if self._llm is None:
            return f"LLM unavailable: {self._llm_error}"
        return f"LLM ready: {self._llm.model_id}"

    def document_index(self) -> Any | None:
        """The semantic passage search over the portfolio's documents (chat), or None if unavailable."""
        with self._index_lock:  # not the case source's lock: a case page never waits for the embedder
            if self._index is None and self._index_error is None:
                try:
                    from retrieval.passages import DocumentIndex

                    folder = Workspace(self.settings).documents_index_dir
                    self._index = DocumentIndex.load(folder, open_embedder(self.settings))
                except Exception as exc:  # chat falls back to keyword search over the case's passages
                    self._index_error = f"{type(exc).__name__}: {exc}"
            return self._index

    def forget_index(self) -> None:
        """Load the document index again on next use (a background build has published a new one)."""
        with self._index_lock:
            self._index, self._index_error = None, None
