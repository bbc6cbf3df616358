"""The installation's schools (INSTALLATION_ADMINS): every school at a glance, and a new school with its first admin.

A school from zero needs no command line: the new admin signs in, imports the
school's classes and adds its teachers. How they sign in depends on AUTH_MODE,
so the page says it for the mode in use.
"""

from __future__ import annotations

from typing import Annotated
from zoneinfo import available_timezones

from fastapi import Form, Request

from peerdigest.api.deps import InstallationUser, SessionDep, SettingsDep
from peerdigest.db.models import DEFAULT_TIME_ZONE
from peerdigest.db.session import discard_writes
from peerdigest.domain.schools import create_school, schools
from peerdigest.domain.users import UserError
from peerdigest.i18n import LANGUAGES, translate
from peerdigest.web.pages import page_router, render

router = page_router()

PAGE = "/installation/schools"


def _page(request: Request, user, session, settings, status_code: int = 200, **context):
    return render(
        request, "schools.html", status_code=status_code, user=user, schools=schools(session),
        languages=LANGUAGES, time_zones=sorted(available_timezones()), default_time_zone=DEFAULT_TIME_ZONE,
        mode=settings.auth_mode.value, **context,
    )


@router.get(PAGE)
def schools_page(request: Request, user: InstallationUser, session: SessionDep, settings: SettingsDep):
    return _page(request, user, session, settings)


@router.post(PAGE)
def new_school(
    request: Request, user: InstallationUser, session: SessionDep, settings: SettingsDep,
    name: Annotated[str, Form(max_length=200)], admin_name: Annotated[str, Form(max_length=200)],
    admin_email: Annotated[str, Form(max_length=320)], language: Annotated[str, Form(max_length=2)] = "nl",
    time_zone: Annotated[str, Form(max_length=60)] = DEFAULT_TIME_ZONE,
):
    try:
        created = create_school(
            session, name=name, language=language, time_zone=time_zone, admin_email=admin_email, admin_name=admin_name
        )
    except UserError as exc:
        discard_writes(session)
        # The form again with what was typed, so one wrong field does not cost the others.
        form = {"name": name, "admin_name": admin_name, "admin_email": admin_email, "language": language,
                "time_zone": time_zone}
        return _page(request, user, session, settings, status_code=400, problem=translate(exc.args[0]), form=form)
    return _page(request, user, session, settings, created=created)

