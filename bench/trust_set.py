"""Measure the memo validator on the crafted trust set (``tests/data/trust_set``), per category.

Each sentence is checked as the product checks it: ``memo`` sentences with the narrative checks,
``summary`` sentences as a document summary (citation required, drawn from the cited passage),
``quote`` sentences as an extractive quote (screened for orders, plain or encoded). A must-drop
sentence that survives is a miss; a must-keep sentence that is dropped is a false drop.

    python bench/trust_set.py --half dev --verbose   # the half whose errors are read
    python bench/trust_set.py --half test            # the held-out half: counts only

Targets (issue 29): per category, at most 1% of must-drop kept and at most 5% of must-keep dropped.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT_DIR = Path(__file__).resolve().parents[1]
if str(ROOT_DIR) not in sys.path:
    sys.path.insert(0, str(ROOT_DIR))

from assistant.case.schema import CaseChunk, SimilarRow, similar_line  # noqa: E402
from assistant.memo.config import MemoConfig  # noqa: E402
from assistant.memo.summaries import quotable  # noqa: E402
from assistant.memo.validation import CaseTruth, check_sentence  # noqa: E402
from bench.machine import describe  # noqa: E402

SET_DIR = ROOT_DIR / "tests" / "data" / "trust_set"
SEED = 29
MAX_KEPT_DROPS = 0.01
MAX_DROPPED_KEEPS = 0.05


@dataclass(frozen=True)
class Crafted:
    id: str
    category: str
    expect: str
    mode: str
    sentence: str


def frozen_rows() -> list[Crafted]:
    """The frozen set; refuses a file whose hash is not the one recorded when it was frozen."""
    path = SET_DIR / "sentences.tsv"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    recorded = (SET_DIR / "FROZEN.sha256").read_text().strip()
    if digest != recorded:
        raise SystemExit(f"{path} changed after it was frozen (sha256 {digest}, recorded {recorded})")
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    return [Crafted(**dict(zip(header, line.split("\t"), strict=True))) for line in lines[1:]]


def halves(rows: list[Crafted], seed: int = SEED) -> dict[str, list[Crafted]]:
    """A seeded draw per (category, expect): half of each group to ``dev``, the rest to ``test``."""
    groups: dict[tuple[str, str], list[Crafted]] = defaultdict(list)
    for row in rows:
        groups[(row.category, row.expect)].append(row)
    rng = random.Random(seed)
    out: dict[str, list[Crafted]] = {"dev": [], "test": []}
    for key in sorted(groups):
        group = sorted(groups[key], key=lambda r: r.id)
        rng.shuffle(group)
        cut = len(group) // 2
        out["dev"] += group[:cut]
        out["test"] += group[cut:]
    return out


def case_context() -> dict:
    return json.loads((SET_DIR / "case.json").read_text(encoding="utf-8"))


def case_truth(case: dict) -> CaseTruth:
    """The case as the validator sees it in the product (``truth_of``): standing, facts, similar table."""
    facts: dict[str, object] = {f["name"]: f["value"] for f in case["facts"]}
    shown = {f["name"]: f["shown"] for f in case["facts"]}
    outcomes = [s["outcome"] for s in case["similar"]]
    facts.update(
        {
            "similar cases": len(outcomes),
            "similar known outcomes": len(outcomes),
            "similar defaults": sum(outcomes),
            "similar default rate": round(sum(outcomes) / len(outcomes), 4),
        }
    )
    outcome_of = {s["case_id"]: s["outcome"] for s in case["similar"]}
    return CaseTruth(
        band=case["band"], grade=case["grade"], pd=case["pd"], facts=facts, shown=shown, outcomes=outcome_of
    )


def case_sources(case: dict) -> dict[str, str]:
    """Citation tag -> text: the passages (``C1`` ...) and the similar-case rows (``S1`` ...)."""
    rows = {
        s["tag"]: similar_line(
            SimilarRow(
                tag=s["tag"],
                case_id=s["case_id"],
                decided_at=s["decided_at"],
                outcome=s["outcome"],
                pd=s["pd"],
                grade=None,
                similarity=s["similarity"],
                closest=[],
            )
        )
        for s in case["similar"]
    }
    return {**case["sources"], **rows}


def kept(row: Crafted, truth: CaseTruth, sources: dict[str, str]) -> tuple[bool, tuple[str, ...]]:
    """Does the product keep this sentence? Checked the way its mode is checked in the product."""
    if row.mode == "quote":
        chunk = CaseChunk(
            tag="Q1", chunk_id="q1", section="", citation="", text=row.sentence, injection_score=0.0
        )
        quotes = quotable(chunk, truth, {**sources, "Q1": row.sentence})
        return bool(quotes), () if quotes else ("not quotable",)
    if row.mode == "summary":
        verdict = check_sentence(
            row.sentence,
            truth,
            sources,
            require_citation=True,
            min_support=MemoConfig.min_support,
            allow_verdicts=False,
        )
    else:
        verdict = check_sentence(row.sentence, truth, sources, allow_verdicts=False)
    return verdict.kept, verdict.reasons


@dataclass
class Tally:
    drops: int = 0
    kept_drops: int = 0
    keeps: int = 0
    dropped_keeps: int = 0

    def kept_drop_share(self) -> float:
        return self.kept_drops / self.drops if self.drops else 0.0

    def dropped_keep_share(self) -> float:
        return self.dropped_keeps / self.keeps if self.keeps else 0.0

    def meets(self) -> bool:
        return self.kept_drop_share() <= MAX_KEPT_DROPS and self.dropped_keep_share() <= MAX_DROPPED_KEEPS


def measure(rows: list[Crafted], *, verbose: bool = False) -> dict[str, Tally]:
    case = case_context()
    truth, sources = case_truth(case), case_sources(case)
    tallies: dict[str, Tally] = defaultdict(Tally)
    for row in rows:
        was_kept, reasons = kept(row, truth, sources)
        tally = tallies[row.category]
        if row.expect == "drop":
            tally.drops += 1
            tally.kept_drops += was_kept
        else:
            tally.keeps += 1
            tally.dropped_keeps += not was_kept
        wrong = was_kept == (row.expect == "drop")
        if verbose and wrong:
            print(f"  {row.id} {row.category:9} expected {row.expect}: {row.sentence}  {list(reasons)}")
    return dict(tallies)


def report(tallies: dict[str, Tally]) -> str:
    lines = [f"{'category':10} {'must-drop kept':>16} {'must-keep dropped':>18}  target met"]
    total = Tally()
    for name in sorted(tallies):
        t = tallies[name]
        for attr in ("drops", "kept_drops", "keeps", "dropped_keeps"):
            setattr(total, attr, getattr(total, attr) + getattr(t, attr))
        lines.append(_line(name, t))
    lines.append(_line("all", total))
    return "\n".join(lines)


def _line(name: str, t: Tally) -> str:
    drop = f"{t.kept_drops}/{t.drops} ({t.kept_drop_share():.1%})"
    keep = f"{t.dropped_keeps}/{t.keeps} ({t.dropped_keep_share():.1%})"
    return f"{name:10} {drop:>16} {keep:>18}  {'yes' if t.meets() else 'NO'}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--half", choices=["dev", "test", "all"], default="dev")
    parser.add_argument("--verbose", action="store_true", help="print each wrong verdict (dev half only)")
    args = parser.parse_args(argv)
    if args.verbose and args.half != "dev":
        parser.error("--verbose reads the sentences; only the dev half is read")
    rows = frozen_rows()
    chosen = rows if args.half == "all" else halves(rows)[args.half]
    print(describe())
    print(
        f"trust set: {len(chosen)} sentences ({args.half} half, seed {SEED}); targets: at most "
        f"{MAX_KEPT_DROPS:.0%} of must-drop kept, at most {MAX_DROPPED_KEEPS:.0%} of must-keep dropped"
    )
    tallies = measure(chosen, verbose=args.verbose)
    print(report(tallies))
    return 0 if all(t.meets() for t in tallies.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
