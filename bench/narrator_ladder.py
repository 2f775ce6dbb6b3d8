"""The narrator ladder, measured through the product: each local narrator writes the memos of the demo
and Lending Club case sets and the summaries of long 10-K items, scored by the evaluation harness.

Per narrator and set: LLM sentences shown per document, substance per document (facts of the cited
passage the deterministic sections do not state), planted-fact recall of LLM sentences (demo),
``figures_strict``, ``invented_figures``, the validator's kept share, LLM seconds per memo (p50), and
on the demo set the time to the first shown sentence of a chat answer about the documents (p50).
The baseline is the embedded SmolLM2-135M, measured in the same run on the same cases.

Run: ``.venv/bin/python bench/narrator_ladder.py`` (narrators: the embedded one and every installed
one, `underwrite llm list`; about 40 minutes on 2 cores with both Qwen models). Writes
``bench/results/narrator_ladder/`` (case sets, each set's results.json and report.md, ladder.json,
ladder.md). Calls are cached in the workspace's evaluation cache, so a rerun costs no LLM time.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from assistant.backends import open_embedder  # noqa: E402
from assistant.case.source import CaseSource  # noqa: E402
from assistant.chat import ChatSession  # noqa: E402
from assistant.eval.case_sets import demo_cases, lending_club_cases, sec_cases, write_case_set  # noqa: E402
from assistant.eval.report import write_reports  # noqa: E402
from assistant.eval.runner import load_run, parse_model, parse_variants, run_eval  # noqa: E402
from assistant.settings import Settings, load_settings  # noqa: E402
from assistant.workspace import Workspace  # noqa: E402
from bench.eval_workspace import LENDING_CLUB, prepare  # noqa: E402
from bench.machine import describe, machine  # noqa: E402
from models.backends import narrators  # noqa: E402
from retrieval.passages import DocumentIndex  # noqa: E402

OUT = REPO / "bench" / "results" / "narrator_ladder"
SEC = REPO.parent / "shared" / "data" / "sec_10k" / "filings_dev.zip"
COLUMNS = (
    "llm_sentences_per_document",
    "substance_per_document",
    "planted_fact_recall_llm",
    "figures_strict",
    "invented_figures",
    "llm_sentences_kept",
)
CHAT_QUESTION = "What do the merchant's documents say about its customers and deliveries?"
"""Routed to the document search (a question about refunds or lawsuits is answered from the signals, with no LLM)."""


def available() -> list[str]:
    return [narrators.EMBEDDED] + [
        n.name for n in narrators.NARRATORS.values() if narrators.verified(n, narrators.installed_path(n))
    ]


def chat_first_sentence(settings: Settings, spec: str, merchants: list[str]) -> float | None:
    """p50 seconds to the first shown sentence of a document answer (after the passages found)."""
    if not merchants:
        return None
    llm = parse_model(spec, settings)
    source = CaseSource(settings)
    index = DocumentIndex.load(Workspace(settings).documents_index_dir, open_embedder(settings))
    times = []
    for merchant in merchants:
        chat = ChatSession(source, merchant, llm, None, document_index=index)
        assert chat.route(CHAT_QUESTION) == "search", "the timed question must reach the narrator"
        started = time.perf_counter()
        pieces = [time.perf_counter() - started for _ in chat.ask(CHAT_QUESTION)]
        times.append(pieces[1] if len(pieces) > 1 else pieces[0])
    return round(statistics.median(times), 2)


def ladder_rows(set_name: str, run: Path) -> dict[str, dict[str, Any]]:
    results = load_run(run)
    out = {}
    for label in results["models"]:
        rows = [r for r in results["rows"] if r["model"] == label]
        means = next(v["means"] for k, v in results["summary"].items() if k.endswith(f"· {label}"))
        seconds = [r["metrics"]["llm_seconds"] for r in rows]
        out[label] = {
            **{c: means.get(c) for c in COLUMNS},
            "llm_seconds_p50": round(statistics.median(seconds), 2) if seconds else None,
            "cases": len(rows),
        }
    return out


def table(ladder: dict[str, Any]) -> str:
    head = "| set | narrator | LLM sentences / doc | substance / doc | planted (LLM) | figures_strict | "
    head += "invented | kept | LLM s / case p50 | chat 1st sentence s |"
    lines = [head, "|" + "---|" * 10]
    for set_name, models in ladder["sets"].items():
        for label, row in models.items():
            cells = [row.get(c) for c in COLUMNS] + [row["llm_seconds_p50"]]
            chat = ladder["chat_first_sentence_s"].get(label) if set_name.startswith("demo") else None
            shown = ["–" if v is None else f"{v:.2f}" for v in [*cells, chat]]
            lines.append(f"| {set_name} | {label} | " + " | ".join(shown) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    print(describe(), flush=True)
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--narrators", default=",".join(available()), help="names from `underwrite llm list`")
    parser.add_argument("--demo", type=int, default=8, help="demo memo cases")
    parser.add_argument("--lending-club", type=int, default=8, help="Lending Club memo cases (2010 loans)")
    parser.add_argument("--sec", type=int, default=4, help="long 10-K items (summary task)")
    parser.add_argument("--chat", type=int, default=3, help="demo chat questions timed per narrator")
    args = parser.parse_args()
    names = [n.strip() for n in args.narrators.split(",") if n.strip()]
    settings = load_settings(None, threads=2)
    lc_model = prepare(settings)
    sets = {
        "demo": lambda: demo_cases(settings, args.demo),
        "lending_club": lambda: lending_club_cases(settings, args.lending_club, LENDING_CLUB, lc_model),
        "sec": lambda: sec_cases(args.sec, SEC),
    }
    specs = {name: f"llamacpp:{name}" for name in names}
    ladder: dict[str, Any] = {
        "machine": machine(),
        "narrators": names,
        "sets": {},
        "chat_first_sentence_s": {},
    }
    for set_name, build in sets.items():
        folder = OUT / set_name
        shutil.rmtree(folder, ignore_errors=True)
        cases = write_case_set(build(), folder, set_name)
        started = time.perf_counter()
        run = run_eval(
            settings,
            cases,
            variants=parse_variants(None),
            models=list(specs.values()),
            out=folder / "run",
            progress=True,
        )
        write_reports(run)
        for item in ("results.json", "report.md"):
            shutil.copy(run / item, folder / item)
        shutil.copytree(run / "memos", folder / "memos")  # for drill-down: what each narrator wrote
        shutil.rmtree(run)
        ladder["sets"][set_name] = ladder_rows(set_name, folder)
        print(
            set_name,
            f"{time.perf_counter() - started:.0f} s",
            json.dumps(ladder["sets"][set_name]),
            flush=True,
        )
    merchants = [c.case_id for c in demo_cases(settings, args.chat)]
    for spec in specs.values():
        ladder["chat_first_sentence_s"][spec] = chat_first_sentence(settings, spec, merchants)
    (OUT / "ladder.json").write_text(json.dumps(ladder, indent=1) + "\n", encoding="utf-8")
    (OUT / "ladder.md").write_text(f"Machine: {describe()}\n\n" + table(ladder), encoding="utf-8")
    print(table(ladder))
    print("wrote", OUT)


if __name__ == "__main__":
    main()
