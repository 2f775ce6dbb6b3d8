"""The memo jobs: generate one memo and record it, rebuild a recorded memo, write memo files.

Order of a memo's life: case file (deterministic) -> LLM calls through a :class:`CallBook`
-> validated memo -> one audit transaction (the score, the new calls and the memo with
its inputs) -> files written whole or not at all. ``replay`` rebuilds the memo from the
stored inputs and calls and compares bytes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.audit import AuditStore
from assistant.calls import CallBook, outputs_of
from assistant.casefile import CaseFile, CaseSource
from assistant.memo import Memo, MemoConfig, compose_memo
from assistant.memo_render import to_html, to_json, to_markdown
from assistant.settings import Settings
from models.backends.llm import LLM, load_llm
from models.errors import UnderwriterError

FORMATS = ("md", "json", "html")


def open_llm(settings: Settings, threads: int | None = None) -> LLM:
    s = settings.llm
    return load_llm(
        s.backend, model=s.model, base_url=s.base_url, params=s.to_params(threads or settings.threads)
    )


def memo_config(settings: Settings) -> MemoConfig:
    m = settings.memo
    return MemoConfig(
        max_chunks_per_document=m.max_chunks_per_document,
        max_sentences_per_document=m.max_sentences_per_document,
        min_sentences=m.min_sentences,
        extractive_sentences=m.extractive_sentences,
    )


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
    """Build, validate and record one memo (the audit rows land in one transaction).

    ``generated_at`` fixed for a run makes the memo id a function of the case and the run, so a
    retried task writes the same memo under the same id."""
    case = source.case_file(case_id, generated_at=generated_at)
    book = CallBook.live(llm, audit)
    memo = compose_memo(case, book, config)
    return record_memo(audit, case, book, memo, config, run_id=run_id)


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


def write_atomically(path: Path, text: str) -> None:
    """Write, fsync, rename, fsync the folder: the file appears whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.partial")
    with open(staging, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(staging, path)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def write_memo_files(
    out: Path, case_id: str, rendered: RenderedMemo, formats: tuple[str, ...] = FORMATS
) -> list[Path]:
    """JSON last: its presence marks a complete set."""
    paths = []
    for fmt in sorted(formats, key=lambda f: f == "json"):
        path = out / f"{case_id}.{fmt}"
        write_atomically(path, rendered.text(fmt))
        paths.append(path)
    return paths
