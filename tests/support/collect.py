"""An evaluation of the demo school that is collecting scores now, with nothing given yet."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from peerdigest.config import Settings
from peerdigest.db.models import User, utcnow
from peerdigest.db.session import session_scope
from peerdigest.domain.evaluations import CriterionSpec, create_evaluation

TEAM_NOORD = ["jan@example.com", "sanne@example.com", "mohammed@example.com", "lisa@example.com"]
TEAM_ZUID = ["daan@example.com", "emma@example.com", "noah@example.com", "fleur@example.com"]
JAN, SANNE, MOHAMMED, LISA = 19, 20, 21, 22
CRITERIA = [CriterionSpec("Collaboration", 1, 5), CriterionSpec("Effort", 1, 10)]


def open_evaluation(settings: Settings, title: str = "Sprint 2", teams: dict | None = None, **fields) -> int:
    """A two-team evaluation that opened an hour ago and closes in a week; `fields` set more (opens_at, deadline,
    self_rating, comment_required, archived_at...)."""
    with session_scope(settings.database_url) as session:
        school_id = session.scalar(select(User.school_id).where(User.email == TEAM_NOORD[0]))
        evaluation = create_evaluation(
            session, school_id=school_id, title=title, language="en", deadline=utcnow() + timedelta(days=7),
            criteria=CRITERIA, teams=teams or {"Team Noord": TEAM_NOORD, "Team Zuid": TEAM_ZUID},
        )
        evaluation.opens_at = utcnow() - timedelta(hours=1)
        for name, value in fields.items():
            setattr(evaluation, name, value)
        session.flush()
        return evaluation.id
