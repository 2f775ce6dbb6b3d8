"""The chat view: the chat core over the case in view, with the tools it ran and the citations it made."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import gradio as gr

from assistant.chat import ChatSession
from assistant.ui.views.common import HIDDEN, readable
from assistant.ui.workbench import Workbench


@dataclass
class ChatTab:
    chat_case: Any
    chatbot: Any
    question: Any
    ask: Any


def layout() -> ChatTab:
    chat_case = gr.Markdown("Open a case in **Case review** first.")
    chatbot = gr.Chatbot(height=620, elem_id="chatbot", label="Conversation about the case in view")
    with gr.Row():
        question = gr.Textbox(
            placeholder="Ask: why this score? / what if the refund rate was 2%? / similar cases / anything in the documents",
            show_label=False,
            scale=5,
            elem_id="question",
        )
        ask = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
    gr.Examples(
        [
            "/score",
            "/similar",
            "what if the refund rate was 2%",
            "what do the bank statements say about disputes?",
        ],
        inputs=question,
    )
    return ChatTab(chat_case=chat_case, chatbot=chatbot, question=question, ask=ask)


TOOL_NAMES = {
    "score": "score and reasons",
    "whatif": "what-if (model re-score)",
    "similar": "similar cases",
    "search": "document search + LLM answer",
}


def _trail(session: ChatSession) -> list[dict[str, Any]]:
    """What the last answer itself cites (the passages line lists what was searched) and what
    validation withheld, as collapsible messages."""
    answer = session.history[-1]
    sources = {c.tag: c.citation for d in session.case.documents for c in d.chunks}
    sources |= {s.tag: s.case_id for s in session.case.similar}
    trail = []
    if answer.citations:
        lines = "\n".join(f"- **{t}** {sources.get(t, '')}" for t in answer.citations)
        trail.append({"role": "assistant", "content": lines, "metadata": {"title": "Citations"}})
    if answer.dropped:
        withheld = "\n".join(f"- {d['sentence']} — {'; '.join(d['reasons'])}" for d in answer.dropped)
        title = f"Withheld by validation: {len(answer.dropped)} sentence(s)"
        trail.append({"role": "assistant", "content": withheld, "metadata": {"title": title}})
    return trail


def wire(bench: Workbench, tab: ChatTab, current: gr.State, sessions: gr.State) -> None:
    def chat(
        case_id: str, text: str, messages: list[dict[str, Any]], open_sessions: dict[str, Any]
    ) -> Iterator[Any]:
        messages = list(messages or [])
        if not text.strip():
            yield messages, "", open_sessions
            return
        messages.append({"role": "user", "content": text})
        if not case_id:
            messages.append({"role": "assistant", "content": "Open a case in **Case review** first."})
            yield messages, "", open_sessions
            return
        try:
            session = open_sessions.get(case_id) or bench.chat_session(case_id)
            open_sessions = {**open_sessions, case_id: session}
            tool = session.route(text)
            ran = {
                "role": "assistant",
                "content": f"Ran **{TOOL_NAMES[tool]}**.",
                "metadata": {"title": f"Tool: {tool}"},
            }
            messages += [ran, {"role": "assistant", "content": ""}]
            yield messages, "", open_sessions
            with bench.models.lock, bench.audit() as audit:
                session.audit = audit
                for piece in session.ask(text):
                    messages[-1] = {"role": "assistant", "content": messages[-1]["content"] + piece}
                    yield messages, "", open_sessions
                session.audit = None
            messages += _trail(session)
            yield messages, "", open_sessions
        except Exception as exc:
            messages.append({"role": "assistant", "content": f"Error: {readable(exc)}"})
            yield messages, "", open_sessions

    inputs, outputs = [current, tab.question, tab.chatbot, sessions], [tab.chatbot, tab.question, sessions]
    tab.ask.click(chat, inputs, outputs, api_name="chat", concurrency_id="llm")
    tab.question.submit(chat, inputs, outputs, concurrency_id="llm", **HIDDEN)
