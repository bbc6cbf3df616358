"""Errors on pages answer a page that says what went wrong in words; the API keeps its `{"detail": ...}`.

The same access checks raise the same HTTPExceptions for pages and API routes
alike (`api/deps.py`); only how the answer looks depends on where the request went:
a page's 401 sends the browser to the sign-in page, any other error is a page.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request, status
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from peerdigest.api.validation import invalid_request
from peerdigest.i18n import N_
from peerdigest.web.pages import render

NOT_PAGES = ("/api/", "/metrics", "/healthz", "/docs", "/redoc", "/openapi.json", "/static/")

TITLES = {
    400: N_("That did not work"),
    403: N_("Not allowed"),
    404: N_("Not found"),
    409: N_("Already done"),
    413: N_("File too large"),
    422: N_("That did not work"),
    429: N_("Too many requests"),
}


def is_page(request: Request) -> bool:
    return not request.url.path.startswith(NOT_PAGES)


def _sign_in_first(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/sign-in?next={quote(target)}", status_code=status.HTTP_303_SEE_OTHER)


async def _http_error(request: Request, exc: StarletteHTTPException):
    if not is_page(request):
        return await http_exception_handler(request, exc)
    if exc.status_code == status.HTTP_401_UNAUTHORIZED:
        return _sign_in_first(request)
    user = request.state.web_session.user if getattr(request.state, "web_session", None) else None
    # The detail is the API's English message; the page shows its translation where the catalogue has one
    # (a message marked with N_() where it is raised), the English otherwise. `render` sets the language first.
    return render(
        request,
        "error.html",
        status_code=exc.status_code,
        user=user,
        title=TITLES.get(exc.status_code, N_("Something went wrong")),
        message=exc.detail,
    )


async def _invalid_input(request: Request, exc: RequestValidationError):
    """A page asked for with a value it cannot use (`?page=0`, a field over its length) is a page that says so,
    not the API's JSON; which value it was, in pydantic's English, helps nobody reading it in a browser."""
    if not is_page(request):
        return await invalid_request(request, exc)
    return await _http_error(request, StarletteHTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        N_("This page was asked for with a value it cannot use. Go back and try again."),
    ))


def install(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid_input)
