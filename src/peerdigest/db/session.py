"""Engines and sessions, made from the database URL a caller hands in."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

# How long a write waits for SQLite's one write lock before it fails with "database is locked"
# (PostgreSQL locks rows, not the file, and has no such wait). Workers, the scheduler and the
# command line wait long: a worker holding a written summary must not lose it to a busy moment.
BUSY_TIMEOUT = 30.0
# The API answers sooner: 503 with Retry-After after 5 s, well before a client's own timeout
# (often 30 s) turns a busy moment into an error the client cannot tell from a crash.
API_BUSY_TIMEOUT = 5.0

# One engine (and pool) per URL, wait and process. Keyed by URL rather than a single
# global, so tests and tools point elsewhere simply by passing another URL.
_engines: dict[tuple[str, float], Engine] = {}


def engine_for(url: str, busy_timeout: float = BUSY_TIMEOUT) -> Engine:
    engine = _engines.get((url, busy_timeout))
    if engine is None:
        engine = _engines[(url, busy_timeout)] = _create(url, busy_timeout)
    return engine


def _create(url: str, busy_timeout: float) -> Engine:
    if url.startswith("sqlite"):
        # sqlite3's `timeout` is SQLite's busy timeout.
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": busy_timeout})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets the API read while a worker writes; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _forget_inherited_pools() -> None:
    # A worker forks its work horse (`queue.horse`); the child must not reuse the parent's
    # database sockets, so it drops the pools without closing the parent's connections.
    for engine in _engines.values():
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_inherited_pools)


# One session factory per engine: each `sessionmaker` makes a Session class of its own, whose
# event dispatch SQLAlchemy sets up again on first use (about 1 ms, on every request and job).
_factories: dict[tuple[str, float], sessionmaker[Session]] = {}


def session_factory(url: str, busy_timeout: float = BUSY_TIMEOUT) -> sessionmaker[Session]:
    engine = engine_for(url, busy_timeout)
    factory = _factories.get((url, busy_timeout))
    if factory is None or factory.kw["bind"] is not engine:
        factory = _factories[(url, busy_timeout)] = sessionmaker(engine, expire_on_commit=False)
    return factory


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    session = session_factory(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
