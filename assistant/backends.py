"""The configured backends, opened from settings: the LLM that writes narrative and the embedder.

The backends themselves live in ``models/backends/`` and know nothing of settings; this is
the one place that turns ``[llm]`` and ``[index]`` into a loaded model.
"""

from __future__ import annotations

from assistant.settings import Settings
from assistant.workspace import Workspace
from models.backends.embedders import Embedder, load_embedder
from models.backends.llm import LLM, load_llm
from retrieval.documents.semantic_screen import SemanticScreen
from retrieval.embedding_cache import EmbeddingCache


def open_llm(settings: Settings, threads: int | None = None) -> LLM:
    s = settings.llm
    return load_llm(
        s.backend, model=s.model, base_url=s.base_url, params=s.to_params(threads or settings.threads)
    )


def open_embedder(settings: Settings) -> EmbeddingCache:
    """The configured embedder behind the workspace's embedding cache."""
    workspace = Workspace(settings)
    embedder = load_embedder(
        settings.index.embedder,
        threads=settings.threads or None,
        precision=settings.index.embedder_precision,
        cache_dir=workspace.root / "cache" / "models",
    )
    return EmbeddingCache(embedder, workspace.embedding_cache_path)


def semantic_screen(settings: Settings) -> SemanticScreen | None:
    """The embedding-based screening signal, or None when ``[index] semantic_screening`` is off. The
    embedder loads on the first sentence worth embedding (a clean document never loads it), and is
    used bare: screening's few sentences stay out of the embedding cache, which a build may hold."""
    if not settings.index.semantic_screening:
        return None

    def load() -> Embedder:
        return load_embedder(
            settings.index.embedder,
            threads=settings.threads or None,
            precision=settings.index.embedder_precision,
            cache_dir=Workspace(settings).root / "cache" / "models",
        )

    return SemanticScreen(load)
