"""The main job end to end, and the workbench's first run: portfolio, model, scores, indexes, evidence, memos.

:func:`main_job` yields each stage's result as it finishes, so a caller shows progress in its
own way (the CLI prints text); :func:`prepare_workspace` builds everything in the foreground
(benchmarks that need a complete workspace). The workbench serves before the indexes exist and
builds them in the background (:mod:`assistant.jobs.background_index`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from assistant.jobs.demo import DemoReport, highest_risk, run_demo
from assistant.jobs.evidence import MerchantEvidence, evidence_for
from assistant.jobs.index_build import IndexReport, build_indexes
from assistant.jobs.memo_batch import BatchSummary, run_batch
from assistant.settings import Settings
from assistant.workspace import Workspace

SHOWN_APPLICANTS = 3


@dataclass
class BuildingIndexes:
    """The indexes are out of date and are being built (first run only)."""


@dataclass
class Evidence:
    items: list[MerchantEvidence]
    built: IndexReport | None


@dataclass
class WritingMemos:
    out: Path
    case_ids: list[str]


Stage = DemoReport | BuildingIndexes | Evidence | WritingMemos | BatchSummary


def main_job(
    settings: Settings,
    *,
    retrain: bool = False,
    evidence: bool = True,
    memos: bool = True,
    progress: bool = True,
) -> Iterator[Stage]:
    """``underwrite demo``: the scored portfolio, then the riskiest applicants' evidence, then their memos."""
    workspace = Workspace(settings)
    report = run_demo(settings, retrain=retrain, progress=progress)
    yield report
    if not evidence:
        return
    built = None
    if not workspace.indexes_current():
        yield BuildingIndexes()
        built = build_indexes(settings, progress=progress)
    top = highest_risk(report, count=SHOWN_APPLICANTS)["id"].astype(str).tolist()
    yield Evidence(evidence_for(settings, top), built)
    if memos:
        out = workspace.memos_dir
        yield WritingMemos(out, top)
        yield run_batch(settings, top, out, progress=progress)


def prepare_workspace(settings: Settings, *, progress: bool = True) -> tuple[DemoReport, IndexReport | None]:
    """Portfolio, model, scores, document index and case library, all built now (minutes on a first run)."""
    report = run_demo(settings, progress=progress)
    built = None if Workspace(settings).indexes_current() else build_indexes(settings, progress=progress)
    return report, built
