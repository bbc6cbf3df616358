"""Typed dependencies: settings, database session, queue connection, current user, access checks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request, status
from redis import Redis
from sqlalchemy import select
from sqlalchemy.orm import Session

from peerdigest.config import Settings
from peerdigest.db.models import Allocation, Evaluation, Role, User
from peerdigest.db.session import session_factory


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_session(request: Request) -> Iterator[Session]:
    session = session_factory(request.app.state.settings.database_url)()
    try:
        yield session
    finally:
        session.close()


def get_redis(request: Request) -> Redis:
    return request.app.state.redis


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
RedisDep = Annotated[Redis, Depends(get_redis)]


def current_user(
    session: SessionDep,
    x_user_email: Annotated[str | None, Header(description="Development authentication: a user's email")] = None,
) -> User:
    if not x_user_email:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Not signed in: send the X-User-Email header.")
    user = session.scalar(select(User).where(User.email == x_user_email.strip().lower()))
    if user is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, f"No user with email {x_user_email!r}.")
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def is_staff(user: User) -> bool:
    return user.role in (Role.teacher, Role.admin)


def visible_evaluation(session: Session, user: User, evaluation_id: int) -> Evaluation:
    """The evaluation, if it exists within the user's school.

    Another school's evaluation answers 404, exactly like a missing one, so
    nothing of another school is ever visible, not even its existence.
    """
    evaluation = session.get(Evaluation, evaluation_id)
    if evaluation is None or evaluation.school_id != user.school_id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Evaluation {evaluation_id} not found.")
    return evaluation


def evaluation_students(session: Session, evaluation_id: int) -> list[int]:
    """Ids of everyone who receives feedback in the evaluation, in a stable order."""
    return sorted(
        set(session.scalars(select(Allocation.reviewee_id).where(Allocation.evaluation_id == evaluation_id)))
    )


def check_student(session: Session, user: User, evaluation: Evaluation, student_id: int) -> None:
    """Staff may act for any student of their school's evaluation; a student only for themself (else 403)."""
    if not is_staff(user) and user.id != student_id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Students may only see and request their own summary.")
    if student_id not in evaluation_students(session, evaluation.id):
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"Student {student_id} receives no feedback in evaluation {evaluation.id}."
        )


def require_staff(user: User) -> None:
    if not is_staff(user):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Only teachers and admins may do this.")
