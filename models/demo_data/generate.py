"""Write a synthetic merchant portfolio to disk, atomically.

Layout of the output folder::

    merchants.csv    one row per merchant (tabular features, status, outcome)
    monthly.csv      12 months of volume, refunds, disputes per merchant
    documents.csv    one row per document: type, format, path, sha256, planted injection
    truth.csv        what the documents plant: hidden risk facts, contradictions, personal data
    docs/<merchant_id>/<doc_id>.<txt|md|html|pdf>
    portfolio.json   seed, size, generator version, counts

The folder appears complete or not at all: it is built beside the target and
renamed into place. An existing portfolio is never overwritten unless asked.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from models.demo_data.documents import make_identity, plan_documents
from models.demo_data.merchants import generate_merchants
from models.demo_data.render import render
from models.demo_data.words import ADJECTIVES, NOUNS, SUFFIXES
from models.errors import UnderwriterError
from models.store.versioned import replace_folder

GENERATOR_VERSION = 2
"""2: injections drawn from a wider list (eight languages) than the screening rules were written from."""
MAX_MERCHANTS = 2_000_000


@dataclass(frozen=True)
class PortfolioFiles:
    """Paths of a generated portfolio."""

    root: Path

    @property
    def merchants(self) -> Path:
        return self.root / "merchants.csv"

    @property
    def monthly(self) -> Path:
        return self.root / "monthly.csv"

    @property
    def documents(self) -> Path:
        return self.root / "documents.csv"

    @property
    def truth(self) -> Path:
        return self.root / "truth.csv"

    @property
    def manifest(self) -> Path:
        return self.root / "portfolio.json"

    def exists(self) -> bool:
        return self.manifest.is_file()


def _legal_names(n: int, rng: random.Random) -> list[str]:
    names, seen = [], set()
    for _ in range(n):
        name = f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}"
        if rng.random() < 0.3:
            name += f" & {rng.choice(NOUNS)}"
        name += f" {rng.choice(SUFFIXES)}"
        base, k = name, 2
        while name in seen:
            name, k = f"{base} {k}", k + 1
        seen.add(name)
        names.append(name)
    return names


def generate_portfolio(
    out: str | Path, *, merchants: int, seed: int, force: bool = False, progress: bool = True
) -> PortfolioFiles:
    """Generate ``merchants`` merchants with documents into ``out`` (deterministic for ``seed``)."""
    if not 1 <= merchants <= MAX_MERCHANTS:
        raise UnderwriterError(f"--merchants must be between 1 and {MAX_MERCHANTS:,}, got {merchants}")
    target = Path(out)
    files = PortfolioFiles(target)
    if target.exists() and any(target.iterdir()) and not force:
        raise UnderwriterError(
            f"{target} already holds files; pass --force to replace it (nothing was changed)"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        _write(staging, merchants, seed, progress)
        replace_folder(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    meta = json.loads(files.manifest.read_text())
    meta["seconds"] = round(time.perf_counter() - started, 2)
    files.manifest.write_text(json.dumps(meta, indent=2))
    return files


def _write(root: Path, n: int, seed: int, progress: bool) -> None:
    tables = generate_merchants(n, np.random.default_rng(seed))
    names = _legal_names(n, random.Random(f"names:{seed}"))
    tables.merchants.insert(1, "legal_name", names)
    merchant_rows = tables.merchants.to_dict("records")
    hidden_rows = tables.hidden.to_dict("records")
    (root / "docs").mkdir()
    doc_rows, truth_rows = [], []
    pairs = zip(merchant_rows, hidden_rows, strict=True)
    for m, h in tqdm(pairs, total=n, disable=not progress, desc="merchants", unit="merchant"):
        rows, truth = _merchant_documents(root, m, h, seed)
        doc_rows += rows
        truth_rows.append(truth)
    tables.merchants.to_csv(root / "merchants.csv", index=False)
    tables.monthly.to_csv(root / "monthly.csv", index=False)
    documents = pd.DataFrame(doc_rows)
    documents.to_csv(root / "documents.csv", index=False)
    pd.DataFrame(truth_rows).to_csv(root / "truth.csv", index=False)
    (root / "portfolio.json").write_text(
        json.dumps(_portfolio_meta(tables.merchants, documents, n, seed), indent=2)
    )


def _merchant_documents(root: Path, m: dict, h: dict, seed: int) -> tuple[list[dict], dict]:
    """One merchant's documents written under ``docs/``: their index rows, and the merchant's truth row."""
    rng = random.Random(f"{seed}:{m['merchant_id']}")
    who = make_identity(rng, m["legal_name"], m["country"], int(m["decision_date"][:4]), m["tenure_months"])
    planned, facts = plan_documents(m, h, who, rng)
    (root / "docs" / m["merchant_id"]).mkdir()
    rows = []
    for number, p in enumerate(planned, start=1):
        doc_id = f"{m['merchant_id']}-D{number}"
        data = render(p.doc, p.fmt)
        relative = f"docs/{m['merchant_id']}/{doc_id}.{p.fmt}"
        (root / relative).write_bytes(data)
        rows.append(
            {
                "doc_id": doc_id,
                "merchant_id": m["merchant_id"],
                "doc_type": p.doc.doc_type,
                "format": p.fmt,
                "path": relative,
                "bytes": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
                "title": p.doc.title,
                "injection_kind": p.injection_kind,
                "injection_text": p.injection_text,
                "pii_kinds": ";".join(p.pii),
            }
        )
    truth = {
        "merchant_id": m["merchant_id"],
        **{k: v for k, v in h.items() if k != "industry_index"},
        **{f"fs_{k}": v for k, v in facts.items()},
        "owner": who.owner,
        "email": who.email,
        "phone": who.phone,
        "bank_account": who.bank_account,
        "tax_id": who.tax_id,
    }
    return rows, truth


def _portfolio_meta(merchants: pd.DataFrame, documents: pd.DataFrame, n: int, seed: int) -> dict:
    historical = merchants["status"] == "historical"
    default_rate = (
        float(merchants.loc[historical, "default_12m"].astype(float).mean()) if historical.any() else None
    )
    return {
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "merchants": n,
        "historical": int(historical.sum()),
        "applicants": int((~historical).sum()),
        "default_rate_historical": round(default_rate, 4) if default_rate is not None else None,
        "documents": len(documents),
        "documents_by_format": documents["format"].value_counts().sort_index().to_dict(),
        "documents_with_injection": int((documents["injection_kind"] != "").sum()),
    }
