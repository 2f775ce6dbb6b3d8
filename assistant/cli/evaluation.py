"""``underwrite eval cases | run | judge-check | compare | gate | report``: the prompt evaluation harness."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from assistant.cli.args import positive
from assistant.eval.case_sets import SETS, build_case_set
from assistant.eval.compare import compare, comparison_text, gate
from assistant.eval.report import write_reports
from assistant.eval.runner import judge_check, load_run, parse_model, parse_variants, run_eval
from assistant.settings import Settings
from prompts.loader import DRAFTS_ENV

COMMANDS = ("eval",)


def add_parsers(commands: Any) -> None:
    ev = commands.add_parser(
        "eval", help="evaluate prompts and models: case sets, runs, comparison, gate, reports"
    )
    actions = ev.add_subparsers(dest="eval_command", required=True, metavar="ACTION")
    cs = actions.add_parser("cases", help="build a versioned case set (JSONL) with what is known to be true")
    cs.add_argument("--set", required=True, choices=list(SETS))
    cs.add_argument("--count", type=positive, default=20)
    cs.add_argument("--out", type=Path, help="folder (default: WORKSPACE/eval/cases)")
    cs.add_argument(
        "--data", type=Path, help="lending_club: the CSV; sec: the filings archive (defaults: shipped data)"
    )
    cs.add_argument(
        "--model",
        type=Path,
        help="lending_club: the model directory (default: WORKSPACE/models/lending_club)",
    )
    rn = actions.add_parser("run", help="memos for every prompt variant x model x case, scored; cached calls")
    rn.add_argument("--task", choices=["memo", "summary"], help="checked against the case set's task")
    rn.add_argument("--cases", required=True, type=Path, help="a case set from `eval cases`")
    rn.add_argument(
        "--prompts",
        help="variants, e.g. document_summary@1,document_summary@2 (a+b pins two); default: current",
    )
    rn.add_argument(
        "--drafts",
        type=Path,
        help="a folder of draft templates (YAML, new versions) that --prompts may name beside the shipped ones",
    )
    rn.add_argument(
        "--models",
        default="llamacpp",
        help="comma-separated: llamacpp[:PATH], openai:MODEL@URL, transformers:DIR",
    )
    rn.add_argument("--repeats", type=positive, default=1, help="samples per cell (seed + repeat)")
    rn.add_argument("--out", type=Path, help="run folder (default: WORKSPACE/eval/runs/RUN_ID)")
    rn.add_argument("--judge", help="also grade each memo with this model (same syntax as --models)")
    rn.add_argument("--judge-repeats", type=positive, default=1, help="judge samples per memo (variance)")
    jc = actions.add_parser(
        "judge-check", help="agreement of a judge model with the human-labelled narratives"
    )
    jc.add_argument("--judge", default="llamacpp")
    jc.add_argument("--repeats", type=positive, default=1)
    cp = actions.add_parser(
        "compare", help="per-metric means with bootstrap intervals, paired test, case changes"
    )
    cp.add_argument("a", help="RUN or RUN:VARIANT")
    cp.add_argument("b", help="RUN or RUN:VARIANT")
    gt = actions.add_parser(
        "gate", help="exit 1 when a gated metric got worse than the baseline beyond --max-drop"
    )
    gt.add_argument("run", help="RUN or RUN:VARIANT")
    gt.add_argument("--baseline", required=True, help="RUN or RUN:VARIANT")
    gt.add_argument("--max-drop", type=float, default=0.02)
    rp = actions.add_parser("report", help="write report.md and report.html into the run folder")
    rp.add_argument("run", type=Path)


def run(args: argparse.Namespace, settings: Settings, progress: bool) -> int:
    action = args.eval_command
    if action == "cases":
        count, path = build_case_set(
            settings, args.set, args.count, out=args.out, data=args.data, model=args.model
        )
        print(f"{count} cases -> {path}")
    elif action == "run":
        if args.drafts:
            os.environ[DRAFTS_ENV] = str(args.drafts.resolve())
        folder = run_eval(
            settings,
            args.cases,
            variants=parse_variants(args.prompts),
            models=[m.strip() for m in args.models.split(",") if m.strip()],
            repeats=args.repeats,
            out=args.out,
            progress=progress,
            judge=parse_model(args.judge, settings) if args.judge else None,
            judge_repeats=args.judge_repeats,
            task=args.task,
        )
        md, _ = write_reports(folder)
        timing = load_run(folder)["timing"]
        print(md.read_text())
        print(
            f"run {folder} ({timing['seconds']:.1f} s; cache {timing['cache_hits']} hits, {timing['cache_misses']} misses)"
        )
    elif action == "judge-check":
        print(json.dumps(judge_check(settings, args.judge, repeats=args.repeats), indent=2))
    elif action == "compare":
        print(comparison_text(compare(args.a, args.b)))
    elif action == "gate":
        ok, failures = gate(args.run, args.baseline, args.max_drop)
        for failure in failures:
            print(f"REGRESSION {failure}")
        print("gate passed" if ok else f"gate FAILED ({len(failures)} metric(s))")
        return 0 if ok else 1
    else:
        md, page = write_reports(args.run)
        print(f"wrote {md} and {page}")
    return 0
