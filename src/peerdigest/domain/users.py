"""The people of a school: adding teachers, admins and students by hand, listing them, ending and restoring access,
and deleting what one person gave as a reviewer.

Students usually arrive through an import; teachers and admins only come in
this way, so a school that came in through `peerdigest import` gets its
teacher here (`peerdigest users add`, `import --teacher`, or an admin's page).

People are never deleted: deleting a user would take every score and comment
they gave with them, silently changing the feedback that released summaries
were written from. Removing someone ends their access (`disable`), which can be
undone; deleting what they gave is a separate, confirmed step
(`delete_given_feedback`) that marks the summaries built on it stale.
"""

from __future__ import annotations

from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from peerdigest.db.models import Allocation, ApiToken, Evaluation, Role, School, Score, Submission, User, WebSession, utcnow
from peerdigest.domain.evaluations import mark_stale_summaries
from peerdigest.i18n import N_, Message

STAFF_ROLES = (Role.teacher, Role.admin)


class UserError(Exception):
    """The change cannot be made as asked; the message says why in words."""


class PromotionUnconfirmed(UserError):
    """Making this student a teacher or admin needs to be asked for explicitly (`promote=True`).

    Staff see the contribution factors, labels and flagged comments of every class
    of the school: a mistyped email must not hand that to a student.
    """

    def __init__(self, user: User, role: Role):
        self.user = user
        self.role = role
        super().__init__(
            Message("%(email)s is a student of %(school)s (%(name)s). As a %(role)s they would see the contribution "
                    "factors, labels and flagged comments of every class of the school; confirm to make them one.",
                    email=user.email, school=user.school.name, name=user.name, role=role.value)
        )


@dataclass(frozen=True)
class Added:
    user: User
    created: bool  # False: an existing user of the school, whose name and role were brought up to date


def normalized_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise UserError(Message("%(email)r is not an email address: %(error)s", email=email.strip(), error=str(exc))) from exc


def name_from_email(email: str) -> str:
    """A name to start with when none is given: "j.de.vries@school.nl" -> "J De Vries"."""
    local = email.strip().split("@", 1)[0]
    return " ".join(part.capitalize() for part in local.replace("_", ".").replace("-", ".").split(".") if part) or email


def add_user(
    session: Session, *, email: str, name: str | None, school: str, role: Role, promote: bool = False
) -> Added:
    """The user `email` in `school` (created when missing) with this role, and this name when given
    (otherwise an existing user keeps theirs and a new one gets one made from the email).

    An email of another school is refused: a person belongs to one school, and
    moving them would hand their feedback to that school's teachers. A student
    becomes a teacher or admin only with `promote=True` (else PromotionUnconfirmed),
    and a user whose access was ended must be enabled first.
    """
    email = normalized_email(email)
    if name is not None and not name.strip():
        raise UserError(N_("A name is needed: it is how teachers recognise the person."))
    found_school = session.scalar(select(School).where(School.name == school.strip()))
    if found_school is None:
        found_school = School(name=school.strip())
        session.add(found_school)
        session.flush()
    user = session.scalar(select(User).where(User.email == email))
    if user is not None and user.school_id != found_school.id:
        raise UserError(Message("%(email)s belongs to another school (%(school)s).", email=email, school=user.school.name))
    if user is None:
        user = User(email=email, name=(name or name_from_email(email)).strip(), role=role, school_id=found_school.id)
        session.add(user)
        session.flush()
        return Added(user, created=True)
    if user.disabled_at is not None:
        raise UserError(Message("%(name)s <%(email)s> has no access since %(date)s; enable them first.",
                                name=user.name, email=email, date=user.disabled_at.strftime("%Y-%m-%d")))
    if user.role == Role.student and role in STAFF_ROLES and not promote:
        raise PromotionUnconfirmed(user, role)
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


def user_by_email(session: Session, email: str) -> User:
    """The user with this email, whether or not they have access (signing in is `auth.user_by_email`)."""
    user = session.scalar(select(User).where(User.email == normalized_email(email)))
    if user is None:
        raise UserError(Message("There is no user %(email)r.", email=email.strip()))
    return user


def user_of_school(session: Session, school_id: int, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or user.school_id != school_id:
        raise UserError(Message("There is no user %(id)s in this school.", id=user_id))
    return user


def disable(session: Session, user: User, by: User | None) -> User:
    """End `user`'s access: they can no longer sign in, their browser sessions end and their API tokens are revoked.

    Everything they gave and received stays; `enable` gives access back. `by`
    (None: the command line) is recorded, and may not be the user themself: an
    admin who locked themself out would need the command line to get back in.
    """
    if by is not None and by.id == user.id:
        raise UserError(N_("You cannot end your own access; ask another admin."))
    if user.disabled_at is not None:
        raise UserError(Message("%(name)s has had no access since %(when)s UTC already.", name=user.name,
                                when=user.disabled_at.strftime("%Y-%m-%d %H:%M")))
    now = utcnow()
    user.disabled_at = now
    user.disabled_by_id = by.id if by is not None else None
    session.execute(
        update(WebSession).where(WebSession.user_id == user.id, WebSession.ended_at.is_(None)).values(ended_at=now)
    )
    session.execute(
        update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)).values(revoked_at=now)
    )
    session.flush()
    return user


def enable(session: Session, user: User) -> User:
    """Give a disabled user access again (they sign in anew; revoked API tokens stay revoked)."""
    if user.disabled_at is None:
        raise UserError(Message("%(name)s has access already.", name=user.name))
    user.disabled_at = None
    user.disabled_by_id = None
    session.flush()
    return user


def disabled_by(session: Session, users: list[User]) -> dict[int, User]:
    """Who ended the access of each disabled user in `users`, by the disabled user's id (absent: the command line)."""
    by_ids = {u.disabled_by_id for u in users if u.disabled_by_id is not None}
    found = {u.id: u for u in session.scalars(select(User).where(User.id.in_(by_ids)))} if by_ids else {}
    return {u.id: found[u.disabled_by_id] for u in users if u.disabled_by_id in found}


@dataclass(frozen=True)
class GivenFeedback:
    """What one person gave as a reviewer: scores (with or without a comment) in these evaluations."""

    scores: int
    comments: int
    evaluations: list[Evaluation]


def _given(user: User):
    return select(Score.id).join(Allocation, Score.allocation_id == Allocation.id).where(Allocation.reviewer_id == user.id)


def given_feedback(session: Session, user: User) -> GivenFeedback:
    rows = session.execute(
        select(func.count(Score.id), func.count(func.nullif(func.trim(func.coalesce(Score.comment, "")), "")))
        .where(Score.id.in_(_given(user)))
    ).one()
    evaluations = session.scalars(
        select(Evaluation).where(Evaluation.id.in_(select(Allocation.evaluation_id).where(Allocation.reviewer_id == user.id)))
        .order_by(Evaluation.id)
    ).all()
    return GivenFeedback(scores=rows[0], comments=rows[1], evaluations=list(evaluations))


@dataclass(frozen=True)
class DeletedFeedback:
    scores: int
    stale_summaries: int


def delete_given_feedback(session: Session, user: User) -> DeletedFeedback:
    """Delete every score and comment `user` gave as a reviewer, and their progress on the forms.

    The review pairs themselves stay (who was asked to review whom). Summaries
    written from what was deleted are marked stale, so none is released as if
    the feedback were still there.
    """
    reviewed = session.execute(
        select(Allocation.evaluation_id, Allocation.reviewee_id).where(Allocation.reviewer_id == user.id)
    ).all()
    deleted = session.execute(delete(Score).where(Score.id.in_(_given(user)))).rowcount
    session.execute(delete(Submission).where(Submission.reviewer_id == user.id))
    session.flush()
    session.expire_all()  # a bulk DELETE passes the identity map by: what was loaded is read again
    by_evaluation: dict[int, set[int]] = {}
    for evaluation_id, reviewee_id in reviewed:
        by_evaluation.setdefault(evaluation_id, set()).add(reviewee_id)
    stale = sum(mark_stale_summaries(session, evaluation_id, students) for evaluation_id, students in by_evaluation.items())
    return DeletedFeedback(scores=deleted, stale_summaries=stale)
