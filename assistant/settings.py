"""One settings tree for the whole application.

Sources, strongest first: explicit overrides (CLI flags), ``UNDERWRITER_*``
environment variables (nested with ``__``, e.g. ``UNDERWRITER_TRAINING__MAX_DEPTH=5``),
the TOML file (``--config``, else ``$UNDERWRITER_CONFIG``, else ``./underwriter.toml``
when present), then the defaults below. Loaded at the edges (CLI, app) and
passed down; nothing reads settings at import time.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from models.backends.llm_params import LLMParams
from models.errors import UnderwriterError
from models.training.config import TrainConfig
from retrieval.documents.limits import ReaderLimits
from retrieval.similar_cases.weights import CaseWeights

DEFAULT_CONFIG_FILE = "underwriter.toml"


DEMO_MERCHANTS = 2000
"""The default demo: about 400 applicants and 1,600 past merchants, about 13,000 passages (its index
builds in the background in about 5 minutes on a 2-core AVX2 CPU)."""
LARGE_DEMO_MERCHANTS = 5000
"""``--large``: the portfolio the benchmarks in docs/benchmarks.md use."""


class DemoSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    merchants: int = Field(DEMO_MERCHANTS, ge=100, le=2_000_000)
    seed: int = 7


class TrainingSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_depth: int = Field(4, ge=1, le=12)
    learning_rate: float = Field(0.05, gt=0, le=1)
    max_rounds: int = Field(1000, ge=1)
    early_stopping_rounds: int = Field(50, ge=1)
    seed: int = 42

    def to_config(self, nthread: int) -> TrainConfig:
        return TrainConfig(
            max_depth=self.max_depth,
            learning_rate=self.learning_rate,
            max_rounds=self.max_rounds,
            early_stopping_rounds=self.early_stopping_rounds,
            seed=self.seed,
            nthread=nthread,
        )


class ReaderLimitSettings(BaseModel):
    """Hard limits for reading untrusted documents (see retrieval.documents.limits)."""

    model_config = ConfigDict(extra="forbid")

    max_megabytes: float = Field(25, gt=0)
    max_pages: int = Field(1000, ge=1)
    max_ratio: float = Field(100, ge=1)
    max_unpacked_megabytes: float = Field(100, gt=0)
    max_chars: int = Field(5_000_000, ge=1000)
    max_seconds: float = Field(30, gt=0)
    max_memory_mb: int = Field(1024, ge=64)

    def to_limits(self) -> ReaderLimits:
        return ReaderLimits(
            max_bytes=int(self.max_megabytes * 1024 * 1024),
            max_pages=self.max_pages,
            max_ratio=self.max_ratio,
            max_unpacked_bytes=int(self.max_unpacked_megabytes * 1024 * 1024),
            max_chars=self.max_chars,
            max_seconds=self.max_seconds,
            max_memory_mb=self.max_memory_mb,
        )


class IndexSettings(BaseModel):
    """Documents, embeddings, the FAISS indexes and the similar-case library."""

    model_config = ConfigDict(extra="forbid")

    embedder: str = "minilm"
    """``minilm`` (the embedded all-MiniLM-L6-v2), one of its faster forms (``minilm-onnx``,
    ``minilm-onnx-int8``, ``minilm-static``: docs/benchmarks.md compares them), or a local
    sentence-transformers folder."""
    embedder_precision: Literal["auto", "float32", "bfloat16"] = "auto"
    """``auto``: bfloat16 where the CPU has native bf16 kernels (2.4x faster here), else float32."""
    chunk_tokens: int = Field(0, ge=0)
    """Largest chunk in word pieces; 0 = the embedder's limit minus 16."""
    overlap_tokens: int = Field(48, ge=0)
    exact_below: int = Field(50_000, ge=1)
    """Stores smaller than this use exact search; larger ones IVF with tuned nprobe."""
    semantic_screening: bool = True
    """Screen documents also by meaning (embedder similarity to instruction prototypes), not by rules alone."""
    parser_workers: int = Field(2, ge=0, le=64)
    """Sandboxed parser processes (0 = parse in-process, for trusted files only)."""
    case_profile: Literal["features", "contributions", "risk"] = "risk"
    """Similar cases compare the model's view (``risk``: per-feature contributions and their total, so
    neighbours are risky for the same reasons and about as risky), the contributions alone, or feature
    quantiles; chosen by measurement (docs/retrieval.md). A library built without a model uses features."""
    tabular_weight: float = Field(0.8, ge=0, le=1)
    """Similar cases: weight of the tabular profile (the model's view or the features); the narrative gets
    the rest. 0.8 with the ``risk`` profile: measured in docs/retrieval.md."""
    outcome_window_days: int = Field(365, ge=0)
    """Days after a decision before its outcome counts as known (the portfolio's outcome is 12-month loss)."""
    limits: ReaderLimitSettings = ReaderLimitSettings()

    def case_weights(self) -> CaseWeights:
        return CaseWeights(round(self.tabular_weight, 10), round(1.0 - self.tabular_weight, 10))


class LLMSettings(BaseModel):
    """The LLM that writes narrative (never scores): the embedded model unless configured otherwise."""

    model_config = ConfigDict(extra="forbid")

    backend: Literal["llamacpp", "openai", "transformers"] = "llamacpp"
    model: str | None = None
    """GGUF file (llamacpp; default: the embedded SmolLM2), model name (openai) or local folder (transformers)."""
    base_url: str | None = None
    """For ``openai``: e.g. ``http://127.0.0.1:8000/v1``."""
    temperature: float = Field(0.0, ge=0, le=2)
    seed: int = 7
    max_tokens: int = Field(256, ge=1, le=8192)
    context_size: int = Field(4096, ge=256)
    timeout_s: float = Field(60, gt=0)

    def to_params(self, threads: int) -> LLMParams:
        return LLMParams(
            temperature=self.temperature,
            seed=self.seed,
            max_tokens=self.max_tokens,
            context_size=self.context_size,
            threads=threads or 2,
            timeout_s=self.timeout_s,
        )


class MemoSettings(BaseModel):
    """How much of each case the memo reads, and when LLM text gives way to extractive text."""

    model_config = ConfigDict(extra="forbid")

    max_chunks_per_document: int = Field(2, ge=1, le=50)
    """Map step: LLM calls per document at most (the first chunks)."""
    max_sentences_per_document: int = Field(3, ge=1, le=20)
    min_sentences: int = Field(1, ge=0)
    """Fewer validated LLM sentences than this and a section falls back to extractive text."""
    extractive_sentences: int = Field(2, ge=1, le=10)
    similar_cases: int = Field(5, ge=0, le=50)


class AuditSettings(BaseModel):
    """Where the audit trail lives: SQLite in the workspace, or ``postgresql://user@host/db``."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = None
    checkpoint: str | None = None
    """The append-only file each commit's chain heads go to; best on storage the database's users
    cannot rewrite. Default: beside a SQLite trail, or ``WORKSPACE/audit/postgres.checkpoints``."""
    key: SecretStr | None = None
    """HMAC key for rows and checkpoints; prefer the ``UNDERWRITER_AUDIT_KEY`` environment variable."""


class SparkSettings(BaseModel):
    """Portfolio jobs on Apache Spark (``underwrite batch ... --engine spark``)."""

    model_config = ConfigDict(extra="forbid")

    master: str = "local[*]"
    """``local[N]`` on one machine; ``spark://host:7077``, ``yarn`` or ``k8s://...`` on a cluster."""
    partition_by: list[str] = ["band"]
    """Output folders of the scores (``grade``, ``band``)."""
    conf: dict[str, str] = {}
    """Extra Spark settings, e.g. ``{"spark.executor.memory" = "4g"}``."""


class UISettings(BaseModel):
    """The Gradio workbench: where it listens, who may use it, and how much it accepts at once."""

    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    """Listen address; anything but loopback should sit behind authentication and a reverse proxy."""
    port: int = Field(7860, ge=0, le=65535)
    """0 = the first free port."""
    auth_file: Path | None = None
    """Users file written by ``underwrite ui-user add NAME``; unset = no login (loopback only)."""
    max_upload_mb: float = Field(20, gt=0, le=1024)
    queue_size: int = Field(32, ge=1)
    """Requests waiting beyond this are turned away with a message instead of queued."""
    llm_concurrency: int = Field(1, ge=1, le=16)
    """LLM-bound requests (memo, chat) running at once; the rest wait their turn."""
    concurrency: int = Field(4, ge=1, le=64)
    """Other requests (case pages, plots) running at once."""
    batch_max_cases: int = Field(500, ge=1)
    batch_workers: int = Field(1, ge=1, le=64)
    eval_dirs: list[Path] = [Path("bench/results/eval_baseline")]
    """Evaluation runs shown besides WORKSPACE/eval/runs (folders holding run folders)."""


EQUAL_CREDIT_STATEMENT = (
    "The federal Equal Credit Opportunity Act prohibits creditors from discriminating against credit "
    "applicants on the basis of race, color, religion, national origin, sex, marital status, or age "
    "(provided the applicant has the capacity to enter into a binding contract); because all or part of the "
    "applicant's income derives from any public assistance program; or because the applicant has in good "
    "faith exercised any right under the Consumer Credit Protection Act. You have the right to a statement "
    "of the specific reasons for this action: the principal reasons are stated above, and if you ask within "
    "60 days of this notice we will give them to you in writing, free of charge."
)


class LenderSettings(BaseModel):
    """Who sends adverse-action notices, and the statement of the applicant's rights they carry."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field("Underwriter Demo Payments Ltd", min_length=1)
    address: str = Field("1 Example Street, Springfield", min_length=1)
    contact: str = Field("credit-decisions@example.com", min_length=1)
    regulator: str = ""
    """The agency that oversees the lender's compliance, named on the notice when given."""
    rights_statement: str = Field(EQUAL_CREDIT_STATEMENT, min_length=20)


class ServiceSettings(BaseModel):
    """The online decision service (``underwrite serve``): where it listens, what it accepts, which models."""

    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    """Listen address; anything but loopback belongs behind TLS and a reverse proxy."""
    port: int = Field(8787, ge=0, le=65535)
    max_request_kb: float = Field(64, gt=0, le=10_240)
    """Larger request bodies are refused with 413 before they are read in full."""
    rate_per_minute: int = Field(1200, ge=1)
    """Requests per minute per API key unless the key was created with its own rate."""
    champion: str | None = None
    """The model that decides (a model folder); default the workspace's demo model."""
    challengers: dict[str, str] = {}
    """Name -> model folder: scored in shadow on every decision, never deciding."""
    shadow_queue: int = Field(10_000, ge=1)
    """Shadow scores waiting beyond this are dropped (and counted), never slowing a response."""
    memo_workers: int = Field(1, ge=1, le=16)
    workers: int = Field(2, ge=1, le=64)
    """Threads scoring decisions at once; about the number of cores (more only queue for Python's GIL)."""


class MonitorSettings(BaseModel):
    """The book monitor (``underwrite monitor``): what counts as a deterioration worth an alert."""

    model_config = ConfigDict(extra="forbid")

    pd_jump_ratio: float = Field(2.0, gt=1)
    """An alert when a merchant's PD is at least this multiple of its last month's ..."""
    pd_jump_min: float = Field(0.03, gt=0, lt=1)
    """... and higher by at least this much (absolute)."""
    watch: dict[str, Literal["up", "down"]] = {"monthly_volume": "down"}
    """Features watched against each merchant's own history, with the direction that is bad; added
    to the spec's monotone features (a +1 hint is watched going up, a -1 hint going down)."""
    z_alert: float = Field(4.0, gt=0)
    """A month this many robust standard deviations beyond the merchant's own history is a spike."""
    cusum_k: float = Field(0.5, ge=0)
    cusum_h: float = Field(5.0, gt=0)
    """CUSUM slack and decision limit (in standard deviations): a gradual drift that no single month shows."""
    min_change: float = Field(0.25, ge=0)
    """A spike must also move the feature by this share of its baseline (25%), so noise on a flat
    series does not page anyone."""
    min_history: int = Field(3, ge=2)
    """Months of a merchant's own history before its control chart is trusted."""
    repeat_after_months: int = Field(3, ge=1)
    """An alert kind already raised for a merchant is not raised again within this many months."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="UNDERWRITER_", env_nested_delimiter="__", extra="forbid")

    workspace: Path = Path("workspace")
    """Folder holding every artifact: demo data, models, scores."""
    threads: int = Field(2, ge=0, le=256)
    """Threads for XGBoost (0 = all cores). Results do not depend on it."""
    demo: DemoSettings = DemoSettings()
    training: TrainingSettings = TrainingSettings()
    index: IndexSettings = IndexSettings()
    llm: LLMSettings = LLMSettings()
    memo: MemoSettings = MemoSettings()
    audit: AuditSettings = AuditSettings()
    ui: UISettings = UISettings()
    spark: SparkSettings = SparkSettings()
    lender: LenderSettings = LenderSettings()
    service: ServiceSettings = ServiceSettings()
    monitor: MonitorSettings = MonitorSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))


def load_settings(config: str | Path | None = None, **overrides: Any) -> Settings:
    """Build settings from a TOML file, the environment and ``overrides``; clear errors on bad input."""
    path = Path(config) if config else Path(os.environ.get("UNDERWRITER_CONFIG", DEFAULT_CONFIG_FILE))
    explicit = config is not None or "UNDERWRITER_CONFIG" in os.environ
    if path.is_file():
        try:
            tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise UnderwriterError(f"settings file {path}: not valid TOML: {exc}") from None
    elif explicit:
        raise UnderwriterError(f"settings file {path} does not exist")
    toml_file = path if path.is_file() else None

    class FileSettings(Settings):
        model_config = SettingsConfigDict(toml_file=toml_file)

    try:
        return FileSettings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        details = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        origin = "flags, UNDERWRITER_* variables" + (f" or {toml_file}" if toml_file else "")
        raise UnderwriterError(f"invalid settings (from {origin}): {details}") from None
