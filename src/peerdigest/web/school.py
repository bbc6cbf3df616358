"""The school admin's page: the school's teachers and admins, adding a teacher and removing one."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request

from peerdigest.api.deps import SessionDep
from peerdigest.api.schemas import PathId
from peerdigest.db.models import Role
from peerdigest.domain.users import UserError, add_user, remove_teacher, users_of
from peerdigest.i18n import _, translate
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
        return redirect(PAGE, translate(exc.args[0]), error=True)
    session.commit()
    told = (
        _("%(name)s <%(email)s> added as a teacher; they can sign in.", name=added.user.name, email=added.user.email)
        if added.created
        else _("%(name)s <%(email)s> is a teacher now; they can sign in.", name=added.user.name, email=added.user.email)
    )
    return redirect(PAGE, told)


@router.post(PAGE + "/{user_id}/remove")
def remove(user_id: PathId, user: AdminPageUser, session: SessionDep):
    try:
        removed = remove_teacher(session, user.school_id, user_id)
    except UserError as exc:
        session.rollback()
        return redirect(PAGE, translate(exc.args[0]), error=True)
    session.commit()
    return redirect(PAGE, _("Removed %(name)s: they can no longer sign in.", name=removed.name))
