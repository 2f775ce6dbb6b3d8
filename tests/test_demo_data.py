import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models.demo_data.generate import PortfolioFiles, generate_portfolio
from models.errors import UnderwriterError


def tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.name != "portfolio.json":
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path):
    a = generate_portfolio(tmp_path / "a", merchants=60, seed=3, progress=False)
    b = generate_portfolio(tmp_path / "b", merchants=60, seed=3, progress=False)
    c = generate_portfolio(tmp_path / "c", merchants=60, seed=4, progress=False)
    assert tree_digest(a.root) == tree_digest(b.root)
    assert tree_digest(a.root) != tree_digest(c.root)


def test_shape_of_the_portfolio(portfolio: PortfolioFiles):
    merchants = pd.read_csv(portfolio.merchants, dtype={"mcc": str})
    documents = pd.read_csv(portfolio.documents, keep_default_na=False)
    assert len(merchants) == 1500 and merchants["merchant_id"].is_unique
    historical = merchants["status"] == "historical"
    assert merchants.loc[historical, "default_12m"].notna().all()
    assert merchants.loc[~historical, "default_12m"].isna().all()
    assert 0.03 < merchants.loc[historical, "default_12m"].mean() < 0.2
    # applicants are decided after every historical case
    assert (
        merchants.loc[~historical, "decision_date"].min() > merchants.loc[historical, "decision_date"].max()
    )
    per_merchant = documents.groupby("merchant_id").size()
    assert per_merchant.min() >= 2 and per_merchant.max() <= 6
    assert set(documents["format"]) == {"txt", "md", "html", "pdf"}
    for _, row in documents.sample(50, random_state=0).iterrows():
        data = (portfolio.root / row["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == row["sha256"]
    injected = documents[documents["injection_kind"] != ""]
    assert 0 < len(injected) < 0.05 * len(documents)
    assert len(set(injected["injection_kind"])) >= 3


def test_monthly_series_agree_with_the_table(portfolio: PortfolioFiles):
    merchants = pd.read_csv(portfolio.merchants).set_index("merchant_id")
    monthly = pd.read_csv(portfolio.monthly)
    sums = monthly.groupby("merchant_id")[["volume", "refunds", "disputes"]].sum()
    assert (monthly.groupby("merchant_id").size() == 12).all()
    np.testing.assert_allclose(sums["volume"] / 12, merchants.loc[sums.index, "monthly_volume"], atol=0.006)
    np.testing.assert_allclose(
        sums["disputes"] / sums["volume"], merchants.loc[sums.index, "dispute_rate"], atol=1e-5
    )


def money(text: str, label: str) -> float:
    match = re.search(rf"{re.escape(label)}\s+(-?)\$([\d,]+)", text)
    assert match, label
    return float(match.group(2).replace(",", "")) * (-1 if match.group(1) else 1)


def test_financial_statements_add_up(portfolio: PortfolioFiles):
    documents = pd.read_csv(portfolio.documents, keep_default_na=False)
    statements = documents[
        (documents["doc_type"] == "financial_statements") & (documents["format"] == "html")
    ]
    checked = 0
    for path in statements["path"].head(40):
        text = re.sub(r"</td><td>", "  ", (portfolio.root / path).read_text())
        revenue, cogs, gross = (money(text, k) for k in ("Revenue", "Cost of goods sold", "Gross profit"))
        assert revenue - cogs == gross
        assert gross - money(text, "Operating expenses") == money(text, "Operating income")
        net = money(text, "Operating income") - money(text, "Interest expense") - money(text, "Income tax")
        assert net == money(text, "Net income")
        assets = money(text, "Total assets")
        liabilities = money(text, "Total current liabilities") + money(text, "Long-term debt")
        assert assets == pytest.approx(liabilities + money(text, "Owners&#x27; equity"), abs=1)
        checked += 1
    assert checked == 40


def test_pdf_documents_are_well_formed(portfolio: PortfolioFiles):
    documents = pd.read_csv(portfolio.documents, keep_default_na=False)
    for path in documents.loc[documents["format"] == "pdf", "path"].head(20):
        data = (portfolio.root / path).read_bytes()
        assert data.startswith(b"%PDF-1.4") and data.rstrip().endswith(b"%%EOF")
        xref_at = int(data.rsplit(b"startxref", 1)[1].split()[0])
        assert data[xref_at:].startswith(b"xref")
        entries = data[xref_at:].split(b"\n")[3:]
        for number, entry in enumerate(entries, start=1):
            if not entry.endswith(b" n "):
                break
            offset = int(entry[:10])
            assert data[offset:].startswith(b"%d 0 obj" % number)


def test_outcomes_depend_on_facts_found_only_in_documents(tmp_path: Path):
    files = generate_portfolio(tmp_path / "big", merchants=6000, seed=5, progress=False)
    merchants = pd.read_csv(files.merchants)
    truth = pd.read_csv(files.truth)
    frame = merchants.merge(truth, on="merchant_id")
    frame = frame[frame["status"] == "historical"]
    hidden = frame["going_concern"] | frame["adverse_news"] | frame["litigation"] | frame["supplier_problems"]
    assert frame.loc[hidden, "default_12m"].mean() > 2 * frame.loc[~hidden, "default_12m"].mean()
    documents = pd.read_csv(files.documents, keep_default_na=False)
    going = set(frame.loc[frame["going_concern"], "merchant_id"])
    statement_paths = documents[
        (documents["doc_type"] == "financial_statements") & documents["merchant_id"].isin(going)
    ]
    html = statement_paths[statement_paths["format"] == "html"]["path"].head(5)
    assert all("going concern" in (files.root / p).read_text() for p in html)


def test_refuses_to_overwrite_and_leaves_nothing_partial(tmp_path: Path):
    files = generate_portfolio(tmp_path / "pf", merchants=30, seed=1, progress=False)
    before = tree_digest(files.root)
    with pytest.raises(UnderwriterError, match="--force"):
        generate_portfolio(tmp_path / "pf", merchants=40, seed=2, progress=False)
    assert tree_digest(files.root) == before
    with pytest.raises(UnderwriterError, match="between 1 and"):
        generate_portfolio(tmp_path / "other", merchants=0, seed=2, progress=False)
    generate_portfolio(tmp_path / "pf", merchants=40, seed=2, force=True, progress=False)
    assert json.loads(files.manifest.read_text())["merchants"] == 40
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pf"]
