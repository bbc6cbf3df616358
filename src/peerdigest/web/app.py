"""Put the web app on the API's FastAPI app: static files, templates, page errors and every page's router."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from peerdigest import i18n
from peerdigest.domain.insights import LABELS
from peerdigest.web import errors, evaluations, events, imports, language, operations, review, school, signin, student
from peerdigest.web.pages import LANGUAGE_COOKIE, STATIC, TEMPLATES


class RequestLanguage:
    """Sets the language of everything a request writes before its route runs (messages made in Python
    included), from the chooser's cookie or the browser's; a page's user refines it with their own
    (`pages.page_user`). The API speaks English whatever the browser says: its messages are a contract."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            request = Request(scope)
            if errors.is_page(request):
                i18n.set_language(
                    i18n.negotiate(request.cookies.get(LANGUAGE_COOKIE), request.headers.get("accept-language"), None)
                )
            else:
                i18n.set_language(i18n.SOURCE_LANGUAGE)
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
        number=i18n.format_number, percent=i18n.format_percent, datetime=i18n.format_datetime, date=i18n.format_date,
        time=i18n.format_time,
        # A message made in Python (a title, a label, an error's detail: N_() or i18n.Message), translated
        # where shown; unlike `_()` it is no format string, so a `%` in a detail cannot break the page.
        translate=i18n.translate,
    )
    templates.env.globals.update(insight_labels=LABELS, language_name=i18n.language_name)
    app.state.templates = templates
    app.add_middleware(RequestLanguage)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    errors.install(app)
    app.include_router(signin.router)
    app.include_router(language.router)
    app.include_router(evaluations.router)
    app.include_router(student.router)
    app.include_router(review.router)
    app.include_router(events.router)
    app.include_router(operations.router)
    app.include_router(imports.router)
    app.include_router(school.router)
