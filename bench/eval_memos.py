"""Memos for 20 merchants on the demo portfolio and 20 Lending Club small-business loans, with the
count of LLM sentences kept and dropped by validation and of sections that fell back to
extractive text, per kind of section.

Run: ``.venv/bin/python bench/eval_memos.py`` (about 8 minutes on 2 cores with the embedded model).
Trains the Lending Club model and builds its case library in the workspace on first use.
Writes ``bench/results/memo_eval.json`` and one example memo per dataset to ``docs/examples/``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from assistant.audit import AuditStore  # noqa: E402
from assistant.backends import open_llm  # noqa: E402
from assistant.case.source import CaseSource  # noqa: E402
from assistant.jobs.demo import run_demo  # noqa: E402
from assistant.jobs.index_build import build_indexes  # noqa: E402
from assistant.jobs.modeling import train_model  # noqa: E402
from assistant.memo.config import memo_config  # noqa: E402
from assistant.memo.record import generate_memo  # noqa: E402
from assistant.settings import Settings, load_settings  # noqa: E402
from assistant.workspace import Workspace  # noqa: E402
from bench.machine import describe  # noqa: E402
from models.data.spec import load_spec  # noqa: E402
from models.store.versioned import has_current  # noqa: E402

LENDING_CLUB = REPO / "data" / "lc_small_business_2007_2010.csv"


def section_kind(name: str, doc_types: dict[str, str]) -> str:
    if name == "comparison":
        return "similar-case comparison"
    return f"findings: {doc_types.get(name.removeprefix('finding '), 'document')}"


def evaluate(settings: Settings, source: CaseSource, ids: list[str], example: Path) -> dict:
    llm = open_llm(settings)
    config = memo_config(settings)
    totals: dict[str, Counter] = defaultdict(Counter)
    reasons: Counter = Counter()
    seconds = []
    with tempfile.TemporaryDirectory() as tmp, AuditStore.open(Path(tmp) / "audit.sqlite") as audit:
        for i, case_id in enumerate(ids):
            started = time.perf_counter()
            result = generate_memo(source, case_id, llm, audit, config)
            seconds.append(time.perf_counter() - started)
            memo = result.rendered.memo
            assert memo is not None
            doc_types = {f.doc_id: f.doc_type for f in memo.findings}
            sources = {f"finding {f.doc_id}": f.summary.source for f in memo.findings}
            for name, stats in memo.validation.items():
                kind = section_kind(name, doc_types)
                totals[kind]["quoted tables, no LLM"] += sources.get(name) == "quoted"
                totals[kind]["sections"] += 1
                llm_written = sources.get(name, "llm") == "llm" and not stats["fallback"]
                totals[kind]["llm sentences kept"] += stats["kept"] if llm_written else 0
                totals[kind]["dropped"] += stats["dropped"]
                totals[kind]["fallbacks"] += stats["fallback"]
            for section in [*(f.summary for f in memo.findings), memo.comparison]:
                for dropped in section.dropped:
                    reasons[dropped["reasons"][0].split("'")[0].split("(")[0].strip()] += 1
            if i == 0:
                example.parent.mkdir(parents=True, exist_ok=True)
                example.write_text(result.rendered.markdown)
    return {
        "memos": len(ids),
        "seconds_mean": round(sum(seconds) / len(seconds), 2),
        "by_section": {k: dict(v) for k, v in sorted(totals.items())},
        "first_drop_reason": dict(reasons.most_common()),
        "example": str(example.relative_to(REPO)),
    }


def lending_club_source(settings: Settings) -> tuple[CaseSource, list[str]]:
    model_dir = settings.workspace / "models" / "lending_club"
    if not has_current(model_dir):
        train_model(settings, spec="lending_club", data=LENDING_CLUB, out=model_dir, progress=False)
    spec = load_spec("lending_club")
    if not has_current(Workspace(settings).case_library_dir(spec.name)):
        build_indexes(settings, spec="lending_club", data=LENDING_CLUB, model=model_dir, progress=False)
    source = CaseSource(
        settings, spec="lending_club", data=str(LENDING_CLUB), model=str(model_dir), library=spec.name
    )
    frame = pd.read_csv(LENDING_CLUB, dtype=str)
    assert spec.id and spec.date
    latest = frame[frame[spec.date.column] >= "2010-06-01"]
    with_text = latest[latest["desc_clean"].fillna("").str.len() > 80]
    return source, with_text[spec.id].astype(str).tolist()


def main() -> None:
    print(describe(), flush=True)
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "memo_eval.json")
    args = parser.parse_args()
    settings = load_settings(None, threads=2)
    if not Workspace(settings).has_model() or not Workspace(settings).indexes_current():
        run_demo(settings, progress=False)
        build_indexes(settings, progress=False)
    results = {"llm": open_llm(settings).model_id}
    portfolio = CaseSource(settings)
    results["demo portfolio (applicants)"] = evaluate(
        settings,
        portfolio,
        portfolio.ids("applicant")[: args.count],
        REPO / "docs" / "examples" / "memo_portfolio.md",
    )
    print(json.dumps(results["demo portfolio (applicants)"], indent=2), flush=True)
    lc, ids = lending_club_source(settings)
    results["Lending Club small business (2010 loans)"] = evaluate(
        settings, lc, ids[: args.count], REPO / "docs" / "examples" / "memo_lending_club.md"
    )
    print(json.dumps(results["Lending Club small business (2010 loans)"], indent=2))
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
