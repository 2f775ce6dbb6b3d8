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
import csv
import hashlib
import json
import random
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SET_DIR = ROOT / "tests" / "data" / "trust_set"
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
