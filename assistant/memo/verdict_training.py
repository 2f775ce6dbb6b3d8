"""Train the verdict classifier (``verdict_model.py``) and write ``verdict/weights.json``.

    python -m assistant.memo.verdict_training                # uses ../shared/data/sec_10k when present
    python -m assistant.memo.verdict_training --filings PATH # another filings_dev.zip

Examples: ``verdict/positives.txt`` (label 1), ``verdict/negatives.txt`` (label 0) and sentences of
real 10-K filings and of Lending Club borrowers (label 0; the samples are written to
``verdict/filing_sentences.txt`` and ``verdict/description_sentences.txt`` so a retrain
without the shared files gives the same model). Every example is checked against the crafted trust
set (``tests/data/trust_set/sentences.tsv``, both halves, read only by this check): one that shares
a four-word phrase with any of its sentences is refused, with its line named, so the set that
measures the classifier never taught it. The threshold is the lowest one at which at most
``MAX_FALSE_VERDICTS`` of the negatives are called verdicts under 5-fold cross-validation.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import zipfile
from pathlib import Path

import numpy as np

from assistant.memo.verdict_model import WEIGHTS, load_minilm
from assistant.memo.words import words

HERE = WEIGHTS.parent
ROOT = Path(__file__).resolve().parents[2]
TRUST_SET = ROOT / "tests" / "data" / "trust_set" / "sentences.tsv"
FILINGS = ROOT.parent / "shared" / "data" / "sec_10k" / "filings_dev.zip"
FILING_SAMPLE = HERE / "filing_sentences.txt"
DESCRIPTIONS = ROOT / "data" / "lc_small_business_2007_2010.csv"
DESCRIPTION_SAMPLE = HERE / "description_sentences.txt"
DESCRIPTIONS_BEFORE = "2010-01-01"
"""Borrowers' own sentences come from loans issued before 2010; the 2010 loans are kept to measure
the classifier on borrowers it never saw (``tests/test_verdict_model.py``)."""
MAX_FALSE_VERDICTS = 0.015
SEED = 29


FUNCTION_WORDS = words(
    """and being but can could did do does he here i it may might must no not or shall she should so
    such then there they very we will would you"""
)


def grams(text: str, n: int = 4) -> set[tuple[str, ...]]:
    """Four-word phrases with at least two words that carry meaning (``of the similar cases`` is not a
    phrase anyone owns; ``say yes to the`` is)."""
    words = re.findall(r"[a-z0-9']+", text.lower())
    out = set()
    for i in range(len(words) - n + 1):
        gram = tuple(words[i : i + n])
        if sum(w not in FUNCTION_WORDS for w in gram) >= 2:
            out.add(gram)
    return out


def shared_phrases(examples: list[str]) -> list[int]:
    """Indices of examples that share a four-word phrase with a trust-set sentence."""
    rows = TRUST_SET.read_text(encoding="utf-8").splitlines()[1:]
    held: set[tuple[str, ...]] = set()
    for row in rows:
        held |= grams(row.split("\t")[-1])
    return [i for i, e in enumerate(examples) if grams(e) & held]


def filing_sentences(path: Path, count: int = 400) -> list[str]:
    """A seeded sample of plain sentences (8-40 words) from the filings' business and MD&A items."""
    found: list[str] = []
    with zipfile.ZipFile(path) as archive:
        for name in sorted(archive.namelist()):
            if not name.endswith(".json"):
                continue
            filing = json.loads(archive.read(name))
            for item in ("item_1", "item_7"):
                for s in re.split(r"(?<=[.!?])\s+", str(filing.get(item, ""))):
                    s = " ".join(s.split())
                    if 8 <= len(s.split()) <= 40 and s.endswith(".") and s[0].isupper():
                        found.append(s)
    rng = random.Random(SEED)
    return rng.sample(found, min(count, len(found)))


def description_sentences(path: Path, count: int = 300) -> list[str]:
    """A seeded sample of Lending Club borrowers' own sentences (8-40 words, loans issued before
    2010) that no decision or verdict rule flags: what a borrower tells of the business and the loan is
    no verdict, and a classifier trained on filings alone took a fifth of them for one."""
    import pandas as pd

    from assistant.memo.verdicts import decision_reasons, grade_reasons
    from retrieval.evidence.sentences import prose_sentences

    frame = pd.read_csv(path, usecols=["issue_d", "desc_clean"])
    early = frame[pd.to_datetime(frame["issue_d"], format="mixed") < pd.Timestamp(DESCRIPTIONS_BEFORE)]
    found = []
    for text in early["desc_clean"].fillna(""):
        for s in prose_sentences(str(text)):
            if not 8 <= len(s.split()) <= 40 or not s.endswith((".", "!")):
                continue
            if decision_reasons(s, "", allow_verdicts=False) or grade_reasons(s, ""):
                continue
            found.append(s)
    rng = random.Random(SEED)
    return rng.sample(sorted(set(found)), min(count, len(set(found))))


def lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def threshold_by_cv(x: np.ndarray, y: np.ndarray) -> tuple[float, dict[str, float]]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    model = LogisticRegression(C=4.0, max_iter=2000, class_weight="balanced")
    folds = StratifiedKFold(5, shuffle=True, random_state=SEED)
    p = cross_val_predict(model, x, y, cv=folds, method="predict_proba")[:, 1]
    negatives = np.sort(p[y == 0])
    cut = float(negatives[int(np.ceil(len(negatives) * (1 - MAX_FALSE_VERDICTS))) - 1]) + 1e-6
    recall = float((p[y == 1] >= cut).mean())
    false = float((p[y == 0] >= cut).mean())
    return cut, {"cv_recall": round(recall, 4), "cv_false_verdicts": round(false, 4)}


def refresh_samples(filings_path: Path, descriptions_path: Path) -> None:
    """Rewrite the sampled non-verdict sentences from the source files that exist.

    Both files are read before either sample is rewritten, so a broken input changes nothing stored.
    """
    filings = descriptions = None
    if filings_path.exists():
        try:
            filings = filing_sentences(filings_path)
        except (zipfile.BadZipFile, json.JSONDecodeError, UnicodeDecodeError) as err:
            raise SystemExit(
                f"{filings_path} is not a zip of 10-K JSON filings ({err}); nothing was written"
            ) from None
    elif not FILING_SAMPLE.exists():
        raise SystemExit(f"no filings at {filings_path} and no saved sample at {FILING_SAMPLE}")
    if descriptions_path.exists():
        try:
            descriptions = description_sentences(descriptions_path)
        except (ValueError, KeyError, UnicodeDecodeError) as err:  # pandas' parser errors are ValueErrors
            raise SystemExit(
                f"{descriptions_path} is not a Lending Club CSV with issue_d and desc_clean ({err}); "
                "nothing was written"
            ) from None
    if filings is not None:
        FILING_SAMPLE.write_text("\n".join(filings) + "\n", encoding="utf-8")
    if descriptions is not None:
        DESCRIPTION_SAMPLE.write_text("\n".join(descriptions) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--filings", type=Path, default=FILINGS)
    parser.add_argument("--descriptions", type=Path, default=DESCRIPTIONS, help="Lending Club loans (CSV)")
    args = parser.parse_args(argv)
    refresh_samples(args.filings, args.descriptions)
    samples = lines(FILING_SAMPLE) + (lines(DESCRIPTION_SAMPLE) if DESCRIPTION_SAMPLE.exists() else [])
    positives, negatives = lines(HERE / "positives.txt"), lines(HERE / "negatives.txt") + samples
    examples = positives + negatives
    clashes = shared_phrases(examples)
    hand = [i for i in clashes if i < len(positives) + len(lines(HERE / "negatives.txt"))]
    if hand:
        names = ", ".join(
            f"positives.txt:{i + 1}" if i < len(positives) else f"negatives.txt:{i - len(positives) + 1}"
            for i in hand
        )
        raise SystemExit(f"examples share a four-word phrase with the trust set: {names}")
    keep = [i for i in range(len(examples)) if i not in set(clashes)]  # sampled sentences the set quotes
    examples = [examples[i] for i in keep]
    y = np.array([1 if i < len(positives) else 0 for i in keep])
    x = np.asarray(load_minilm().embed(examples, progress=True), dtype=np.float64)
    threshold, figures = threshold_by_cv(x, y)
    from sklearn.linear_model import LogisticRegression

    final = LogisticRegression(C=4.0, max_iter=2000, class_weight="balanced").fit(x, y)
    out = {
        "about": "logistic regression on float32 MiniLM sentence vectors; see assistant/memo/verdict_model.py",
        "examples": {
            "verdicts": int(y.sum()),
            "other": int((y == 0).sum()),
            "sampled_sentences_left_out": len(clashes),
        },
        **figures,
        "threshold": round(threshold, 6),
        "intercept": float(final.intercept_[0]),
        "coef": [round(float(c), 6) for c in final.coef_[0]],
    }
    WEIGHTS.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(
        f"{out['examples']} cross-validated recall {figures['cv_recall']:.1%} at "
        f"{figures['cv_false_verdicts']:.1%} false verdicts; threshold {threshold:.3f}; wrote {WEIGHTS}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
