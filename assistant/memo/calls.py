"""The LLM calls behind one memo or chat answer: made, cached, recorded, or replayed.

:class:`CallBook` is the only way the assistant talks to an LLM. Each call renders a
versioned prompt, goes through :func:`models.backends.llm.complete` (timeout, clear errors), and is
kept as an audit row (template hash, model id, parameters, input hash, raw output, tokens,
latency). Document summaries are cached in the audit store itself: a call whose input hash
(model id + parameters + rendered prompt, so document hash and prompt hash) was already
answered reuses that answer. In replay mode the book answers from stored calls only, which
is how ``audit replay`` rebuilds a memo byte for byte.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from assistant.audit import AuditStore
from models.backends.llm import LLM, LLMCall, LLMError, LLMParams, complete, input_sha256, stream
from prompts.loader import RenderedPrompt

CACHED_PURPOSES = frozenset({"summary"})


class CallCache(Protocol):
    def get(self, key: str) -> LLMCall | None: ...

    def put(self, key: str, call: LLMCall) -> None: ...


@dataclass
class BookedCall:
    call_id: str
    purpose: str
    prompt: RenderedPrompt
    call: LLMCall
    cached: bool

    def audit_row(self) -> dict[str, Any]:
        c = self.call
        return {
            "call_id": self.call_id,
            "purpose": self.purpose,
            "template": f"{self.prompt.name}@{self.prompt.version}",
            "template_sha256": self.prompt.template_sha256,
            "prompt_sha256": self.prompt.sha256,
            "model_id": c.model_id,
            "params": c.params,
            "input_sha256": c.input_sha256,
            "messages": [list(m) for m in c.messages],
            "output": c.output,
            "prompt_tokens": c.prompt_tokens,
            "completion_tokens": c.completion_tokens,
            "seconds": c.seconds,
            "finish_reason": c.finish_reason,
        }


@dataclass
class CallBook:
    """Calls for one unit of work. ``llm`` makes real calls; ``replay`` (input hash -> output) answers
    from the record; ``audit`` (optional) serves cached summaries."""

    model_id: str
    params: LLMParams
    llm: LLM | None = None
    audit: AuditStore | None = None
    replay: Mapping[str, str] | None = None
    cache: CallCache | None = None
    """Every call answered from here when seen before (the evaluation harness's cache)."""
    calls: list[BookedCall] = field(default_factory=list)

    @classmethod
    def live(cls, llm: LLM, audit: AuditStore | None = None) -> CallBook:
        return cls(llm.model_id, llm.params, llm=llm, audit=audit)

    @classmethod
    def replaying(cls, model_id: str, params: dict[str, Any], outputs: Mapping[str, str]) -> CallBook:
        return cls(model_id, LLMParams(**params), replay=outputs)

    def max_tokens(self, prompt: RenderedPrompt) -> int:
        return min(prompt.max_tokens, self.params.max_tokens)

    def ask(self, purpose: str, prompt: RenderedPrompt) -> str:
        limit = self.max_tokens(prompt)
        key = input_sha256(prompt.messages, self.model_id, self.params, limit)
        if self.replay is not None:
            if key not in self.replay:
                raise LLMError(
                    f"replay: no recorded call for this {purpose} prompt ({prompt.name}); the record is incomplete"
                )
            call = _recorded(self, prompt, key, limit, self.replay[key])
            self.calls.append(BookedCall(f"replay-{len(self.calls)}", purpose, prompt, call, True))
            return call.output
        if self.cache is not None:
            seen = self.cache.get(key)
            if seen is not None:
                call = _recorded(self, prompt, key, limit, seen.output)
                call.completion_tokens, call.seconds = seen.completion_tokens, seen.seconds
                self.calls.append(BookedCall(f"cache-{key[:16]}", purpose, prompt, call, True))
                return call.output
        if purpose in CACHED_PURPOSES and self.audit is not None:
            rows = self.audit.rows("llm_calls", {"input_sha256": key}, limit=8)
            hit = [r for r in rows if r.get("finish_reason") != "timeout"][
                :1
            ]  # a cut-off answer is not reused
            if hit:
                call = _recorded(self, prompt, key, limit, str(hit[0]["output"]))
                self.calls.append(BookedCall(str(hit[0]["call_id"]), purpose, prompt, call, True))
                return call.output
        if self.llm is None:
            raise LLMError("no LLM configured for this call book")
        call = complete(self.llm, prompt.messages, max_tokens=limit)
        self.calls.append(BookedCall(f"L-{uuid.uuid4().hex[:20]}", purpose, prompt, call, False))
        if self.cache is not None and not call.timed_out:  # a partial answer is recorded, never cached
            self.cache.put(key, call)
        return call.output

    def stream(self, purpose: str, prompt: RenderedPrompt) -> Iterator[str]:
        """Yield the answer as it is generated; the call is booked when the stream ends."""
        if self.llm is None:
            raise LLMError("no LLM configured for this call book")
        limit = self.max_tokens(prompt)
        started = time.perf_counter()
        parts: list[str] = []
        for piece in stream(self.llm, prompt.messages, max_tokens=limit):
            parts.append(piece)
            yield piece
        call = LLMCall(
            model_id=self.model_id,
            params={**self.params.to_dict(), "max_tokens": limit},
            messages=list(prompt.messages),
            input_sha256=input_sha256(prompt.messages, self.model_id, self.params, limit),
            output="".join(parts),
            prompt_tokens=None,
            completion_tokens=len(parts),
            seconds=round(time.perf_counter() - started, 4),
            finish_reason="stop",
        )
        self.calls.append(BookedCall(f"L-{uuid.uuid4().hex[:20]}", purpose, prompt, call, False))

    def new_rows(self) -> list[tuple[str, dict[str, Any]]]:
        """Audit rows for the calls actually made (cached and replayed ones are already stored)."""
        return [("llm_calls", b.audit_row()) for b in self.calls if not b.cached]

    def call_ids(self) -> list[str]:
        return [b.call_id for b in self.calls]

    def tokens(self) -> int:
        return sum(b.call.completion_tokens or 0 for b in self.calls if not b.cached)

    def seconds(self) -> float:
        return sum(b.call.seconds for b in self.calls if not b.cached)


def _recorded(book: CallBook, prompt: RenderedPrompt, key: str, limit: int, output: str) -> LLMCall:
    return LLMCall(
        model_id=book.model_id,
        params={**book.params.to_dict(), "max_tokens": limit},
        messages=list(prompt.messages),
        input_sha256=key,
        output=output,
        prompt_tokens=None,
        completion_tokens=None,
        seconds=0.0,
        finish_reason="recorded",
    )


def outputs_of(rows: list[dict[str, Any]]) -> dict[str, str]:
    """Input hash -> output, from stored ``llm_calls`` rows."""
    return {str(r["input_sha256"]): str(r["output"]) for r in rows}
