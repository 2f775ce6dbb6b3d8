"""A LangChain chat model over an in-process ``llama_cpp.Llama`` (the embedded backend)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, PrivateAttr

from models.backends.llm_params import LLMParams, chat_dicts


class LlamaCppChat(BaseChatModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    model_path: str
    params: LLMParams
    lora_path: str | None = None
    """A LoRA adapter (GGUF) applied to the model: a distilled narrator."""
    _llama: Any = PrivateAttr(default=None)

    @property
    def _llm_type(self) -> str:
        return "underwriter-llamacpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_path": self.model_path, "lora_path": self.lora_path, **self.params.to_dict()}

    def _client(self) -> Any:
        if self._llama is None:
            from llama_cpp import Llama

            self._llama = Llama(
                model_path=self.model_path,
                lora_path=self.lora_path,
                n_ctx=self.params.context_size,
                n_threads=self.params.threads,
                n_threads_batch=self.params.threads,  # its default is every core: two workers would oversubscribe
                seed=self.params.seed,
                verbose=False,
            )
        return self._llama

    def _request(
        self, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]
    ) -> dict[str, Any]:
        return {
            "messages": chat_dicts(messages),
            "temperature": self.params.temperature,
            "seed": self.params.seed,
            "repeat_penalty": self.params.repeat_penalty,
            "max_tokens": kwargs.get("max_tokens", self.params.max_tokens),
            "stop": stop,
            **({"response_format": kwargs["response_format"]} if "response_format" in kwargs else {}),
        }

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        reply = self._client().create_chat_completion(**self._request(messages, stop, kwargs))
        choice = reply["choices"][0]
        usage = reply.get("usage") or {}
        message = AIMessage(
            content=choice["message"].get("content") or "",
            response_metadata={"finish_reason": choice.get("finish_reason"), "usage": usage},
        )
        return ChatResult(generations=[ChatGeneration(message=message)], llm_output={"usage": usage})

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        for part in self._client().create_chat_completion(
            stream=True, **self._request(messages, stop, kwargs)
        ):
            delta = part["choices"][0].get("delta", {}).get("content") or ""
            finish = part["choices"][0].get("finish_reason")
            chunk = ChatGenerationChunk(
                message=AIMessageChunk(
                    content=delta, response_metadata={"finish_reason": finish} if finish else {}
                )
            )
            if run_manager and delta:
                run_manager.on_llm_new_token(delta, chunk=chunk)
            yield chunk
