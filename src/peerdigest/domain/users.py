"""The people of a school: adding teachers, admins and students by hand, listing them, removing a teacher.

Students usually arrive through an import; teachers and admins only come in
this way, so a school that came in through `peerdigest import` gets its
teacher here (`peerdigest users add`, `import --teacher`, or an admin's page).
"""

from __future__ import annotations

from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session

from peerdigest.db.models import Role, School, User


class UserError(Exception):
    """The change cannot be made as asked; the message says why in words."""


@dataclass(frozen=True)
class Added:
    user: User
    created: bool  # False: an existing user of the school, whose name and role were brought up to date


def normalized_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise UserError(f"{email.strip()!r} is not an email address: {exc}") from exc


def name_from_email(email: str) -> str:
    """A name to start with when none is given: "j.de.vries@school.nl" -> "J De Vries"."""
    local = email.strip().split("@", 1)[0]
    return " ".join(part.capitalize() for part in local.replace("_", ".").replace("-", ".").split(".") if part) or email


def add_user(session: Session, *, email: str, name: str | None, school: str, role: Role) -> Added:
    """The user `email` in `school` (created when missing) with this role, and this name when given
    (otherwise an existing user keeps theirs and a new one gets one made from the email).

    An email of another school is refused: a person belongs to one school, and
    moving them would hand their feedback to that school's teachers.
    """
    email = normalized_email(email)
    if name is not None and not name.strip():
        raise UserError("A name is needed: it is how teachers recognise the person.")
    found_school = session.scalar(select(School).where(School.name == school.strip()))
    if found_school is None:
        found_school = School(name=school.strip())
        session.add(found_school)
        session.flush()
    user = session.scalar(select(User).where(User.email == email))
    if user is not None and user.school_id != found_school.id:
        raise UserError(f"{email} belongs to another school ({user.school.name}).")
    if user is None:
        user = User(email=email, name=(name or name_from_email(email)).strip(), role=role, school_id=found_school.id)
        session.add(user)
        session.flush()
        return Added(user, created=True)
    user.role = role
    if name is not None:
        user.name = name.strip()
    session.flush()
    return Added(user, created=False)


def users_of(session: Session, school: str | None = None, roles: tuple[Role, ...] | None = None) -> list[User]:
    """Users by school and name, optionally of one school and some roles only."""
    query = select(User).join(School).order_by(School.name, User.name)
    if school is not None:
        query = query.where(School.name == school)
    if roles is not None:
        query = query.where(User.role.in_(roles))
    return list(session.scalars(query))


def remove_teacher(session: Session, school_id: int, user_id: int) -> User:
    """Remove a teacher's account from the school: they can no longer sign in, their tokens and sessions end.

    Only teachers: an admin is removed by another admin on the command line, and
    a student's account carries their feedback.
    """
    user = session.get(User, user_id)
    if user is None or user.school_id != school_id:
        raise UserError(f"There is no user {user_id} in this school.")
    if user.role != Role.teacher:
        raise UserError(f"{user.name} is a {user.role}, not a teacher; only teachers are removed here.")
    session.delete(user)
    session.flush()
    return user
