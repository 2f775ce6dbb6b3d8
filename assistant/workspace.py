"""The workspace: where every artifact of one installation lives, and which of them exist yet.

One folder (``[workspace]``, default ``./workspace``) holds the demo portfolio, the model,
the scores, the document index, the similar-case libraries, the audit trail and the caches.
:class:`Workspace` is the only place that knows that layout; jobs build what is missing,
the case source and the workbench ask whether it is there.
"""

from __future__ import annotations

from pathlib import Path

from assistant.audit.anchor import key_from
from assistant.audit.store import AuditStore
from assistant.settings import Settings
from models.demo_data.generate import PortfolioFiles
from models.errors import UnderwriterError
from models.store.versioned import has_current, read_current_manifest, sha256_file

PORTFOLIO_SPEC = "merchant_portfolio"
"""The demo portfolio's dataset spec."""
PORTFOLIO_LIBRARY = "merchants"
"""The demo portfolio's similar-case library."""


class Workspace:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.root = settings.workspace

    # ---- where things live ----------------------------------------------------------------------
    @property
    def portfolio_dir(self) -> Path:
        return self.root / "demo" / "portfolio"

    @property
    def portfolio(self) -> PortfolioFiles:
        return PortfolioFiles(self.portfolio_dir)

    @property
    def model_dir(self) -> Path:
        """The demo portfolio's model."""
        return self.models_dir("merchant")

    def models_dir(self, name: str) -> Path:
        """A model directory of the workspace (``lending_club``, ...)."""
        return self.root / "models" / name

    @property
    def scores_path(self) -> Path:
        return self.root / "demo" / "scores.csv"

    @property
    def documents_index_dir(self) -> Path:
        return self.root / "index" / "documents"

    def dataset_documents_dir(self, spec_name: str) -> Path:
        """The document index of a dataset's own documents (``index build --spec S --documents D``)."""
        return self.root / "index" / "datasets" / spec_name / "documents"

    def case_library_dir(self, name: str = PORTFOLIO_LIBRARY) -> Path:
        return self.root / "index" / "cases" / name

    @property
    def audit_target(self) -> str:
        """The audit trail: ``[audit] url`` (PostgreSQL) when set, else SQLite in the workspace."""
        return self.settings.audit.url or str(self.root / "audit" / "audit.sqlite")

    @property
    def audit_checkpoint(self) -> Path | None:
        """Where each commit's chain heads are appended: ``[audit] checkpoint``, else beside a SQLite
        trail, else (PostgreSQL) in the workspace."""
        if self.settings.audit.checkpoint:
            return Path(self.settings.audit.checkpoint).expanduser()
        if (self.settings.audit.url or "").startswith(("postgresql://", "postgres://")):
            return self.root / "audit" / "postgres.checkpoints"
        return None  # a SQLite trail, in the workspace or at [audit] url: its checkpoints sit beside it

    def open_audit(self) -> AuditStore:
        """The audit trail, anchored: its checkpoint file and (when set) its HMAC key."""
        key = key_from(self.settings.audit.key.get_secret_value() if self.settings.audit.key else None)
        return AuditStore.open(self.audit_target, checkpoint=self.audit_checkpoint, key=key)

    @property
    def embedding_cache_path(self) -> Path:
        return self.root / "cache" / "embeddings.sqlite"

    @property
    def memos_dir(self) -> Path:
        return self.root / "memos"

    @property
    def eval_cases_dir(self) -> Path:
        return self.root / "eval" / "cases"

    @property
    def eval_runs_dir(self) -> Path:
        return self.root / "eval" / "runs"

    @property
    def eval_cache_path(self) -> Path:
        return self.root / "eval" / "cache.sqlite"

    @property
    def ui_dir(self) -> Path:
        """The workbench's uploads and batch runs."""
        return self.root / "ui"

    @property
    def users_file(self) -> Path:
        """Workbench logins: ``[ui] auth_file`` when set, else a file in the workspace."""
        return self.settings.ui.auth_file or self.ui_dir / "users.txt"

    # ---- what exists ----------------------------------------------------------------------------
    def has_portfolio(self) -> bool:
        return self.portfolio.exists()

    def has_model(self) -> bool:
        return has_current(self.model_dir)

    def has_document_index(self) -> bool:
        return has_current(self.documents_index_dir)

    def require_demo(self) -> None:
        """A clear error unless the demo portfolio and its model exist (the document index is optional:
        until it is built, a case's documents are read when the case is opened)."""
        if not self.has_portfolio() or not self.has_model():
            raise UnderwriterError(f"no demo portfolio and model in {self.root}; run `underwrite demo`")

    def require_case_library(self, name: str) -> Path:
        root = self.case_library_dir(name)
        if not has_current(root):
            build = "underwrite index build" + (
                "" if name == PORTFOLIO_LIBRARY else " --spec SPEC --data FILE"
            )
            raise UnderwriterError(f"no case library {name!r} at {root}; build it with `{build}`")
        return root

    def indexes_current(self) -> bool:
        """True when the demo indexes exist and were built from today's portfolio file and model
        version, with today's similar-case settings."""
        if not self.has_document_index():
            return False
        try:
            info = read_current_manifest(self.case_library_dir())["info"]
            model_id = read_current_manifest(self.model_dir)["model_id"]
            data_sha256 = sha256_file(self.portfolio.merchants)
        except (OSError, ValueError, KeyError):
            return False
        return (
            info["source"].get("model_id") == model_id
            and info["source"].get("data_sha256") == data_sha256
            and info["representation"] == self.settings.index.case_profile
            and info["weights"]["tabular"] == self.settings.index.case_weights().tabular
        )

    def can_serve(self) -> bool:
        """What the workbench needs before it serves a page: portfolio, model and scores (seconds to
        build). The indexes may follow in the background."""
        return self.has_portfolio() and self.has_model() and self.scores_path.is_file()

    def ready(self) -> bool:
        """Everything the workbench serves, the indexes included, is built and current."""
        return self.can_serve() and self.indexes_current()
