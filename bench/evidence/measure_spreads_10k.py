"""Spread accuracy on 10-K filings checked by hand (``data/evidence/spreads_10k.json``): of the fields a
filing states, the share the product spreads to within 1% (and with the right sign).

The filings go through the product's own path: collected from the shared archive, read, screened and
chunked by the sandboxed readers, then the case evidence is built from the chunks.

    python bench/evidence/measure_spreads_10k.py [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from assistant.case.documents import ingested_documents
from assistant.case.evidence import case_evidence
from assistant.case.portfolio_documents import read_documents
from assistant.settings import load_settings
from models.backends.embedders import load_tokenizer
from retrieval.documents.collect import collect_documents

REPO = Path(__file__).resolve().parents[2]
TRUTH = REPO / "data" / "evidence" / "spreads_10k.json"
FILINGS = REPO.parent / "shared" / "data" / "sec_10k" / "filings_dev.zip"
TOLERANCE = 0.01


def spread_check(truth: dict[str, dict[str, float]], archive: Path = FILINGS) -> tuple[dict, list[dict]]:
    """Each hand-checked field of each filing against the spread the product builds from the filing."""
    settings = load_settings()
    tokenizer = load_tokenizer(settings.index.embedder)
    rows, right, present = [], 0, 0
    with tempfile.TemporaryDirectory() as staging:
        collected = collect_documents(archive, dict.fromkeys(truth), Path(staging))
        result = read_documents(
            settings, collected.sources, count=tokenizer.count_tokens, model_max_tokens=tokenizer.max_tokens
        )
    for filing, fields in truth.items():
        docs = [d for d in result.documents if d.merchant_id == filing]
        chunks = [c for c in result.chunks if c.merchant_id == filing]
        figures = case_evidence(ingested_documents(docs, chunks), {}).figures()
        for field, expected in fields.items():
            got = figures.get(field, {}).get("value")
            ok = got is not None and abs(got - expected) <= TOLERANCE * abs(expected)
            right, present = right + ok, present + 1
            rows.append(
                {
                    "filing": filing,
                    "field": field,
                    "expected": expected,
                    "spread": got,
                    "correct": ok,
                    "source": figures.get(field, {}).get("source"),
                    "quote": figures.get(field, {}).get("quote", "")[:200],
                }
            )
        extra = sorted(set(figures) - set(fields))
        if extra:
            rows.append({"filing": filing, "field": "not in the hand check", "spread_fields": extra})
    summary = {
        "filings": len(truth),
        "fields_present": present,
        "spread_correctly": right,
        "share": round(right / present, 3) if present else None,
    }
    return summary, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    summary, rows = spread_check(json.loads(TRUTH.read_text())["filings"])
    for r in rows:
        print(json.dumps(r))
    print(json.dumps(summary))
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
