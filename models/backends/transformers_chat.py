"""A LangChain chat model over a local Hugging Face model folder (for hosts with a GPU).

Loads with ``local_files_only`` and ``trust_remote_code=False``; nothing is downloaded.
Streams through ``TextIteratorStreamer`` with generation on a worker thread.
"""

from __future__ import annotations

from collections.abc import Iterator
from threading import Thread
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, PrivateAttr

from models.backends.llm_params import LLMParams, chat_dicts


class TransformersChat(BaseChatModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    model_dir: str
    params: LLMParams
    _model: Any = PrivateAttr(default=None)
    _tokenizer: Any = PrivateAttr(default=None)

    @property
    def _llm_type(self) -> str:
        return "underwriter-transformers"

    def _load(self) -> tuple[Any, Any]:
        if self._model is None:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer

            torch.set_num_threads(self.params.threads)
            self._tokenizer = AutoTokenizer.from_pretrained(
                self.model_dir, local_files_only=True, trust_remote_code=False
            )
            self._model = AutoModelForCausalLM.from_pretrained(
                self.model_dir, local_files_only=True, trust_remote_code=False
            )
            self._model.eval()
        return self._model, self._tokenizer

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        import torch
        from transformers import TextIteratorStreamer

        model, tokenizer = self._load()
        chat = chat_dicts(messages)
        encoded = tokenizer.apply_chat_template(
            chat, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        inputs = {k: encoded[k] for k in ("input_ids", "attention_mask") if k in encoded}
        streamer = TextIteratorStreamer(
            tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=self.params.timeout_s
        )
        torch.manual_seed(self.params.seed)
        sampling = self.params.temperature > 0
        generation = {
            **inputs,
            "max_new_tokens": kwargs.get("max_tokens", self.params.max_tokens),
            "do_sample": sampling,
            "streamer": streamer,
            **({"temperature": self.params.temperature} if sampling else {}),
        }
        failure: list[BaseException] = []

        def generate() -> None:
            try:
                model.generate(**generation)
            except BaseException as exc:  # surfaced below; a silent thread would leave the streamer waiting
                failure.append(exc)
                streamer.end()

        worker = Thread(target=generate, daemon=True)
        worker.start()
        for text in streamer:  # raises queue.Empty if no token arrives within the timeout
            if text:
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=text))
                if run_manager:
                    run_manager.on_llm_new_token(text, chunk=chunk)
                yield chunk
        worker.join()
        if failure:
            raise failure[0]

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        text = "".join(str(c.message.content) for c in self._stream(messages, stop, run_manager, **kwargs))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])
