"""The one settings object. Built once (``Settings()``), handed down; nothing else reads the environment."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from ayka.bus import WorkerKind


class DiarizeBackend(enum.StrEnum):
    OFF = "off"
    OFFLINE = "offline"  # resemblyzer encoder + Silero VAD + agglomerative clustering
    PYANNOTE = "pyannote"


class ArchiveFormat(enum.StrEnum):
    FLAC = "flac"
    WAV = "wav"


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class Settings(BaseSettings):
    """Every knob of the platform. Environment variables are ``AYKA_<FIELD>`` (case-insensitive)."""

    model_config = SettingsConfigDict(env_prefix="AYKA_", extra="ignore", validate_default=True)

    # --- where it listens, where it keeps things
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    data_dir: Path = Path(".ayka")
    public_url: str = ""  # how clients reach the gateway (signed download links); default http://host:port
    web_dir: Path | None = None  # the built web UI (Next.js export); default <repo>/web/out
    metrics_port: int = Field(0, ge=0, le=65535)  # workers: serve Prometheus /metrics here (0 = off)
    # Worker kinds the gateway's /readyz waits for (at least one live worker of each); `ayka up` sets it
    # to every kind it starts.
    required_workers: Annotated[list[WorkerKind], NoDecode] = Field(
        default_factory=lambda: [WorkerKind.ASR, WorkerKind.RECORDER]
    )

    # --- outside services; empty means "start an embedded one under data_dir"
    nats_url: str = ""
    database_url: str = ""
    archive_url: str = ""  # file:///path or s3://bucket/prefix; default file://<data_dir>/archive
    archive_format: ArchiveFormat = ArchiveFormat.FLAC
    s3_endpoint_url: str = ""  # any S3-compatible endpoint; empty = AWS
    s3_region: str = "us-east-1"
    s3_access_key_id: str = ""
    s3_secret_access_key: str = ""

    # --- secrets (generated into data_dir on first start when empty; never in the repo)
    jwt_secret: str = ""
    url_signing_secret: str = ""

    # --- streaming ASR
    asr_workers: int = Field(1, ge=0, le=64)
    asr_model: str = "tiny.en"  # a faster-whisper name, or a local CTranslate2 model directory
    asr_device: str = "cpu"  # cpu | cuda | auto
    asr_compute_type: str = ""  # default: int8 on CPU, float16 on CUDA
    asr_cpu_threads: int = Field(0, ge=0)  # threads per model call; 0 = cores / parallel calls
    asr_parallel_calls: int = Field(0, ge=0)  # model calls in flight at once; 0 = one per core on CPU
    # While a worker serves at most this many sessions, its model calls run one at a time on every core (a
    # second instance of the model, loaded on CPU with parallel calls): 1.6x faster per call for a lone
    # session, which then updates as often as that call allows (calibration; N sessions take turns, so N
    # times that). No previews while calls are on every core: nothing runs beside them. 0 = off.
    asr_wide_sessions: int = Field(1, ge=0)
    # Concurrent sessions one worker accepts; empty: measured when the worker starts (calibration).
    asr_capacity: int | None = Field(None, ge=1)
    # Update intervals: asr_update_s while a worker serves at most asr_fast_sessions sessions (lowest
    # latency), asr_loaded_update_s with more; beyond asr_quick_sessions every decode encodes a short
    # window too (empty: as many as the calibration finds room for on full windows). Defaults measured for
    # tiny.en on 2 CPU cores (bench/README.md); raise both session counts on a GPU.
    asr_update_s: float = Field(0.6, gt=0.05, le=10.0)
    asr_loaded_update_s: float = Field(1.0, gt=0.05, le=10.0)
    asr_fast_sessions: int = Field(1, ge=0)
    asr_quick_sessions: int | None = Field(None, ge=0)
    # No live session updates more often than this; empty: measured when the worker starts (calibration).
    asr_min_update_s: float | None = Field(None, ge=0.0, le=10.0)
    # A session in speech gets a quick look at its newest audio this often (s) for earlier interims, on a
    # model slot that is idle (never with one parallel call, so never on a GPU's single queue); 0 = off,
    # the default: on 2 cores it costs finalization latency (bench/README.md). Try 0.3 with spare cores.
    asr_preview_s: float = Field(0.0, ge=0.0, le=10.0)
    asr_beam_size: int = Field(1, ge=1, le=10)
    # A buffer trim keeps this much transcribed speech (s) before the newest words as context for them:
    # fewer wrong words at utterance starts, a little more decoding per update (bench/README.md).
    asr_context_s: float = Field(3.0, ge=0.0, le=7.0)
    asr_lease_ttl_s: float = Field(4.0, ge=1.0)
    # Encoder window sizes (s): the smallest that holds the buffer is used. (10, 20, 30) halves CPU per
    # audio second at some accuracy cost; 30 alone is the most accurate (bench/README.md).
    asr_window_buckets_s: Annotated[list[float], NoDecode] = Field(default_factory=lambda: [30.0])

    # --- diarization
    diarize_backend: DiarizeBackend = DiarizeBackend.OFFLINE
    hf_token: str = ""
    pyannote_pipeline: str = ""  # local folder with config.yaml, or a hub id (needs hf_token)

    # --- agents and webhooks
    llm_model: str = ""  # a LiteLLM model string; empty with no base url = offline extractor
    llm_base_url: str = ""  # OpenAI-compatible endpoint (vLLM, Ollama)
    llm_api_key: str = ""
    llm_timeout_s: float = Field(60.0, gt=0)
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = ""
    smtp_allow_plaintext_login: bool = False  # a trusted relay without TLS; else never log in unencrypted
    webhook_allow_private: bool = False
    expo_push_url: str = ""  # empty = record that a push would have been sent

    # --- WebRTC
    webrtc_host_addresses: Annotated[list[str], NoDecode] = Field(
        default_factory=list
    )  # ICE host candidates; empty = all interfaces
    webrtc_ice_servers: Annotated[list[str], NoDecode] = Field(default_factory=list)  # stun:/turn: URLs

    # --- limits and security
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    ws_allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    max_streams_per_owner: int = Field(10, ge=1)
    max_session_s: float = Field(4 * 3600.0, gt=0)
    max_frame_bytes: int = Field(256 * 1024, ge=1024)
    max_buffered_audio_s: float = Field(30.0, gt=0)
    idle_timeout_s: float = Field(10.0, gt=0)
    max_upload_bytes: int = Field(1024 * 1024 * 1024, ge=1024)
    rate_limit_per_minute: int = Field(600, ge=1)
    retention_days: int = Field(0, ge=0)  # 0 = keep audio forever
    sentry_dsn: str = ""
    log_level: str = "INFO"

    @field_validator(
        "cors_origins",
        "ws_allowed_origins",
        "webrtc_host_addresses",
        "webrtc_ice_servers",
        "required_workers",
        mode="before",
    )
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("asr_min_update_s", "asr_capacity", "asr_quick_sessions", mode="before")
    @classmethod
    def _auto(cls, value: object) -> object:
        return None if isinstance(value, str) and value.strip().lower() in {"", "auto"} else value

    @field_validator("asr_preview_s")
    @classmethod
    def _preview_floor(cls, value: float) -> float:
        if 0.0 < value < 0.1:
            raise ValueError("must be 0 (off) or at least 0.1 seconds")
        return value

    @field_validator("asr_window_buckets_s", mode="before")
    @classmethod
    def _buckets(cls, value: object) -> object:
        if isinstance(value, str):
            return [float(v) for v in value.split(",") if v.strip()]
        return value

    @field_validator("asr_window_buckets_s")
    @classmethod
    def _bucket_range(cls, value: list[float]) -> list[float]:
        if not value or any(not 1.0 <= v <= 30.0 for v in value) or max(value) != 30.0:
            raise ValueError(
                "must be comma-separated seconds between 1 and 30, ending with 30 (e.g. 10,20,30)"
            )
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @field_validator("asr_device")
    @classmethod
    def _device(cls, value: str) -> str:
        if value not in {"cpu", "cuda", "auto"}:
            raise ValueError("must be cpu, cuda or auto")
        return value

    @field_validator("nats_url")
    @classmethod
    def _nats(cls, value: str) -> str:
        if value and not value.startswith(("nats://", "tls://", "ws://", "wss://")):
            raise ValueError("must start with nats:// (or tls://, ws://, wss://)")
        return value

    @field_validator("database_url")
    @classmethod
    def _db(cls, value: str) -> str:
        if value and not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("must be a postgresql:// URL")
        return value

    @model_validator(mode="after")
    def _archive(self) -> Settings:
        if not self.archive_url:
            self.archive_url = (self.data_dir.resolve() / "archive").as_uri()
        elif not self.archive_url.startswith(("file://", "s3://")):
            raise ValueError("AYKA_ARCHIVE_URL must be file:///path or s3://bucket/prefix")
        return self

    @property
    def gateway_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"

    @property
    def compute_type(self) -> str:
        if self.asr_compute_type:
            return self.asr_compute_type
        return "float16" if self.asr_device == "cuda" else "int8"


def describe_error(exc: Exception) -> str:
    """One line per bad ``AYKA_*`` value, for start-up errors."""
    from pydantic import ValidationError

    if not isinstance(exc, ValidationError):
        return str(exc)
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        name = f"AYKA_{loc.upper()}" if loc else "AYKA_*"
        lines.append(f"{name}: {err['msg']} (got {err.get('input')!r})")
    return "; ".join(lines)
