"""The school admin's page: the school's teachers and admins, adding a teacher, ending and restoring access, and
deleting what one person gave as a reviewer.

Nothing here deletes a person: "remove" ends their access. Making a student a
teacher and deleting given feedback each ask first, on a page of their own.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request

from peerdigest.api.deps import AdminUser, CurrentUser, SchoolMember, SessionDep
from peerdigest.db.models import Role, User
from peerdigest.db.session import discard_writes
from peerdigest.domain.users import (
    STAFF_ROLES,
    PromotionUnconfirmed,
    UserError,
    add_user,
    delete_given_feedback,
    disable,
    disabled_by,
    enable,
    given_feedback,
    users_of,
)
from peerdigest.i18n import _, translate
from peerdigest.web.pages import page_router, redirect, render

router = page_router()

PAGE = "/school/teachers"


@router.get(PAGE)
def teachers(request: Request, user: AdminUser, session: SessionDep):
    staff = users_of(session, user.school.name, STAFF_ROLES)
    return render(request, "teachers.html", user=user, staff=staff, disabled_by=disabled_by(session, staff))


@router.post(PAGE)
def add_teacher(
    request: Request, user: AdminUser, session: SessionDep, email: Annotated[str, Form(max_length=320)],
    name: Annotated[str, Form(max_length=200)], promote: Annotated[bool, Form()] = False,
):
    try:
        added = add_user(session, email=email, name=name, school=user.school.name, role=Role.teacher, promote=promote)
    except PromotionUnconfirmed as exc:
        discard_writes(session)
        return render(request, "confirm_promotion.html", user=user, student=exc.user, name=name)
    except UserError as exc:
        discard_writes(session)
        return redirect(PAGE, translate(exc.args[0]), error=True)
    if added.created:
        notice = _("%(name)s <%(email)s> added as a teacher; they can sign in.", name=added.user.name, email=added.user.email)
    else:
        notice = _("%(name)s <%(email)s> is a teacher now; they can sign in.", name=added.user.name, email=added.user.email)
    return redirect(PAGE, notice)


@router.post(PAGE + "/{user_id}/disable")
def disable_access(member: SchoolMember, user: CurrentUser, session: SessionDep):
    try:
        disabled = disable(session, _staff(member), by=user)
    except UserError as exc:
        discard_writes(session)
        return redirect(PAGE, translate(exc.args[0]), error=True)
    return redirect(PAGE, _("%(name)s can no longer sign in; what they gave and received stays.", name=disabled.name))


@router.post(PAGE + "/{user_id}/enable")
def enable_access(member: SchoolMember, session: SessionDep):
    try:
        enabled = enable(session, _staff(member))
    except UserError as exc:
        discard_writes(session)
        return redirect(PAGE, translate(exc.args[0]), error=True)
    return redirect(PAGE, _("%(name)s can sign in again.", name=enabled.name))


def _staff(member: User) -> User:
    if member.role not in STAFF_ROLES:
        raise UserError(_("%(name)s is a student, not a teacher or admin of this page.", name=member.name))
    return member


@router.get(PAGE + "/{user_id}/given-feedback")
def confirm_delete_given_feedback(request: Request, person: SchoolMember, user: CurrentUser, session: SessionDep):
    return render(request, "confirm_delete_feedback.html", user=user, person=person, given=given_feedback(session, person))


@router.post(PAGE + "/{user_id}/given-feedback")
def delete_feedback(person: SchoolMember, session: SessionDep):
    deleted = delete_given_feedback(session, person)
    return redirect(PAGE, _(
        "Deleted the %(scores)s scores and comments %(name)s gave; %(stale)s summaries built on them are marked stale.",
        scores=deleted.scores, name=person.name, stale=deleted.stale_summaries,
    ))
