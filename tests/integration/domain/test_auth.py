"""Signing in with an API token: what it costs the database on every request."""

from sqlalchemy import select

from peerdigest.db.models import User
from peerdigest.db.session import session_scope
from peerdigest.domain.auth import create_token, valid_token
from tests.support.statements import counted_statements


def test_a_token_and_its_owner_are_read_in_one_statement(demo_school):
    with session_scope(demo_school.database_url) as session:
        teacher = session.scalar(select(User).where(User.email == "docent@example.com"))
        secret = create_token(session, teacher, expires_in=None).secret
    with session_scope(demo_school.database_url) as session:
        valid_token(session, secret)  # the first use is recorded in a write of its own; later ones within a minute not
    with counted_statements(demo_school.database_url) as statements, session_scope(demo_school.database_url) as session:
        assert valid_token(session, secret).user.email == "docent@example.com"
    assert len(statements) == 1
