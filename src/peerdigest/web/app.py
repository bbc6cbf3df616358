"""Put the web app on the API's FastAPI app: static files, templates, page errors and every page's router."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from peerdigest.web import errors, evaluations, events, imports, operations, review, school, signin, student
from peerdigest.web.pages import STATIC, TEMPLATES


def install(app: FastAPI) -> None:
    app.state.templates = Jinja2Templates(directory=TEMPLATES)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    errors.install(app)
    app.include_router(signin.router)
    app.include_router(evaluations.router)
    app.include_router(student.router)
    app.include_router(review.router)
    app.include_router(events.router)
    app.include_router(operations.router)
    app.include_router(imports.router)
    app.include_router(school.router)
