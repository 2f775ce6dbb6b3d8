"""Faster forms of the embedded MiniLM, made offline from the installed model on first use.

- :class:`OnnxEmbedder`: the same transformer exported to ONNX and run by ONNX Runtime, in
  float32 or with int8 weights (dynamic quantisation, AVX2/VNNI kernels).
- :class:`StaticEmbedder`: a static embedding model distilled from MiniLM the way ``model2vec`` does
  (one vector per word piece, averaged): no transformer at run time, thousands of texts a second.

Both keep MiniLM's tokenizer for ``count_tokens`` and its 256-piece window for ``max_tokens``, so
documents are chunked exactly as with MiniLM; only the vectors differ. The form is part of
``model_id`` (``all-MiniLM-L6-v2@<weights>/onnx-int8``), so caches and stores never mix vectors of
two forms. ``docs/benchmarks.md`` has their speed and retrieval quality beside MiniLM's.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from models.backends.tokenizer import Tokenizer
from models.errors import UnderwriterError

FORMS = ("onnx-float32", "onnx-int8", "static")
MAX_TOKENS = 256
STATIC_DIMS = 256


def _unit(vectors: np.ndarray) -> np.ndarray:
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def _tokenizer(source: Path) -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(source), local_files_only=True)


def export_onnx(source: Path, out: Path, *, int8: bool) -> Path:
    """Export the sentence-transformers model at ``source`` to ONNX (last hidden state), quantised to
    int8 weights when asked; written to a temporary name and renamed, so a crash leaves no half file."""
    import torch
    from sentence_transformers import SentenceTransformer

    out.parent.mkdir(parents=True, exist_ok=True)
    model: Any = SentenceTransformer(str(source), device="cpu", local_files_only=True)[0].auto_model
    model.eval()

    class LastHidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, ids: Any, mask: Any, types: Any) -> Any:
            return self.model(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state

    sample = _tokenizer(source)(["a sample", "another sample text"], padding=True, return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    float_path = out.with_suffix(".float32.tmp.onnx")
    import warnings

    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            LastHidden(),
            tuple(sample[n] for n in names),
            str(float_path),
            input_names=names,
            output_names=["hidden"],
            dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "hidden"]},
            opset_version=17,
            dynamo=False,
        )
    if int8:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantised = out.with_suffix(".int8.tmp.onnx")
        quantize_dynamic(str(float_path), str(quantised), weight_type=QuantType.QInt8)
        float_path.unlink()
        float_path = quantised
    os.replace(float_path, out)
    return out


class OnnxEmbedder:
    """MiniLM in ONNX Runtime: tokenise, run, mean-pool over the attention mask, normalise."""

    def __init__(
        self, source: Path, cache_dir: Path, *, base_id: str, int8: bool, threads: int | None = None
    ):
        try:
            import onnxruntime as ort
        except ImportError:
            raise UnderwriterError("onnxruntime is not installed: pip install 'underwriter[fast]'") from None
        form = "onnx-int8" if int8 else "onnx-float32"
        path = cache_dir / f"{base_id.replace('/', '_').replace('@', '-')}.{form}.onnx"
        if not path.is_file():
            export_onnx(source, path, int8=int8)
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._tokenizer = _tokenizer(source)
        self._counter = Tokenizer(source)
        self.model_id = f"{base_id}/{form}"
        self.dim = int(self._session.get_outputs()[0].shape[-1] or 384)
        self.max_tokens = MAX_TOKENS

    def embed(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        order = np.argsort([-len(t) for t in texts], kind="stable")  # like lengths together: less padding
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            chosen = order[start : start + batch_size]
            enc = self._tokenizer(
                [texts[i] for i in chosen],
                padding=True,
                truncation=True,
                max_length=self.max_tokens,
                return_tensors="np",
            )
            feeds = {n: enc[n].astype(np.int64) for n in ("input_ids", "attention_mask", "token_type_ids")}
            hidden = self._session.run(None, feeds)[0]
            mask = feeds["attention_mask"][..., None].astype(np.float32)
            out[chosen] = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
        return _unit(out)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self._counter.count_tokens(texts)


class StaticEmbedder:
    """A static model distilled from MiniLM: one vector per word piece; a text is the mean of its
    pieces' vectors. Made once by :func:`distil_static` (seconds), then loaded from one ``.npy`` file."""

    def __init__(self, source: Path, cache_dir: Path, *, base_id: str, dims: int = STATIC_DIMS):
        path = cache_dir / f"{base_id.replace('/', '_').replace('@', '-')}.static{dims}.npy"
        if not path.is_file():
            distil_static(source, path, dims=dims)
        self._table = np.load(path)
        self._tokenizer = Tokenizer(source)
        self.model_id = f"{base_id}/static{dims}"
        self.dim = int(self._table.shape[1])
        self.max_tokens = MAX_TOKENS

    def embed(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, encoding in enumerate(self._tokenizer.encode(texts)):
            if encoding.ids:
                out[i] = self._table[encoding.ids].mean(axis=0)
        return _unit(out)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self._tokenizer.count_tokens(texts)


def distil_static(
    source: Path, out: Path, *, dims: int = STATIC_DIMS, sif: float = 1e-4, batch: int = 1024
) -> Path:
    """The model2vec recipe on the local MiniLM: every word piece through the transformer on its own
    (``[CLS] piece [SEP]``, mean-pooled), PCA to ``dims``, then each row scaled by a smooth inverse
    frequency weight ``sif / (sif + p)`` with ``p`` Zipf's law over the vocabulary's order (frequent
    pieces count less). Written here rather than with ``model2vec[distill]``, whose pin of
    ``transformers<5.4`` breaks the project's transformers backend."""
    import torch
    from sentence_transformers import SentenceTransformer

    model: Any = SentenceTransformer(str(source), device="cpu", local_files_only=True)[0].auto_model
    model.eval()
    vocab = Tokenizer(source).vocabulary()
    ids = np.array(sorted(vocab.values()), dtype=np.int64)
    cls, sep = vocab["[CLS]"], vocab["[SEP]"]
    rows = []
    with torch.no_grad():
        for start in range(0, len(ids), batch):
            chunk = torch.from_numpy(ids[start : start + batch])[:, None]
            inputs = torch.cat([torch.full_like(chunk, cls), chunk, torch.full_like(chunk, sep)], dim=1)
            hidden = model(input_ids=inputs, attention_mask=torch.ones_like(inputs)).last_hidden_state
            rows.append(hidden.mean(dim=1).numpy())
    table = np.concatenate(rows).astype(np.float64)
    table -= table.mean(axis=0)
    _, _, components = np.linalg.svd(table, full_matrices=False)
    table = table @ components[:dims].T
    zipf = 1.0 / np.arange(1, len(ids) + 1)
    table *= (sif / (sif + zipf / zipf.sum()))[:, None]
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial.npy")
    np.save(partial, table.astype(np.float32))
    os.replace(partial, out)
    return out
