"""The distilled narrator against the base SmolLM2 and the teacher, on cases none of the teaching came from:

* demo merchants of another seed (a second workspace, seed 8; the teacher read seed 7's documents);
* Lending Club loans of 2010 (the teacher read descriptions of loans issued before 2010);
* long 10-K items of the held-out companies (``teacher_data.held_out_company``; a quarter of the CIKs).

Per narrator and set: LLM sentences shown per document, substance per document, planted-fact recall
of LLM sentences (demo), ``figures_strict``, kept share, LLM seconds per case (p50); and decode speed
(tokens/s, 200 tokens, median of 3) of the student against the base model, and the first shown sentence of a chat answer on the held-out
demo (p50), measured in the same run.

Run: ``.venv/bin/python bench/distill/measure.py`` (about 15 minutes on 2 cores with the teacher, once the workspaces exist;
``--narrators`` to leave it out). Writes ``bench/results/distill_measure/`` (``measure.json``, ``measure.md``, each set's cases and results).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from assistant.eval.case_sets import (  # noqa: E402
    DEFAULT_SEC_ARCHIVE,
    demo_cases,
    lending_club_cases,
    sec_cases,
    write_case_set,
)
from assistant.eval.runner import parse_model, parse_variants, run_eval  # noqa: E402
from assistant.jobs.demo import run_demo  # noqa: E402
from assistant.jobs.index_build import build_indexes  # noqa: E402
from assistant.settings import Settings, load_settings  # noqa: E402
from assistant.workspace import Workspace  # noqa: E402
from bench.distill.teacher_data import cik_of, held_out_company  # noqa: E402
from bench.eval_workspace import LENDING_CLUB, prepare  # noqa: E402
from bench.machine import describe, machine  # noqa: E402
from bench.narrator_ladder import chat_first_sentence, ladder_rows, table  # noqa: E402
from models.backends.llm import stream  # noqa: E402

OUT = REPO / "bench" / "results" / "distill_measure"
HELD_OUT_SEED = 8
DECODE = [
    ("system", "You help a credit underwriter."),
    ("user", "Explain what a chargeback is and why it matters."),
]


def held_out_demo(settings: Settings) -> Settings:
    """A demo workspace of another seed beside the main one (built once)."""
    other = settings.model_copy(
        update={
            "workspace": settings.workspace.parent / f"workspace-seed{HELD_OUT_SEED}",
            "demo": settings.demo.model_copy(update={"seed": HELD_OUT_SEED}),
        }
    )
    if not Workspace(other).has_model() or not Workspace(other).indexes_current():
        run_demo(other, progress=False)
        build_indexes(other, progress=False)
    return other


def decode_rate(settings: Settings, spec: str, repeats: int = 3) -> float:
    llm = parse_model(spec, settings)
    rates = []
    for _ in range(repeats):
        stamps = [time.perf_counter() for _ in stream(llm, DECODE, max_tokens=200)]
        rates.append((len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 1 else 0.0)
    return round(statistics.median(rates), 1)


def main() -> None:
    print(describe(), flush=True)
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--narrators", default="smollm2-135m,smollm2-135m-underwriter,qwen2.5-coder-1.5b")
    parser.add_argument("--demo", type=int, default=8)
    parser.add_argument("--lending-club", type=int, default=8)
    parser.add_argument("--sec", type=int, default=4)
    parser.add_argument("--chat", type=int, default=3, help="held-out demo chat questions timed per narrator")
    args = parser.parse_args()
    names = [n.strip() for n in args.narrators.split(",") if n.strip()]
    settings = load_settings(None, threads=2)
    lc_model = prepare(settings)
    other = held_out_demo(settings)
    held_sec = [c for c in sec_cases(200, DEFAULT_SEC_ARCHIVE) if held_out_company(cik_of(c.document))]
    sets: dict[str, Any] = {
        "demo_seed8": (other, lambda: demo_cases(other, args.demo)),
        "lending_club_2010": (
            settings,
            lambda: lending_club_cases(settings, args.lending_club, LENDING_CLUB, lc_model),
        ),
        "sec_held_out": (settings, lambda: held_sec[: args.sec]),
    }
    specs = [f"llamacpp:{n}" for n in names]
    results: dict[str, Any] = {
        "machine": machine(),
        "narrators": names,
        "sets": {},
        "chat_first_sentence_s": {},
    }
    OUT.mkdir(parents=True, exist_ok=True)
    for set_name, (run_settings, build) in sets.items():
        folder = OUT / set_name
        shutil.rmtree(folder, ignore_errors=True)
        cases = write_case_set(build(), folder, set_name)
        with tempfile.TemporaryDirectory() as tmp:
            run = run_eval(
                run_settings, cases, variants=parse_variants(None), models=specs, out=Path(tmp) / "run"
            )
            shutil.copy(run / "results.json", folder / "results.json")
        results["sets"][set_name] = ladder_rows(set_name, folder)
        print(set_name, json.dumps(results["sets"][set_name]), flush=True)
    merchants = [c.case_id for c in demo_cases(other, args.chat)]
    for spec in specs:
        results["chat_first_sentence_s"][spec] = chat_first_sentence(other, spec, merchants)
    results["decode_tokens_per_s"] = {
        spec: decode_rate(settings, spec) for spec in specs if "qwen" not in spec
    }
    (OUT / "measure.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    text = (
        f"Machine: {describe()}\n\n"
        + table(results)
        + f"\nDecode (tokens/s): {results['decode_tokens_per_s']}\n"
    )
    (OUT / "measure.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
