"""Signing in with an API token: what it costs the database on every request."""

from sqlalchemy import event, select

from peerdigest.db.models import User
from peerdigest.db.session import engine_for, session_scope
from peerdigest.domain.auth import create_token, valid_token


def test_a_token_and_its_owner_are_read_in_one_statement(demo_school):
    with session_scope(demo_school.database_url) as session:
        teacher = session.scalar(select(User).where(User.email == "docent@example.com"))
        secret = create_token(session, teacher, expires_in=None).secret
    with session_scope(demo_school.database_url) as session:
        valid_token(session, secret)  # the first use is recorded in a write of its own; later ones within a minute not
    statements = []
    engine = engine_for(demo_school.database_url)
    count = lambda *_: statements.append(True)  # noqa: E731
    event.listen(engine, "before_cursor_execute", count)
    try:
        with session_scope(demo_school.database_url) as session:
            owner = valid_token(session, secret).user
            assert owner.email == "docent@example.com"
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == 1
