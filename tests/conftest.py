"""Shared fixtures: a small real portfolio and a real trained model, built once per session."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from assistant.jobs.modeling import TrainOutcome, train_model
from assistant.settings import Settings, load_settings
from models.demo_data.generate import PortfolioFiles, generate_portfolio

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
LENDING_CLUB = REPO / "data" / "lc_small_business_2007_2010.csv"


def require_file(path: Path) -> Path:
    """Skip when a real-data file is absent on a user's machine; in CI its absence is a failure."""
    if path.is_file():
        return path
    if os.environ.get("CI") == "true":
        pytest.fail(f"{path} is missing in CI (../shared/data should sit beside the checkout)")
    pytest.skip(f"{path} not present")


@pytest.fixture(scope="session")
def portfolio(tmp_path_factory: pytest.TempPathFactory) -> PortfolioFiles:
    return generate_portfolio(
        tmp_path_factory.mktemp("pf") / "portfolio", merchants=1500, seed=11, progress=False
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(None, workspace=tmp_path / "workspace", threads=2)


@pytest.fixture(scope="session")
def embedder():  # -> models.backends.embedders.Embedder
    """The real embedded MiniLM model, loaded once (about 6 s)."""
    from models.backends.embedders import load_embedder

    return load_embedder(threads=2)


RealModel = Callable[..., TrainOutcome]


@pytest.fixture(scope="session")
def real_model(tmp_path_factory: pytest.TempPathFactory) -> RealModel:
    """A model trained by the default recipe on a real file, once per session for each (spec, file,
    test_from): ``real_model("lending_club", LENDING_CLUB, test_from=date(2010, 1, 1))``. The tests that
    read such a model share it; a test that checks training itself still trains its own."""
    made: dict[tuple[str, Path, date | None], TrainOutcome] = {}

    def trained(spec: str, file: Path, *, test_from: date | None = None) -> TrainOutcome:
        key = (spec, file, test_from)
        if key not in made:
            settings = load_settings(None, workspace=tmp_path_factory.mktemp(f"real-{spec}"), threads=2)
            out = settings.workspace / spec
            made[key] = train_model(
                settings, spec=spec, data=require_file(file), out=out, test_from=test_from, progress=False
            )
        return made[key]

    return trained


@pytest.fixture(scope="session")
def trained(portfolio: PortfolioFiles, tmp_path_factory: pytest.TempPathFactory) -> TrainOutcome:
    settings = load_settings(None, workspace=tmp_path_factory.mktemp("ws"), threads=2)
    return train_model(
        settings,
        spec="merchant_portfolio",
        data=portfolio.merchants,
        out=settings.workspace / "model",
        progress=False,
    )


@pytest.fixture(scope="session")
def memo_workspace(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A small demo workspace with its document index and case library, and settings that keep the
    embedded LLM's answers short (tests exercise the real model, briefly)."""
    from assistant.jobs.index_build import build_indexes

    settings = load_settings(
        None,
        workspace=tmp_path_factory.mktemp("memo") / "ws",
        threads=2,
        demo={"merchants": 150, "seed": 5},
        llm={"max_tokens": 24},
        memo={"similar_cases": 3},
    )
    build_indexes(settings, progress=False)
    return settings
