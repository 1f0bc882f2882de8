"""All settings in one typed class, read from the environment or `.env`."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from backend.core.redact import remember_secrets


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # production: accounts are required unless AUTH_REQUIRED says otherwise, and SECRET_KEY must
    # be set. development (the default, `make dev`): one user on a laptop, no login.
    ENVIRONMENT: Literal["development", "production"] = "development"

    # Unset: the app starts an embedded PostgreSQL under DATA_DIR/postgres.
    DATABASE_URL: str | None = None
    DATA_DIR: Path = Path("data")

    LLM_API_BASE: str | None = None
    GEMINI_API_KEY: SecretStr | None = None
    OPENAI_API_KEY: SecretStr | None = None
    LLM_TIMEOUT_SECONDS: float = Field(60.0, gt=0)
    RETRY_MAX_ATTEMPTS: int = Field(3, ge=1, le=10)
    RETRY_BACKOFF_FACTOR: float = Field(2.0, ge=0)
    RETRY_MAX_WAIT_SECONDS: float = Field(60.0, ge=0)

    LOG_LEVEL: str = "INFO"
    DEBUG: bool = False

    MAX_UPLOAD_MB: float = Field(50.0, gt=0)
    # Workers (backend/worker): the API process also runs one unless EMBEDDED_WORKER is false
    # (compose runs `python -m backend.worker` services instead).
    EMBEDDED_WORKER: bool = True
    # A task is queued as jobs of this many samples; workers share a task's jobs.
    TASK_BATCH_SIZE: int = Field(100, ge=1, le=10_000)
    # Jobs one worker process runs at once.
    WORKER_CONCURRENCY: int = Field(8, ge=1, le=256)
    # A worker silent for this long is presumed dead: its jobs go back to the queue. A worker
    # that cannot reach the database stops calling after half of it, so no job runs twice.
    WORKER_STALLED_SECONDS: float = Field(30.0, ge=3)
    # A worker process serves its Prometheus metrics (LLM calls, tokens, cost) on this port;
    # 0: not at all (compose sets 9100 inside the worker containers).
    WORKER_METRICS_PORT: int = Field(0, ge=0, le=65535)

    # Provider-wide limits, per provider and model, shared by every task and worker (0 = none).
    LLM_MAX_CONCURRENT_CALLS: int = Field(0, ge=0)
    LLM_MAX_CALLS_PER_MINUTE: int = Field(0, ge=0)
    # With temperature 0, an identical call (provider, model, messages) is answered from the cache.
    LLM_CACHE: bool = True

    # Built dashboard; served at / when the directory exists.
    FRONTEND_DIR: Path = Path("frontend/out")
    CORS_ORIGINS: list[str] = []

    # Accounts. Unset AUTH_REQUIRED follows ENVIRONMENT (true in production).
    AUTH_REQUIRED: bool | None = None
    # Signs dashboard session tokens. Required in production; in development a random one is
    # kept in DATA_DIR/.secret_key.
    SECRET_KEY: SecretStr | None = None
    SESSION_MINUTES: int = Field(480, ge=5, le=43200)
    # The first admin, created at start-up when no account exists yet.
    ADMIN_USERNAME: str | None = None
    ADMIN_PASSWORD: SecretStr | None = None
    # Requests per RATE_LIMIT_WINDOW_SECONDS, per account and per client address.
    LOGIN_RATE_LIMIT: int = Field(10, ge=1)
    UPLOAD_RATE_LIMIT: int = Field(60, ge=1)
    START_RATE_LIMIT: int = Field(30, ge=1)
    RATE_LIMIT_WINDOW_SECONDS: int = Field(60, ge=1)

    # Caps on what one request may make the service hold or do.
    MAX_TASK_SAMPLES: int = Field(100_000, ge=1)
    # An LLM task's `calibration_samples` (reference rows predicted to calibrate its intervals).
    MAX_CALIBRATION_SAMPLES: int = Field(200, ge=0, le=10_000)
    # The iteration history of a larger task is served in pages (limit/offset) of at most this.
    HISTORY_MAX_UNPAGED_SAMPLES: int = Field(2000, ge=1)
    # JSON request bodies (uploads are capped by MAX_UPLOAD_MB).
    MAX_JSON_BODY_KB: int = Field(1024, ge=1)

    def model_post_init(self, _context: object) -> None:
        # Whatever this process is configured with is redacted from stored and logged messages.
        remember_secrets(
            s.get_secret_value() if s else None
            for s in (
                self.OPENAI_API_KEY,
                self.GEMINI_API_KEY,
                self.SECRET_KEY,
                self.ADMIN_PASSWORD,
            )
        )

    @property
    def auth_required(self) -> bool:
        if self.AUTH_REQUIRED is not None:
            return self.AUTH_REQUIRED
        return self.ENVIRONMENT == "production"

    @property
    def datasets_dir(self) -> Path:
        return self.DATA_DIR / "datasets"  # the only place request paths may name

    @property
    def max_json_body_bytes(self) -> int:
        return self.MAX_JSON_BODY_KB * 1024

    @property
    def max_upload_bytes(self) -> int:
        return int(self.MAX_UPLOAD_MB * 1024 * 1024)


@lru_cache
def get_settings() -> Settings:
    return Settings()
