"""Evaluation runs: prompt variants x models x cases x repeats, every LLM call cached.

A run writes ``RUN_DIR/results.json`` (stable ordering and rounding, so two runs diff
cleanly) and one memo per cell under ``RUN_DIR/memos/`` for drill-down. The cache
(``workspace/eval/cache.sqlite``) answers any call whose input hash (model id,
parameters, rendered prompt: hence template and document) was seen before, keeping the
original latency and tokens, so a rerun costs no LLM time and reports the same metrics.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from assistant.case.evidence import case_evidence
from assistant.eval import evidence_scorers, narrator_scorers  # noqa: F401  (they register their scorers)
from assistant.eval.case_sets import EvalCase, read_case_set
from assistant.eval.independent_checks import risk_sentences
from assistant.eval.judge import JUDGE_METRICS, agreement, judge_memo
from assistant.eval.scorers import DOCUMENT_TRUTH, SCORERS, llm_sentences, metric_index, score_output
from assistant.memo.calls import CallBook
from assistant.memo.compose import compose_memo
from assistant.memo.config import MemoConfig
from assistant.memo.render import to_markdown
from assistant.memo.schema import Memo, SectionText
from assistant.memo.summaries import summarise_document
from assistant.settings import Settings
from assistant.workspace import Workspace
from models.backends.llm import LLM, LLMCall, load_llm
from models.errors import UnderwriterError
from models.learning.metrics import auc
from prompts.loader import load_prompt

RESULTS = "results.json"


class EvalCache:
    """Input hash -> the call's output, tokens and seconds, in SQLite (WAL)."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS calls (input_sha256 TEXT PRIMARY KEY, model_id TEXT, output TEXT, "
            "completion_tokens INTEGER, seconds REAL)"
        )
        self.hits = self.misses = 0

    def get(self, key: str) -> LLMCall | None:
        row = self.db.execute(
            "SELECT model_id, output, completion_tokens, seconds FROM calls WHERE input_sha256 = ?", (key,)
        ).fetchone()
        if row is None:
            self.misses += 1
            return None
        self.hits += 1
        return LLMCall(row[0], {}, [], key, row[1], None, row[2], row[3], "cached")

    def put(self, key: str, call: LLMCall) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO calls VALUES (?, ?, ?, ?, ?)",
            (key, call.model_id, call.output, call.completion_tokens, call.seconds),
        )

    def close(self) -> None:
        self.db.close()


@dataclass(frozen=True)
class Variant:
    label: str
    pins: tuple[tuple[str, int], ...]


def parse_variants(text: str | None) -> list[Variant]:
    """``document_summary@1,document_summary@2`` -> two variants; ``a@1+b@2`` pins two templates at once."""
    if not text:
        return [Variant("current", ())]
    variants = []
    for item in text.split(","):
        pins = []
        for part in item.strip().split("+"):
            name, _, version = part.partition("@")
            if not version.isdigit():
                raise UnderwriterError(
                    f"prompt variant {part!r}: write NAME@VERSION, e.g. document_summary@2"
                )
            load_prompt(name, int(version))  # a clear error for an unknown template or version
            pins.append((name, int(version)))
        variants.append(Variant(item.strip(), tuple(pins)))
    return variants


def parse_model(spec: str, settings: Settings) -> LLM:
    """``llamacpp`` / ``llamacpp:smollm2`` (embedded), ``llamacpp:/path.gguf``, ``openai:MODEL@URL``,
    ``transformers:/folder``; parameters from the ``[llm]`` settings."""
    backend, _, rest = spec.partition(":")
    params = settings.llm.to_params(settings.threads)
    if backend == "llamacpp":
        return load_llm("llamacpp", model=None if rest in ("", "smollm2") else rest, params=params)
    if backend == "openai":
        model, _, url = rest.partition("@")
        return load_llm("openai", model=model or None, base_url=url or settings.llm.base_url, params=params)
    if backend == "transformers":
        return load_llm("transformers", model=rest, params=params)
    raise UnderwriterError(f"model {spec!r}: use llamacpp[:PATH], openai:MODEL@URL or transformers:FOLDER")


def _round(value: Any) -> Any:
    return round(value, 6) if isinstance(value, float) else value


def outcome_alignment(rows: list[dict[str, Any]]) -> dict[str, float | None]:
    """Does the memo's risk language rank defaulted cases above repaid ones beyond the score?

    Risk weight of a memo: how many of its LLM-written sentences speak of a risk (the
    deterministic sections are left out: they restate the model). Reported: AUC of
    the PD, AUC of the risk weight, and AUC of a rank blend (PD rank + risk-weight rank), whose
    gain over the PD alone is what the memo adds."""
    known = [r for r in rows if r["outcome"] is not None]
    y = np.array([r["outcome"] for r in known])
    if len(known) < 10 or y.min() == y.max():
        return {
            "cases_with_outcome": float(len(known)),
            "auc_pd": None,
            "auc_risk_language": None,
            "auc_blend": None,
        }
    pd_ = np.array([r["pd"] for r in known])
    risk = np.array([r["risk_weight"] for r in known], dtype=float)
    blend = _ranks(pd_) + _ranks(risk)
    out = {
        "cases_with_outcome": float(len(known)),
        "auc_pd": auc(y, pd_),
        "auc_risk_language": auc(y, risk),
        "auc_blend": auc(y, blend),
    }
    out["blend_gain"] = out["auc_blend"] - out["auc_pd"]
    return {k: _round(float(v)) if v is not None else None for k, v in out.items()}


def _ranks(x: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    return np.asarray(rankdata(x), dtype=float)


SUMMARY_CHUNKS = 4
"""Summary task: chunks summarised per long document (the memo reads 2)."""


def solve(case: EvalCase, book: CallBook, config: MemoConfig) -> tuple[Memo | SectionText, str]:
    """The task's output and its text for drill-down: a memo, or one long document's summary."""
    if case.task == "summary":
        assert case.document is not None
        summary = summarise_document(
            case.document,
            DOCUMENT_TRUTH,
            book,
            replace(
                config, max_chunks_per_document=SUMMARY_CHUNKS, max_sentences_per_document=2 * SUMMARY_CHUNKS
            ),
        )
        lines = [
            f"# Summary: {case.document.title}",
            "",
            f"({summary.source})",
            "",
            *summary.sentences,
            "",
            "## Dropped",
            "",
        ]
        lines += [f"- {d['sentence']} ({'; '.join(d['reasons'])})" for d in summary.dropped]
        return summary, "\n".join(lines) + "\n"
    # The evidence is found again from the case's documents by the code under evaluation, so a change to the
    # signal rules or the spread parser shows in the evidence scores (and fails the gate) like a prompt change.
    file = case.memo_case()
    file = file.model_copy(update={"evidence": case_evidence(file.documents, file.request)})
    memo = compose_memo(file, book, config)
    return memo, to_markdown(memo)


def _timing(seconds: float, matrix: _Matrix, hits: int, misses: int) -> dict[str, Any]:
    return {
        "seconds": round(seconds, 2),
        "llm_seconds_spent": round(matrix.llm_seconds, 2),
        "cache_hits": hits,
        "cache_misses": misses,
        "overhead_per_case_s": round((seconds - matrix.llm_seconds) / max(len(matrix.rows), 1), 4),
    }


def _judged(settings: Settings, judge: LLM | None, repeats: int) -> dict[str, Any] | None:
    if judge is None:
        return None
    return {
        "model": judge.model_id,
        "repeats": repeats,
        "agreement_with_human_labels": judge_check(settings, judge, repeats=repeats),
    }


def run_eval(
    settings: Settings,
    cases_path: Path,
    *,
    variants: list[Variant],
    models: list[str],
    repeats: int = 1,
    out: Path | None = None,
    config: MemoConfig | None = None,
    progress: bool = True,
    llms: dict[str, LLM] | None = None,
    judge: LLM | None = None,
    judge_repeats: int = 1,
    task: str | None = None,
) -> Path:
    """Run the matrix; return the run folder. ``llms`` injects ready models by label (tests);
    ``task``: the task the caller expects the case set to hold."""
    if repeats < 1:
        raise UnderwriterError(f"--repeats must be at least 1, got {repeats}")
    header, cases = _case_set(cases_path, task)
    loaded = {**(llms or {})}
    loaded |= {spec: parse_model(spec, settings) for spec in models if spec not in loaded}
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    run_id = f"eval-{stamp}-{hashlib.sha256(str((cases_path, models, variants)).encode()).hexdigest()[:6]}"
    folder = out or Workspace(settings).eval_runs_dir / run_id
    (folder / "memos").mkdir(parents=True, exist_ok=True)
    matrix = _Matrix(folder, cases, config or MemoConfig(), judge, judge_repeats)
    cache = EvalCache(Workspace(settings).eval_cache_path)
    started = time.perf_counter()
    try:
        matrix.run(variants, loaded, repeats, cache, progress)
    finally:
        hits, misses = cache.hits, cache.misses
        cache.close()
    judged = _judged(settings, judge, judge_repeats)
    seconds = time.perf_counter() - started
    results = {
        "run_id": run_id,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "cases": {
            "file": str(cases_path),
            **{k: header[k] for k in ("set", "version", "sha256")},
            "count": len(cases),
        },
        "variants": [v.label for v in variants],
        "models": {label: llm.model_id for label, llm in loaded.items()},
        "repeats": repeats,
        **_definitions(cases[0].task, judge is not None),
        "judge": judged,
        "summary": _summary(matrix.rows),
        "rows": matrix.rows,
        "timing": _timing(seconds, matrix, hits, misses),
    }
    (folder / RESULTS).write_text(json.dumps(results, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return folder


def _case_set(path: Path, task: str | None) -> tuple[dict[str, Any], list[EvalCase]]:
    header, cases = read_case_set(path)
    if not cases:
        raise UnderwriterError(f"{path} holds no case")
    if task is not None and cases[0].task != task:
        raise UnderwriterError(f"{path} holds {cases[0].task} cases, not {task} cases")
    return header, cases


class _Matrix:
    """Every variant x model x repeat x case: solved, scored (and judged), its text written for drill-down."""

    def __init__(
        self, folder: Path, cases: list[EvalCase], base: MemoConfig, judge: LLM | None, judge_repeats: int
    ):
        self.folder = folder
        self.cases = cases
        self.base = base
        self.judge = judge
        self.judge_repeats = judge_repeats
        self.rows: list[dict[str, Any]] = []
        self.llm_seconds = 0.0

    def run(
        self, variants: list[Variant], llms: dict[str, LLM], repeats: int, cache: EvalCache, progress: bool
    ) -> None:
        from tqdm import tqdm

        total = len(variants) * len(llms) * len(self.cases) * repeats
        with tqdm(total=total, unit="memo", desc="eval", disable=not progress) as bar:
            for variant in variants:
                pins = [list(p) for p in variant.pins]
                cfg = MemoConfig.from_dict({**self.base.to_dict(), "prompt_versions": pins})
                for label, llm in llms.items():
                    for repeat in range(repeats):
                        params = replace(
                            llm.params, seed=llm.params.seed + repeat
                        )  # a repeat is a new sample
                        run_llm = LLM(llm.backend, llm.model_id, params, llm.chat)
                        for case in self.cases:
                            book = CallBook(run_llm.model_id, params, llm=run_llm, cache=cache)
                            self._one(case, book, cfg, variant.label, label, repeat)
                            bar.update(1)

    def _one(
        self, case: EvalCase, book: CallBook, cfg: MemoConfig, variant: str, model: str, repeat: int
    ) -> None:
        output, text = solve(case, book, cfg)
        self.llm_seconds += sum(b.call.seconds for b in book.calls if not b.cached)
        scored = score_output(output, case, book.calls)
        if self.judge is not None and isinstance(output, Memo):
            scored.update(judge_memo(self.judge, output, repeats=self.judge_repeats, cache=book.cache))
        name = f"{_safe(case.case_id)}__{_safe(variant)}__{_safe(model)}__r{repeat}.md"
        (self.folder / "memos" / name).write_text(text, encoding="utf-8")
        self.rows.append(
            {
                "case_id": case.case_id,
                "set": case.set,
                "variant": variant,
                "model": model,
                "repeat": repeat,
                "outcome": case.truth.outcome,
                "pd": case.case.score.pd if case.case else None,
                "risk_weight": risk_sentences(llm_sentences(output)) if isinstance(output, Memo) else None,
                "memo": f"memos/{name}",
                "metrics": {k: _round(v) for k, v in scored.items()},
            }
        )


def _definitions(task: str, judged: bool) -> dict[str, Any]:
    """The run's task, its scorers and the definition of every metric it reports."""
    return {
        "task": task,
        "scorers": {s.name: [m.name for m in s.metrics] for s in SCORERS.values() if task in s.tasks},
        "metrics": {
            m.name: {"higher_is_better": m.higher_is_better, "gate": m.gate, "description": m.description}
            for m in [*metric_index(task).values(), *(JUDGE_METRICS if judged else ())]
        },
    }


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per variant and model: metric means and outcome alignment."""
    groups = sorted({(r["variant"], r["model"]) for r in rows})
    return {
        f"{v} · {m}": {
            "means": _means([r for r in rows if (r["variant"], r["model"]) == (v, m)]),
            "outcome_alignment": outcome_alignment([r for r in rows if (r["variant"], r["model"]) == (v, m)]),
        }
        for v, m in groups
    }


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "@-." else "_" for c in text)


def _means(rows: list[dict[str, Any]]) -> dict[str, float | None]:
    names = sorted({k for r in rows for k in r["metrics"]})
    out: dict[str, float | None] = {}
    for name in names:
        values = [r["metrics"][name] for r in rows if r["metrics"].get(name) is not None]
        out[name] = _round(float(np.mean(values))) if values else None
    return out


def load_run(path: Path) -> dict[str, Any]:
    target = path / RESULTS if path.is_dir() else path
    if not target.is_file():
        raise UnderwriterError(f"no evaluation results at {target}")
    return dict(json.loads(target.read_text(encoding="utf-8")))


def judge_check(settings: Settings, judge: str | LLM, *, repeats: int = 1) -> dict[str, Any]:
    """``eval judge-check``: the judge model's agreement with the human-labelled narratives."""
    cache = EvalCache(Workspace(settings).eval_cache_path)
    try:
        model = parse_model(judge, settings) if isinstance(judge, str) else judge
        return agreement(model, repeats=repeats, cache=cache)
    finally:
        cache.close()
