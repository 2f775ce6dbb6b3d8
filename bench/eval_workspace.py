"""The workspace every evaluation bench needs: the demo portfolio, its model and indexes, and the Lending
Club model and case library trained on the shared file (each built only when missing)."""

from __future__ import annotations

from pathlib import Path

from assistant.jobs.demo import run_demo
from assistant.jobs.index_build import build_indexes
from assistant.jobs.modeling import train_model
from assistant.settings import Settings
from assistant.workspace import Workspace
from models.store.versioned import has_current

REPO = Path(__file__).resolve().parents[1]
LENDING_CLUB = REPO / "data" / "lc_small_business_2007_2010.csv"


def prepare(settings: Settings) -> Path:
    """Build what is missing; return the Lending Club model's folder."""
    if not Workspace(settings).has_model() or not Workspace(settings).indexes_current():
        run_demo(settings, progress=False)
        build_indexes(settings, progress=False)
    lc_model = settings.workspace / "models" / "lending_club"
    if not has_current(lc_model):
        train_model(settings, spec="lending_club", data=LENDING_CLUB, out=lc_model, progress=False)
    if not has_current(Workspace(settings).case_library_dir("lending_club_small_business")):
        build_indexes(settings, spec="lending_club", data=LENDING_CLUB, model=lc_model, progress=False)
    return lc_model
