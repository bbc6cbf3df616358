"""Real services for every test: Redis, and SQLite plus PostgreSQL where it runs.

- Redis: an embedded redis-server of this test session's own, on a free port,
  so two suites on one machine (two checkouts, a developer's and CI's) never
  share a queue. TEST_REDIS_URL names an external server instead, only when
  asked; tests then use its database TEST_REDIS_DB (default 13), or with
  pytest-xdist (`make test-fast` runs `-n auto`) the one after it per worker:
  each xdist worker is a session of its own. Each test flushes its database
  before and after.
- Databases: `database_url` runs a test on SQLite and on PostgreSQL (when
  TEST_DATABASE_URL is set or a server answers on 127.0.0.1:5432; in CI it
  must). Each session gets its own PostgreSQL database, created and dropped
  here, and every test starts from empty tables.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from peerdigest.config import Settings
from peerdigest.db.migrate import upgrade
from peerdigest.db.models import Base, School, User
from peerdigest.db.session import engine_for, session_scope
from peerdigest.dev.embedded_redis import EmbeddedRedis
from peerdigest.dev.seed import seed_demo
from peerdigest.queue.connection import connect

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
# pytest-xdist names its workers gw0, gw1, ...; each is a session of its own, with its own Redis database.
TEST_REDIS_DB = int(os.environ.get("TEST_REDIS_DB", "13")) + int(os.environ.get("PYTEST_XDIST_WORKER", "gw0")[2:])
ROOT = Path(__file__).resolve().parents[1]


def _postgres_base_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL") or DEFAULT_PG
    try:
        with create_engine(url, connect_args={"connect_timeout": 2}).connect() as conn:
            conn.execute(text("SELECT 1"))
        return url
    except Exception:
        if os.environ.get("TEST_DATABASE_URL") or os.environ.get("CI") == "true":
            raise
        return None


POSTGRES_BASE = _postgres_base_url()


def pytest_report_header(config):
    return [f"databases: sqlite{', postgresql' if POSTGRES_BASE else ' only (no PostgreSQL answered)'}"]


def pytest_unconfigure(config):
    # Each app a test builds stays reachable from FastAPI's caches of dependency callables, so a session
    # ends holding hundreds of MiB; Python's last collections at exit went through all of it for up to a
    # minute after the summary was printed. The process is about to end: nothing is left to collect.
    gc.freeze()


@pytest.fixture(scope="session")
def redis_server_url(tmp_path_factory):
    """The session's Redis server, without a database number."""
    external = os.environ.get("TEST_REDIS_URL")
    if external:
        url = make_url(external.replace("redis://", "postgresql://", 1))  # borrow SQLAlchemy's URL parser
        yield f"redis://{'%s@' % url.password if url.password else ''}{url.host}:{url.port or 6379}"
        return
    with EmbeddedRedis(tmp_path_factory.mktemp("redis")) as server:
        yield f"redis://127.0.0.1:{server.port}"


@pytest.fixture
def redis_url(redis_server_url):
    url = f"{redis_server_url}/{TEST_REDIS_DB if os.environ.get('TEST_REDIS_URL') else 0}"
    client = connect(url)
    client.flushdb()
    yield url
    client.flushdb()


@pytest.fixture
def redis(redis_url):
    return connect(redis_url)


def _empty_tables(url: str) -> None:
    engine = engine_for(url)
    names = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))
        else:
            for name in names:
                conn.execute(text(f"DELETE FROM {name}"))


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def postgresql_url():
    if POSTGRES_BASE is None:
        pytest.skip("no PostgreSQL server answers (set TEST_DATABASE_URL)")
    name = f"peerdigest_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_BASE, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_BASE).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    engine_for(url).dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request):
    """Runs the test once on SQLite and once on PostgreSQL."""
    url = request.getfixturevalue(f"{request.param}_url")
    _empty_tables(url)
    yield url
    _empty_tables(url)


@pytest.fixture
def one_database_url(request):
    """For tests that start processes: PostgreSQL where it runs, else SQLite."""
    url = request.getfixturevalue("postgresql_url" if POSTGRES_BASE else "sqlite_url")
    _empty_tables(url)
    yield url
    _empty_tables(url)


def make_settings(database_url: str, redis_url: str, tmp_path: Path, **overrides) -> Settings:
    values = dict(
        environment="test",
        database_url=database_url,
        redis_url=redis_url,
        data_dir=tmp_path,
        llm_base_url=None,
        embedded_redis="never",
        retry_base_delay=1,
        # Webhooks go to receivers the tests start on loopback, and are retried quickly.
        webhook_secret="test-webhook-secret",
        webhook_allowed_hosts="127.0.0.1",
        webhook_retry_delay=1,
        # Off unless a test is about rate limits: others send more than 10 queue requests a minute.
        rate_limit_enabled=False,
    )
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture
def settings(database_url, redis_url, tmp_path):
    return make_settings(database_url, redis_url, tmp_path)


@pytest.fixture
def process_settings(one_database_url, redis_url, tmp_path):
    return make_settings(one_database_url, redis_url, tmp_path)


def _seeded(settings: Settings) -> Settings:
    with session_scope(settings.database_url) as session:
        seed_demo(session)
    return settings


@pytest.fixture
def demo_school(settings):
    """Settings of a database holding the demo school (evaluation 56 in Dutch, 57 in English;
    teacher docent@example.com; students 19-26), on SQLite and on PostgreSQL."""
    return _seeded(settings)


@pytest.fixture
def process_demo_school(process_settings):
    """The demo school on one database, for tests that start real processes."""
    return _seeded(process_settings)


@pytest.fixture
def other_school_teacher(demo_school):
    """Headers of a teacher of another school than the demo school."""
    with session_scope(demo_school.database_url) as session:
        school = School(name="Andere School")
        session.add(school)
        session.flush()
        session.add(User(email="juf@andere.example", name="Juf Ander", role="teacher", school_id=school.id))
    return {"X-User-Email": "juf@andere.example"}


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that gives a child process exactly these settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LLM_", "DATABASE_", "REDIS_"))}
    for name, value in settings.model_dump().items():
        if value is not None:
            env[name.upper()] = str(value)
    return env


def run_cli(settings: Settings, *args: str, timeout: float = 120, input: str | None = None) -> subprocess.CompletedProcess:
    """Run `peerdigest ARGS` as a real process with these settings."""
    return subprocess.run(
        [sys.executable, "-m", "peerdigest", *args],
        env=settings_env(settings),
        capture_output=True,
        text=True,
        timeout=timeout,
        input=input,
        cwd=settings.data_dir,
    )


def start_cli(settings: Settings, *args: str, stderr=subprocess.DEVNULL) -> subprocess.Popen:
    """Start `peerdigest ARGS` (a worker, a scheduler) in the background with these settings; the caller stops it."""
    return subprocess.Popen(
        [sys.executable, "-m", "peerdigest", *args],
        env=settings_env(settings),
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        cwd=settings.data_dir,
    )
