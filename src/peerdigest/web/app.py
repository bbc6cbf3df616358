"""Put the web app on the API's FastAPI app: static files, templates, page errors and every page's router."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from peerdigest import i18n
from peerdigest.web import (
    errors,
    evaluation_setup,
    evaluations,
    imports,
    operations,
    progress,
    review,
    school,
    schools,
    signin,
    sign_in_links,
    student,
    submissions,
)
from peerdigest.web.headers import SecurityHeaders
from peerdigest.web.pages import LANGUAGE_COOKIE, STATIC, TEMPLATES


class RequestLanguage:
    """Sets the language of everything a request writes before its route runs (messages made in Python
    included), from the sign-in page's choice or the browser's; `render` refines it with the user's own."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            request = Request(scope)
            i18n.set_language(i18n.negotiate(request.cookies.get(LANGUAGE_COOKIE), request.headers.get("accept-language"), None))
        await self.app(scope, receive, send)


def install(app: FastAPI) -> None:
    templates = Jinja2Templates(directory=TEMPLATES)
    templates.env.add_extension("jinja2.ext.i18n")
    # Newstyle gettext: `{{ _("Hello %(name)s", name=user.name) }}` escapes the values it fills in.
    templates.env.install_gettext_callables(
        lambda message: i18n.translations(i18n.current_language()).gettext(message),
        lambda singular, plural, n: i18n.translations(i18n.current_language()).ngettext(singular, plural, n),
        newstyle=True,
    )
    templates.env.filters.update(
        number=i18n.format_number, datetime=i18n.format_datetime, date=i18n.format_date
    )
    app.state.templates = templates
    app.add_middleware(RequestLanguage)
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    errors.install(app)
    app.include_router(signin.router)
    app.include_router(evaluation_setup.router)  # before evaluations: /evaluations/new is no evaluation id
    app.include_router(sign_in_links.router)
    app.include_router(evaluations.router)
    app.include_router(student.router)
    app.include_router(submissions.router)
    app.include_router(review.router)
    app.include_router(operations.router)
    app.include_router(imports.router)
    app.include_router(school.router)
    app.include_router(progress.router)
    app.include_router(schools.router)
