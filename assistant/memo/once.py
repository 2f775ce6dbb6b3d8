"""One memo per case per run, whoever runs it: the local batch's worker processes and Spark's tasks.

A case whose memo this run already recorded (a worker killed after recording, before the
files were written) gets that memo back from the audit trail with no LLM call; otherwise the
memo is generated and recorded. With ``generated_at`` fixed for the run, the memo id depends
only on the case and the run, so a retried or speculative attempt records the same memo.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from assistant.audit import AuditStore
from assistant.case.source import CaseSource
from assistant.memo.config import MemoConfig
from assistant.memo.record import RenderedMemo, generate_memo, recorded_for_run
from models.backends.llm import LLM


@dataclass
class MemoOnce:
    case_id: str
    memo_id: str
    rendered: RenderedMemo
    """Text only (``rendered.memo`` is None): what the files are written from."""
    tokens: int
    seconds: float
    recovered: bool
    """True when the memo came from the audit trail (recorded by an earlier attempt of the run)."""


def memo_once(
    source: CaseSource,
    case_id: str,
    llm: LLM,
    audit: AuditStore,
    config: MemoConfig,
    *,
    run_id: str,
    generated_at: str | None = None,
) -> MemoOnce:
    started = time.perf_counter()
    found = recorded_for_run(audit, case_id, run_id)
    if found is not None:
        memo_id, rendered = found
        return MemoOnce(case_id, memo_id, rendered, 0, 0.0, True)
    result = generate_memo(source, case_id, llm, audit, config, run_id=run_id, generated_at=generated_at)
    r = result.rendered
    text_only = RenderedMemo(None, r.markdown, r.json_text, r.html)
    return MemoOnce(case_id, result.memo_id, text_only, result.tokens, time.perf_counter() - started, False)
