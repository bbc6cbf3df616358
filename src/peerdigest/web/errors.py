"""Errors on pages answer a page that says what went wrong in words; the API keeps its `{"detail": ...}`.

The same access checks raise the same HTTPExceptions for pages and API routes
alike (`api/deps.py`); only how the answer looks depends on where the request went.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request, status
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from peerdigest.web.pages import SignInRequired, render

NOT_PAGES = ("/api/", "/metrics", "/healthz", "/docs", "/redoc", "/openapi.json", "/static/")

TITLES = {
    400: "That did not work",
    401: "Please sign in",
    403: "Not allowed",
    404: "Not found",
    409: "Already done",
    413: "File too large",
    422: "That did not work",
    429: "Too many requests",
}


def is_page(request: Request) -> bool:
    return not request.url.path.startswith(NOT_PAGES)


async def _sign_in_first(request: Request, exc: SignInRequired) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/sign-in?next={quote(target)}", status_code=status.HTTP_303_SEE_OTHER)


async def _http_error(request: Request, exc: StarletteHTTPException):
    if not is_page(request):
        return await http_exception_handler(request, exc)
    user = request.state.web_session.user if getattr(request.state, "web_session", None) else None
    return render(
        request,
        "error.html",
        status_code=exc.status_code,
        user=user,
        title=TITLES.get(exc.status_code, "Something went wrong"),
        message=exc.detail,
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(SignInRequired, _sign_in_first)
    app.add_exception_handler(StarletteHTTPException, _http_error)
