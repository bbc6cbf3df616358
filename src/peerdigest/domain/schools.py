"""The schools of an installation: listing them, and starting a new one with its first admin.

A school starts empty: its first admin (a teacher who also manages the
school's teachers) imports its classes and adds its other teachers.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import available_timezones

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from peerdigest.db.models import DEFAULT_TIME_ZONE, Evaluation, Role, School, User
from peerdigest.domain.users import STAFF_ROLES, UserError, add_user
from peerdigest.i18n import LANGUAGES, N_, Message

NAME_LENGTH = 200


@dataclass(frozen=True)
class SchoolRow:
    school: School
    staff: int
    students: int
    evaluations: int


def schools(session: Session) -> list[SchoolRow]:
    """Every school by name, with how many staff, students and (unarchived) evaluations it has."""
    people: dict[tuple[int, bool], int] = {}
    for school_id, role, count in session.execute(
        select(User.school_id, User.role, func.count()).group_by(User.school_id, User.role)
    ).all():
        key = (school_id, role in STAFF_ROLES)
        people[key] = people.get(key, 0) + count
    evaluations = dict(session.execute(
        select(Evaluation.school_id, func.count()).where(Evaluation.archived_at.is_(None)).group_by(Evaluation.school_id)
    ).all())
    return [
        SchoolRow(school, people.get((school.id, True), 0), people.get((school.id, False), 0), evaluations.get(school.id, 0))
        for school in session.scalars(select(School).order_by(School.name))
    ]


@dataclass(frozen=True)
class NewSchool:
    school: School
    admin: User


def create_school(
    session: Session, *, name: str, language: str, time_zone: str = DEFAULT_TIME_ZONE, admin_email: str,
    admin_name: str,
) -> NewSchool:
    """A new school and its first admin, who can sign in at once.

    Refused (UserError) when the name is taken, the language or time zone is not
    one we know, or the email belongs to someone of another school.
    """
    name = name.strip()
    if not name:
        raise UserError(N_("A school needs a name."))
    if len(name) > NAME_LENGTH:
        raise UserError(Message("A school's name has at most %(limit)s characters.", limit=NAME_LENGTH))
    if session.scalar(select(School).where(func.lower(School.name) == name.lower())) is not None:
        raise UserError(Message("There is a school called %(name)r already.", name=name))
    if language not in LANGUAGES:
        raise UserError(Message("The language is one of %(languages)s, not %(language)r.", languages=", ".join(LANGUAGES), language=language))
    if time_zone not in available_timezones():
        raise UserError(Message("%(zone)r is not a time zone; write it as Europe/Amsterdam is written.", zone=time_zone))
    school = School(name=name, language=language, time_zone=time_zone)
    session.add(school)
    session.flush()
    admin = add_user(session, email=admin_email, name=admin_name, school=name, role=Role.admin).user
    return NewSchool(school, admin)
