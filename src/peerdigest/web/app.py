"""The app peerdigest serves: the API's FastAPI app with the web app on it (static files, templates,
page errors and every page's router), from settings handed in or from the environment."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from redis import Redis

from peerdigest import i18n
from peerdigest.api import app as api
from peerdigest.config import Settings, load_settings
from peerdigest.domain.exporter import method_name
from peerdigest.domain.insights import LABELS
from peerdigest.queue.connection import configured_url
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


def from_environment() -> FastAPI:
    """The app as `peerdigest api --workers N` serves it: uvicorn calls this in each of its worker processes
    (an app factory), so every process reads the settings and opens its own connections."""
    settings = load_settings()
    return create_app(settings, redis_url=configured_url(settings))


def create_app(settings: Settings, redis: Redis | None = None, redis_url: str | None = None) -> FastAPI:
    """The API with the pages on it: one app, so pages and routes share the deps, the limits and the session."""
    app = api.create_app(settings, redis=redis, redis_url=redis_url)
    install(app)
    return app


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
