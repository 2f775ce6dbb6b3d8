"""One memo recorded: generate it and record it in one transaction, find it again, rebuild it.

Order of a memo's life: case file (deterministic) -> LLM calls through a :class:`CallBook`
-> validated memo -> one audit transaction (the score, the new calls and the memo with
its inputs) -> files written whole or not at all. ``replay`` rebuilds the memo from the
stored inputs and calls and compares bytes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from assistant.audit import AuditStore
from assistant.backends import open_llm
from assistant.case.schema import CaseFile
from assistant.case.source import CaseSource
from assistant.memo.calls import CallBook, outputs_of
from assistant.memo.compose import compose_memo, memo_steps
from assistant.memo.config import MemoConfig, memo_config
from assistant.memo.render import to_html, to_json, to_markdown
from assistant.memo.schema import DocumentFinding, Memo, SectionText
from assistant.settings import Settings
from assistant.workspace import Workspace
from models.backends.llm import LLM
from models.errors import UnderwriterError


@dataclass
class RenderedMemo:
    memo: Memo | None
    """None when rebuilt from stored text (a batch resuming after a kill)."""
    markdown: str
    json_text: str
    html: str

    @classmethod
    def of(cls, memo: Memo) -> RenderedMemo:
        return cls(memo, to_markdown(memo), to_json(memo), to_html(memo))

    def text(self, fmt: str) -> str:
        return {"md": self.markdown, "json": self.json_text, "html": self.html}[fmt]

    def sha256(self) -> str:
        return hashlib.sha256((self.markdown + self.json_text + self.html).encode()).hexdigest()


@dataclass
class MemoResult:
    memo_id: str
    rendered: RenderedMemo
    case: CaseFile
    calls: int
    cached_calls: int
    tokens: int
    llm_seconds: float


def memo_id_for(case: CaseFile, run_id: str) -> str:
    digest = hashlib.sha256(f"{case.model_dump_json()}|{run_id}".encode()).hexdigest()[:12]
    return f"memo-{case.case_id}-{digest}"


MemoStep = DocumentFinding | SectionText | MemoResult
"""What :func:`write_memo` yields: each document's finding and each section as it is written, and last
the recorded memo."""


def write_memo(
    audit: AuditStore, case: CaseFile, llm: LLM, config: MemoConfig, *, run_id: str = ""
) -> Iterator[MemoStep]:
    """Compose one memo through a live :class:`CallBook` and record it (the audit rows land in one
    transaction), yielding each part the moment its LLM calls are done; the last item is the
    :class:`MemoResult`. The one place a memo is written: the CLI, batch, the service's memo jobs,
    the workbench's streamed memo and the alert queue's refresh all come here."""
    book = CallBook.live(llm, audit)
    for step in memo_steps(case, book, config):
        if isinstance(step, Memo):
            yield record_memo(audit, case, book, step, config, run_id=run_id)
        else:
            yield step


def written(steps: Iterator[MemoStep]) -> MemoResult:
    """The recorded memo at the end of :func:`write_memo`'s steps (consumes them)."""
    *_, result = steps
    assert isinstance(result, MemoResult)
    return result


def generate_memo(
    source: CaseSource,
    case_id: str,
    llm: LLM,
    audit: AuditStore,
    config: MemoConfig,
    *,
    run_id: str = "",
    generated_at: str | None = None,
) -> MemoResult:
    """Build, validate and record one memo of a case of ``source``.

    ``generated_at`` fixed for a run makes the memo id a function of the case and the run, so a
    retried task writes the same memo under the same id."""
    case = source.case_file(case_id, generated_at=generated_at)
    return written(write_memo(audit, case, llm, config, run_id=run_id))


def memo_for_case(
    settings: Settings, case_id: str, *, source_args: dict[str, Any] | None = None
) -> MemoResult:
    """``underwrite memo ID``: one memo with the configured LLM, recorded in the workspace's audit trail."""
    source = CaseSource(settings, **(source_args or {}))
    with Workspace(settings).open_audit() as audit:
        return generate_memo(source, case_id, open_llm(settings), audit, memo_config(settings))


def record_memo(
    audit: AuditStore, case: CaseFile, book: CallBook, memo: Memo, config: MemoConfig, *, run_id: str = ""
) -> MemoResult:
    """Record a composed memo with its score, its new LLM calls and its inputs, in one transaction."""
    rendered = RenderedMemo.of(memo)
    memo_id = memo_id_for(case, run_id)
    score = case.score
    audit.append_many(
        [
            (
                "scores",
                {
                    "merchant_id": case.case_id,
                    "model_id": case.model["model_id"],
                    "pd": score.pd,
                    "grade": score.grade,
                    "band": score.band,
                    "payload": score.model_dump(),
                },
            ),
            *book.new_rows(),
            (
                "memos",
                {
                    "memo_id": memo_id,
                    "merchant_id": case.case_id,
                    "run_id": run_id,
                    "inputs": {
                        "case": case.model_dump(mode="json"),
                        "config": config.to_dict(),
                        "llm": {"model_id": book.model_id, "params": book.params.to_dict()},
                    },
                    "call_ids": book.call_ids(),
                    "markdown": rendered.markdown,
                    "json_text": rendered.json_text,
                    "html": rendered.html,
                    "output_sha256": rendered.sha256(),
                },
            ),
        ]
    )
    cached = sum(1 for b in book.calls if b.cached)
    return MemoResult(memo_id, rendered, case, len(book.calls), cached, book.tokens(), book.seconds())


@dataclass
class ReplayResult:
    memo_id: str
    identical: bool
    stored_sha256: str
    rebuilt_sha256: str
    rendered: RenderedMemo
    differences: list[str]


def stored_memo(audit: AuditStore, memo_id: str) -> dict[str, Any]:
    rows = audit.rows("memos", {"memo_id": memo_id})
    if not rows:
        raise UnderwriterError(f"no memo {memo_id!r} in the audit trail")
    return rows[-1]


def recorded_for_run(audit: AuditStore, case_id: str, run_id: str) -> tuple[str, RenderedMemo] | None:
    """The memo id and text this run already recorded for the case (a run killed before it wrote
    the files), or None."""
    rows = audit.rows("memos", {"merchant_id": case_id, "run_id": run_id}, limit=1)
    if not rows:
        return None
    row = rows[0]
    return str(row["memo_id"]), RenderedMemo(None, row["markdown"], row["json_text"], row["html"])


def replay_memo(audit: AuditStore, memo_id: str) -> ReplayResult:
    """Rebuild a memo from its stored inputs and LLM calls; compare with what was stored, byte for byte."""
    row = stored_memo(audit, memo_id)
    inputs = json.loads(row["inputs"])
    call_ids = json.loads(row["call_ids"])
    calls = [c for cid in dict.fromkeys(call_ids) for c in audit.rows("llm_calls", {"call_id": cid})]
    book = CallBook.replaying(inputs["llm"]["model_id"], inputs["llm"]["params"], outputs_of(calls))
    case = CaseFile.model_validate(inputs["case"])
    config = MemoConfig.from_dict(inputs["config"])
    # Pin the template versions the memo was written with: a later release may ship a newer
    # current version, and replay must use the one whose calls were recorded.
    used = {str(p["name"]): int(p["version"]) for p in json.loads(row["json_text"]).get("prompts", [])}
    config = dataclasses.replace(
        config, prompt_versions=tuple(sorted((used | dict(config.prompt_versions)).items()))
    )
    memo = compose_memo(case, book, config)
    rendered = RenderedMemo.of(memo)
    differences = [
        name
        for name, stored, rebuilt in (
            ("markdown", row["markdown"], rendered.markdown),
            ("json", row["json_text"], rendered.json_text),
            ("html", row["html"], rendered.html),
        )
        if stored != rebuilt
    ]
    return ReplayResult(
        memo_id, not differences, row["output_sha256"], rendered.sha256(), rendered, differences
    )
