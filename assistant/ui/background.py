"""What the workbench shows of the background index build, and its start, resume and stop.

The build itself runs in a child process (:mod:`assistant.jobs.background_index`); this reads its
state file for the header, the case page and ``underwrite index status``'s twin in the browser.
"""

from __future__ import annotations

import subprocess

from assistant.case.schema import CaseFile
from assistant.jobs.background_index import BuildState, read_state, start_build, stop_build
from assistant.settings import Settings
from assistant.workspace import Workspace


class BackgroundIndex:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.workspace = Workspace(settings)
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        """Start (or resume) building the document index and case library; returns the status line."""
        self._process = start_build(self.settings) or self._process
        return self.status()

    def stop(self) -> None:
        """Stop the child this workbench started (at shutdown); the next start resumes it."""
        stop_build(self._process)

    def state(self) -> BuildState | None:
        """The background build's state; None when the indexes were built another way (or never)."""
        return read_state(self.workspace)

    def building(self) -> bool:
        state = self.state()
        return state is not None and state.active

    def status(self, state: BuildState | None = None) -> str:
        """The header's line: progress, the error of a failed build, or that the index is ready
        (from ``state`` when the caller has just read it)."""
        state = state or self.state()
        if state is not None and (state.state != "done" or self.workspace.has_document_index()):
            return state.summary()
        if self.workspace.has_document_index():
            return "Document index ready"
        return "No document index: run `underwrite index build` (cases read their documents when opened)"

    def similar_note(self, case: CaseFile) -> str | None:
        """Why a case shows no similar past cases while its library is still being built, else None."""
        if case.similar or not case.similar_library:
            return None
        state = self.state()
        if state is not None and state.state != "done":
            return f"Not available yet. {state.summary()}; reopen the case when it is ready."
        return None
