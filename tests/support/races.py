"""A race of two requests made to happen every time: the other request's insert lands first."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from peerdigest.config import Settings
from peerdigest.db.models import User, utcnow
from peerdigest.db.session import session_scope


@contextmanager
def student_added_meanwhile(settings: Settings, email: str, name: str) -> Iterator[list[bool]]:
    """Just before this process's first flush that would insert the student `email`, another session adds and commits
    them in the demo school: what a form or file sent twice at once does. The list yielded says whether it happened."""
    raced: list[bool] = []

    def the_other_request_first(session, _context, _instances):
        if not raced and any(isinstance(o, User) and o.email == email for o in session.new):
            raced.append(True)
            with session_scope(settings.database_url) as other:
                school_id = other.scalar(select(User.school_id).where(User.email == "jan@example.com"))
                other.add(User(email=email, name=name, role="student", school_id=school_id, created_at=utcnow()))

    event.listen(Session, "before_flush", the_other_request_first)
    try:
        yield raced
    finally:
        event.remove(Session, "before_flush", the_other_request_first)
