"""Put the web app on the API's FastAPI app: static files, templates, page errors and every page's router."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from peerdigest import i18n
from peerdigest.domain.exporter import method_name
from peerdigest.domain.insights import LABELS
from peerdigest.web import (
    errors,
    evaluation_setup,
    evaluations,
    imports,
    language,
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
    i18n.install(templates.env)
    templates.env.globals.update(insight_labels=LABELS, method_name=method_name)
    app.state.templates = templates
    app.add_middleware(RequestLanguage)
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    errors.install(app)
    app.include_router(signin.router)
    app.include_router(language.router)
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
