"""Versioned, hash-checked model artifacts. Never pickle.

Layout of a model directory::

    MODEL_DIR/CURRENT               name of the current version (switched atomically)
    MODEL_DIR/versions/v0001/       one training run, never overwritten
        booster.ubj                 XGBoost's own binary format (kinds xgboost and blend)
        scorecard.json              bins, WoE, coefficients, points (kinds scorecard and blend)
        blend.json                  the blend's weight and member calibrations (kind blend)
        calibrator.json             Platt parameters
        features.json               feature order, types, categories
        spec.yaml                   the dataset spec trained on
        policy.yaml                 the credit policy in force
        metrics.json                evaluation metrics
        population.json             each numeric feature's quantiles in the training data (explanations)
        model_card.md, plots/*.png  human-readable reports
        manifest.json               SHA-256 of every file above, training data hash, params

Loading verifies every hash and refuses a model whose files were changed. The manifest's
``model_kind`` (``xgboost`` when absent, as in models written before it existed) says which
predictor files belong to the scoring set (:mod:`models.learning.predictors`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import xgboost as xgb

from models.data.policy import Policy, load_policy
from models.data.population import Population
from models.data.spec import DatasetSpec, load_spec
from models.errors import ArtifactError, UnderwriterError
from models.learning.calibration import PlattCalibrator
from models.learning.features import FeatureEncoder
from models.learning.predictors import (
    BlendPredictor,
    BlendWeights,
    BoosterPredictor,
    Predictor,
    ScorecardPredictor,
    TextStackedPredictor,
)
from models.learning.scorecard import Scorecard
from models.store.integrity import check_model_pin, check_signature
from models.store.versioned import (
    CURRENT,
    MANIFEST,
    VERSION_RE,
    current_version,
    file_problems,
    publish_version,
)

FORMAT = "underwriter-model"
FORMAT_VERSION = 1
COMMON_SCORING_FILES = ("calibrator.json", "features.json", "spec.yaml", "policy.yaml")
KIND_FILES = {
    "xgboost": ("booster.ubj",),
    "scorecard": ("scorecard.json",),
    "blend": ("booster.ubj", "scorecard.json", "blend.json"),
}
SCORING_FILES = ("booster.ubj", *COMMON_SCORING_FILES)
"""The scoring files of an ``xgboost`` model (the default kind)."""


def scoring_files(kind: str) -> tuple[str, ...]:
    if kind not in KIND_FILES:
        raise ArtifactError(f"unknown model kind {kind!r}; this Underwriter reads {', '.join(KIND_FILES)}")
    return (*KIND_FILES[kind], *COMMON_SCORING_FILES)


@dataclass
class RiskModel:
    """A loaded, verified model version: everything needed to score."""

    path: Path
    version: str
    model_id: str
    """SHA-256 over the scoring files: identifies exactly what produced a score."""
    predictor: Predictor
    calibrator: PlattCalibrator
    encoder: FeatureEncoder
    spec: DatasetSpec
    policy: Policy
    manifest: dict
    population: Population | None = None
    """Where each numeric feature's values lay in the training data (None for older models)."""

    @property
    def label(self) -> str:
        return f"{self.spec.name}/{self.version}"

    @property
    def kind(self) -> str:
        return self.predictor.kind

    @property
    def booster(self) -> xgb.Booster:
        """The booster of an ``xgboost`` model, or of a blend's tree member."""
        predictor = (
            self.predictor.inner if isinstance(self.predictor, TextStackedPredictor) else self.predictor
        )
        if isinstance(predictor, BoosterPredictor):
            return predictor.booster
        if isinstance(predictor, BlendPredictor):
            return predictor.booster.booster
        raise AttributeError(f"a {self.kind} model has no booster")


def _model_id(hashes: dict[str, str], kind: str = "xgboost") -> str:
    names = SCORING_FILES if kind == "xgboost" else scoring_files(kind)
    joined = "\n".join(f"{name}:{hashes[name]}" for name in names)
    return hashlib.sha256(joined.encode()).hexdigest()


def write_model_version(root: str | Path, files: dict[str, bytes], manifest: dict) -> Path:
    """Write a new version under ``root`` and make it current, atomically.

    ``files`` maps relative paths (``plots/roc.png``) to their bytes. Earlier versions are never
    touched (see :mod:`models.store.versioned`).
    """
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise UnderwriterError(f"model directory {root} exists and is not a directory")
    if root.is_dir() and any(root.iterdir()) and not (root / "versions").is_dir():
        raise UnderwriterError(
            f"{root} is not empty and is not a model directory (no versions/ inside); "
            "choose a new --out so that nothing there is overwritten"
        )

    def fill(folder: Path) -> None:
        for relative, data in sorted(files.items()):
            target = folder / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)

    def body(version: str, hashes: dict[str, str]) -> dict:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "version": version,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "xgboost_version": xgb.__version__,
            **manifest,
            "model_id": _model_id(hashes, manifest.get("model_kind", "xgboost")),
        }

    return publish_version(root, fill, body)


def resolve_version_dir(path: str | Path) -> Path:
    """A model root (follow ``CURRENT``) or a version folder (has ``manifest.json``)."""
    path = Path(path)
    if (path / MANIFEST).is_file():
        return path
    version = current_version(path)
    if version is not None:
        if not VERSION_RE.match(version) or not (path / "versions" / version / MANIFEST).is_file():
            raise ArtifactError(
                f"{path / CURRENT} names version {version!r}, which does not exist in {path / 'versions'}"
            )
        return path / "versions" / version
    if not path.exists():
        raise ArtifactError(
            f"no model at {path}: the folder does not exist (train one with `underwrite train`)"
        )
    raise ArtifactError(
        f"{path} is not a model directory: it names no current version and has no manifest.json"
    )


def verify(version_dir: Path) -> dict:
    """Check the manifest and every file hash; return the manifest."""
    try:
        manifest = json.loads((version_dir / MANIFEST).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ArtifactError(f"{version_dir}/manifest.json is unreadable: {exc}") from None
    if manifest.get("format") != FORMAT:
        raise ArtifactError(f"{version_dir} is not an Underwriter model (format {manifest.get('format')!r})")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ArtifactError(
            f"{version_dir} has model format version {manifest.get('format_version')}, "
            f"this Underwriter reads version {FORMAT_VERSION}"
        )
    files = manifest.get("files") or {}
    kind = str(manifest.get("model_kind", "xgboost"))
    problems = []
    for name in scoring_files(kind):
        if name not in files:
            problems.append(f"{name} is not listed in the manifest")
    for found in file_problems(version_dir, files):
        if found.actual is None:
            problems.append(f"{found.name} is missing")
        else:
            problems.append(f"{found.name} does not match its SHA-256 in the manifest (modified or corrupt)")
    check_signature(manifest, str(version_dir))
    if not problems and manifest.get("model_id") != _model_id(files, kind):
        problems.append("model_id does not match the file hashes")
    if problems:
        raise ArtifactError(f"refusing to load model {version_dir}: " + "; ".join(problems))
    check_model_pin(str(manifest.get("model_id")), str(version_dir))
    return manifest


def load_model(path: str | Path, nthread: int = 0) -> RiskModel:
    """Load and verify a model (root folder or version folder)."""
    version_dir = resolve_version_dir(path)
    manifest = verify(version_dir)
    encoder = FeatureEncoder.from_dict(json.loads((version_dir / "features.json").read_text()))
    return RiskModel(
        path=version_dir,
        version=manifest["version"],
        model_id=manifest["model_id"],
        predictor=_with_text(
            _load_predictor(version_dir, str(manifest.get("model_kind", "xgboost")), encoder, nthread),
            encoder,
        ),
        calibrator=PlattCalibrator.from_dict(json.loads((version_dir / "calibrator.json").read_text())),
        encoder=encoder,
        spec=load_spec(version_dir / "spec.yaml"),
        policy=load_policy(version_dir / "policy.yaml"),
        manifest=manifest,
        population=Population.read(version_dir),
    )


def _with_text(predictor: Predictor, encoder: FeatureEncoder) -> Predictor:
    """Stack the text score on the model when its encoder carries one (``models.learning.text_signal``)."""
    return TextStackedPredictor(predictor, encoder.text.beta, encoder.text) if encoder.text else predictor


def _load_predictor(version_dir: Path, kind: str, encoder: FeatureEncoder, nthread: int) -> Predictor:
    encoder = replace(encoder, text=None)  # the members read the columns before the text score

    def booster() -> BoosterPredictor:
        loaded = xgb.Booster()
        try:
            loaded.load_model(bytearray((version_dir / "booster.ubj").read_bytes()))
        except xgb.core.XGBoostError as exc:
            raise ArtifactError(f"{version_dir}/booster.ubj could not be read by XGBoost: {exc}") from None
        loaded.set_param({"nthread": nthread})
        return BoosterPredictor(loaded, encoder)

    def card() -> ScorecardPredictor:
        try:
            return ScorecardPredictor(
                Scorecard.from_dict(json.loads((version_dir / "scorecard.json").read_text()))
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ArtifactError(f"{version_dir}/scorecard.json is not a scorecard: {exc}") from None

    if kind == "xgboost":
        return booster()
    if kind == "scorecard":
        return card()
    weights = BlendWeights.from_dict(json.loads((version_dir / "blend.json").read_text()))
    return BlendPredictor(booster(), card(), weights)
