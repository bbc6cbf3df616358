"""Counting the statements a piece of code sends to the database, for tests of what a request costs."""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from peerdigest.db.session import engine_for


@contextmanager
def counted_statements(database_url: str) -> Iterator[list[str]]:
    """The SQL of every statement sent on `database_url`'s engine while the block runs, in order."""
    sent: list[str] = []
    engine = engine_for(database_url)

    def count(_connection, _cursor, statement, *_):
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", count)
