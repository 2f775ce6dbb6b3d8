"""The committed evaluation baseline: current and previous prompt versions with the embedded model
on the demo, adversarial and Lending Club case sets (memo task) and long SEC 10-K items (summary
task); then the harness benchmark (overhead per
case beyond LLM time, and a fully cached rerun).

Run: ``.venv/bin/python bench/eval_baseline.py`` (about 12 minutes on 2 cores). Writes
``bench/results/eval_baseline/SET/`` (case set, results.json, report.md) and
``bench/results/eval_harness.json``.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from assistant.eval.case_sets import demo_cases, lending_club_cases, sec_cases, write_case_set  # noqa: E402
from assistant.eval.report import write_reports  # noqa: E402
from assistant.eval.runner import load_run, parse_variants, run_eval  # noqa: E402
from assistant.settings import Settings, load_settings  # noqa: E402
from bench.eval_workspace import prepare  # noqa: E402
from bench.machine import describe  # noqa: E402

OUT = REPO / "bench" / "results" / "eval_baseline"
LENDING_CLUB = REPO / "data" / "lc_small_business_2007_2010.csv"
SEC = REPO.parent / "shared" / "data" / "sec_10k" / "filings_dev.zip"
VARIANTS = "document_summary@3,document_summary@4"
DRAFTS = REPO / "bench" / "prompt_drafts"
WORSE = "document_summary@90"
"""A deliberately worse draft (it invites figures): the gate must fail on it and pass on the current one."""


def main() -> None:
    print(describe(), flush=True)
    import argparse

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sets", default="demo,adversarial,lending_club,sec", help="comma-separated sets to (re)run"
    )
    wanted = parser.parse_args().sets.split(",")
    settings = load_settings(None, threads=2)
    lc_model = prepare(settings)
    builders = {
        "demo": lambda: demo_cases(settings, 40),
        "adversarial": lambda: demo_cases(settings, 10, adversarial=True),
        "lending_club": lambda: lending_club_cases(settings, 20, LENDING_CLUB, lc_model),
        "sec": lambda: sec_cases(10, SEC),
    }
    sets = {name: build() for name, build in builders.items() if name in wanted}
    timing_path = REPO / "bench" / "results" / "eval_harness.json"
    timing = json.loads(timing_path.read_text()) if timing_path.is_file() else {}
    case_paths: dict[str, Path] = {}
    with tempfile.TemporaryDirectory() as tmp:  # a fresh cache: the baseline pays for every call
        run_settings = settings.model_copy(update={"workspace": Path(tmp)})
        for name, cases in sets.items():
            folder = OUT / name
            shutil.rmtree(folder, ignore_errors=True)
            cases_path = write_case_set(cases, folder, name)
            case_paths[name] = cases_path
            elapsed = {}
            for label in ("run", "rerun"):  # the rerun is answered by the cache the run filled
                started = time.perf_counter()
                run_eval(
                    run_settings,
                    cases_path,
                    variants=parse_variants(VARIANTS),
                    models=["llamacpp"],
                    out=Path(tmp) / f"{label}-{name}",
                    progress=False,
                )
                elapsed[label] = time.perf_counter() - started
            run, rerun = Path(tmp) / f"run-{name}", Path(tmp) / f"rerun-{name}"
            first, again = elapsed["run"], elapsed["rerun"]
            write_reports(run)
            for item in ("results.json", "report.md"):  # report.html: `underwrite eval report FOLDER`
                shutil.copy(run / item, folder / item)
            t1, t2 = load_run(run)["timing"], load_run(rerun)["timing"]
            cells = len(load_run(run)["rows"])
            timing[name] = {
                "cells": cells,
                "first_run_s": round(first, 1),
                "llm_seconds": t1["llm_seconds_spent"],
                "harness_overhead_per_cell_s": round((first - t1["llm_seconds_spent"]) / cells, 4),
                "cached_rerun_s": round(again, 2),
                "cached_rerun_per_cell_s": round(again / cells, 4),
                "cached_rerun_misses": t2["cache_misses"],
            }
            print(name, timing[name], flush=True)
        if "demo" in sets:
            gate_demo(run_settings, Path(tmp), case_paths["demo"])
    timing_path.write_text(json.dumps(timing, indent=2, sort_keys=True) + "\n")
    print("wrote", OUT)


def gate_demo(settings: Settings, tmp: Path, cases: Path) -> None:
    """``eval gate`` on the demo set: the current prompt's cached rerun against the baseline (passes),
    and the worse draft against the baseline (fails); both verdicts are written to ``gate.txt``."""
    import os

    from assistant.eval.compare import compare, comparison_text, gate

    os.environ["UNDERWRITER_PROMPT_DRAFTS"] = str(DRAFTS)
    run_eval(
        settings,
        cases,
        variants=parse_variants(WORSE),
        models=["llamacpp"],
        out=tmp / "worse-demo",
        progress=False,
    )
    baseline, current = f"{tmp / 'run-demo'}:document_summary@4", f"{tmp / 'rerun-demo'}:document_summary@4"
    worse = f"{tmp / 'worse-demo'}:{WORSE}"
    lines = []
    for label, candidate in (("current prompt (v4), rerun", current), ("worse draft (v90)", worse)):
        ok, failures = gate(candidate, baseline, 0.02)
        lines += [
            f"## eval gate: {label} against the baseline (max drop 0.02)",
            "gate passed" if ok else "gate FAILED",
        ]
        lines += [f"REGRESSION {f}" for f in failures] + [""]
    lines += [
        "## eval compare: baseline (A) against the worse draft (B)",
        comparison_text(compare(baseline, worse), 10),
    ]
    (OUT / "gate.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    main()
