"""The models the service holds: the champion that decides, the challengers that score in shadow, and the
hot swap.

A request reads :attr:`ModelRegistry.champion` once and keeps that object to the end, so a swap never
changes a request's model half way. A swap loads the new version beside the old (its files' hashes
verified by :func:`models.store.artifacts.load_model`), checks that it takes the same fields, scores the last
requests it saw (or a typical applicant) as a canary, and only then replaces the reference in one
assignment. A version that fails any check is never served; the old one keeps deciding.
"""

from __future__ import annotations

import collections
import threading
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from assistant.audit import AuditStore
from assistant.champion.registry import challenger_paths, champion_path, load_for, same_inputs
from assistant.settings import Settings
from models.errors import UnderwriterError
from models.scoring.explanation import explain_row
from models.store.artifacts import RiskModel
from models.store.versioned import current_version

CANARY_ROWS = 16
WATCH_EVERY_S = 5.0


@dataclass(frozen=True)
class Served:
    model: RiskModel
    path: str
    pointer: str | None
    """The folder's live version when loaded (None for a version folder): a change means a new version."""
    loaded_at: float = field(default_factory=time.time)


class ModelRegistry:
    def __init__(self, settings: Settings, audit: AuditStore, audit_lock: threading.Lock):
        self.settings = settings
        self.audit = audit
        self.audit_lock = audit_lock
        self.swap_lock = threading.Lock()
        self.recent: collections.deque[pd.DataFrame] = collections.deque(maxlen=CANARY_ROWS)
        with audit_lock:
            path = champion_path(settings, audit)
        self.champion = self._load(path, "the champion")
        self.challengers = self._challengers()
        self.swaps = 0
        self._stop = threading.Event()

    def _load(self, path: str, what: str) -> Served:
        model = load_for(path, what, 1)
        explain_row(
            model, typical_applicant(model), 1, with_recourse=False
        )  # configure it before threads share it
        return Served(model, path, current_version(path))

    def _challengers(self) -> dict[str, RiskModel]:
        out = {}
        for name, path in challenger_paths(self.settings).items():
            model = load_for(path, f"challenger {name}", 1)
            explain_row(model, typical_applicant(model), 1, with_recourse=False)
            same_inputs(self.champion.model, model, f"challenger {name}")
            if model.model_id != self.champion.model.model_id:  # a promoted challenger does not shadow itself
                out[name] = model
        return out

    def remember(self, row: pd.DataFrame) -> None:
        self.recent.append(row)

    def swap(self, path: str | None = None) -> Served:
        """Load, verify and canary-score ``path`` (default: the champion the settings and promotions name now),
        then serve it. Raises :class:`UnderwriterError` and keeps the old model when any check fails."""
        with self.swap_lock:
            if path is None:
                with self.audit_lock:
                    path = champion_path(self.settings, self.audit)
            new = self._load(path, "the new model")
            same_inputs(self.champion.model, new.model, "the new model")
            self._canary(new.model)
            self.champion = new  # one reference assignment: a request sees the old model or the new one
            self.challengers = self._challengers()
            self.swaps += 1
            return new

    def _canary(self, model: RiskModel) -> None:
        rows = list(self.recent) or [typical_applicant(model)]
        for row in rows:
            facts = explain_row(model, row, 1, with_recourse=False)
            if facts.pd is None or not (np.isfinite(facts.pd) and 0.0 <= facts.pd <= 1.0):
                raise UnderwriterError(f"the new model scored a canary case PD {facts.pd}: not served")

    def watch(self) -> None:
        """Swap in a new version when the champion folder's live version changes (a retrain, a promotion)."""
        while not self._stop.wait(WATCH_EVERY_S):
            try:
                with self.audit_lock:
                    path = champion_path(self.settings, self.audit)
                if path != self.champion.path or current_version(path) != self.champion.pointer:
                    self.swap(path)
            except UnderwriterError:
                continue  # a broken new version is not served; the old one keeps deciding

    def start_watching(self) -> None:
        threading.Thread(target=self.watch, name="model-watch", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()


def typical_applicant(model: RiskModel) -> pd.DataFrame:
    """A row of medians and most common categories: the canary when no request has been seen yet."""
    row: dict[str, object] = {}
    for feature in model.spec.numeric:
        qs = model.population.quantiles.get(feature) if model.population else None
        row[feature] = qs[len(qs) // 2] if qs else 0.0
    for feature in model.spec.categorical:
        known = model.encoder.categories.get(feature, [])
        row[feature] = known[0] if known else "unknown"
    return pd.DataFrame([row])
