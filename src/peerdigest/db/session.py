"""Engines and sessions, made from the database URL a caller hands in, and the unit of work around them.

The boundary (a request, a job step, a command) owns the transaction: it opens
`session_scope`, which commits once at the end or rolls back on any error.
Code inside says what must follow the commit (`after_commit`) or that nothing
it wrote may be kept (`discard_writes`), instead of committing or rolling back itself.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

log = logging.getLogger(__name__)

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
def session_scope(url: str, busy_timeout: float = BUSY_TIMEOUT) -> Iterator[Session]:
    """A unit of work: a session that commits on success and rolls back on any error."""
    session = session_factory(url, busy_timeout)()
    try:
        yield session
        session.commit()
    finally:
        # Closing without the commit rolls the transaction back. Unlike `rollback()` it leaves what was loaded
        # readable: the error page of a failed request still shows who is signed in.
        session.close()


# --- what follows the commit --------------------------------------------------------------------------------------

_AFTER_COMMIT = "peerdigest.after_commit"


def after_commit(session: Session, action: Callable[[], object]) -> None:
    """Run `action()` right after the session's transaction commits; never when it rolls back.

    For the Redis side of "row first, then Redis": queuing a mail or a job that
    points at a row must wait until the row is in the database of record, or a
    worker could look for a row that never comes. Whoever commits (the unit of
    work's end, or a lifecycle transition that commits the caller's session on
    its way) runs the actions waiting at that moment.
    """
    session.info.setdefault(_AFTER_COMMIT, []).append(action)


def discard_writes(session: Session) -> None:
    """Drop everything written in the session's transaction so far, and the actions waiting on its commit.

    For a request refused with an answer rather than an exception (a form shown
    again with its problems): the page goes on reading the database as it was,
    and the commit at the unit of work's end keeps nothing of the refused writes.
    Said by name where it happens, not read from the status code: the unit of
    work never sees the response, and a 422 does not always mean nothing is
    kept (the form handed in incomplete keeps the answers it lists as missing).
    """
    session.info.pop(_AFTER_COMMIT, None)
    session.rollback()


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint released: the transaction the actions wait for has not committed yet
    for action in session.info.pop(_AFTER_COMMIT, []):
        # The commit has happened: a failing action cannot undo it and must not turn a kept write into an
        # error answer. What Redis missed, the reconciler and the mail pass repair from the rows.
        try:
            action()
        except Exception:
            log.exception("an action after a commit failed; the committed rows stand")


@event.listens_for(Session, "after_transaction_end")
def _forget_after_rollback(session: Session, transaction: SessionTransaction) -> None:
    # The outermost transaction ended: after a commit its actions have run, after a rollback they never will.
    if transaction.parent is None:
        session.info.pop(_AFTER_COMMIT, None)
