"""The school admin's page: the school's teachers and admins, adding a teacher and removing one."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request

from peerdigest.api.deps import SessionDep
from peerdigest.api.schemas import PathId
from peerdigest.db.models import Role
from peerdigest.domain.users import UserError, add_user, remove_teacher, users_of
from peerdigest.web.pages import AdminPageUser, page_router, redirect, render

router = page_router()

PAGE = "/school/teachers"


@router.get(PAGE)
def teachers(request: Request, user: AdminPageUser, session: SessionDep):
    staff = users_of(session, user.school.name, (Role.teacher, Role.admin))
    return render(request, "teachers.html", user=user, staff=staff)


@router.post(PAGE)
def add_teacher(
    user: AdminPageUser, session: SessionDep, email: Annotated[str, Form(max_length=320)],
    name: Annotated[str, Form(max_length=200)],
):
    try:
        added = add_user(session, email=email, name=name, school=user.school.name, role=Role.teacher)
    except UserError as exc:
        session.rollback()
        return redirect(PAGE, str(exc), error=True)
    session.commit()
    verb = "added as a teacher" if added.created else "is a teacher now"
    return redirect(PAGE, f"{added.user.name} <{added.user.email}> {verb}; they can sign in.")


@router.post(PAGE + "/{user_id}/remove")
def remove(user_id: PathId, user: AdminPageUser, session: SessionDep):
    try:
        removed = remove_teacher(session, user.school_id, user_id)
    except UserError as exc:
        session.rollback()
        return redirect(PAGE, str(exc), error=True)
    session.commit()
    return redirect(PAGE, f"Removed {removed.name}: they can no longer sign in.")
