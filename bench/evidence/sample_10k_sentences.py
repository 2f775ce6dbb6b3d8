"""Draw the 10-K sentences to label by hand for the risk-signal measurement (docs/evidence.md).

Half are drawn at random from the filings' prose; half from sentences with a word an underwriter
would stop at. That word list is this sampler's own: the detector's rules
(``retrieval/evidence/signal_rules.py``) never read it, and the labels come from reading each sentence.

    python bench/evidence/sample_10k_sentences.py > /tmp/candidates.jsonl
"""

from __future__ import annotations

import json
import random
import re
import sys
import zipfile
from pathlib import Path

from retrieval.evidence.sentences import prose_sentences

FILINGS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "sec_10k" / "filings_dev.zip"
ITEMS = ("item_1", "item_1A", "item_3", "item_7", "item_8", "item_9", "item_9A")
STOP_WORDS = re.compile(
    r"doubt|lawsuit|court|investigat|subpoena|customer|supplier|covenant|waiver|declin|decreas|loss|resign|"
    r"auditor|accountant|weakness|bankrupt|chapter 11|tax|complain|delay|backlog|chargeback|refund|default|"
    r"liquidity|overdue|fraud|settle|officer",
    re.IGNORECASE,
)
PER_HALF = 170


def candidates(zip_path: Path) -> list[dict[str, str]]:
    out = []
    with zipfile.ZipFile(zip_path) as archive:
        for name in sorted(n for n in archive.namelist() if n.endswith(".json")):
            filing = json.loads(archive.read(name))
            for item in ITEMS:
                for sentence in prose_sentences(filing.get(item) or ""):
                    if 8 <= len(sentence.split()) <= 70:
                        out.append({"filing": Path(name).stem, "item": item, "sentence": sentence})
    return out


def main() -> None:
    rng = random.Random(17)
    pool = candidates(FILINGS)
    unique = list({c["sentence"]: c for c in pool}.values())
    stopped = [c for c in unique if STOP_WORDS.search(c["sentence"])]
    chosen = rng.sample(unique, PER_HALF)
    taken = {c["sentence"] for c in chosen}
    chosen += rng.sample([c for c in stopped if c["sentence"] not in taken], PER_HALF)
    for i, c in enumerate(chosen):
        sys.stdout.write(
            json.dumps({"id": i, **c, "drawn": "random" if i < PER_HALF else "stop_word"}) + "\n"
        )


if __name__ == "__main__":
    main()
