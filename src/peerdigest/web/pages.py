"""What every page shares: the router to put it on, who is signed in, rendering, and the navigation.

A new page is a route on a router from `page_router()` (which lets only a
signed-in browser in) that declares who may open it with the API's own
dependencies (`CurrentUser`, `StaffUser`, `StaffEvaluation`, `OwnStudent`, ...
from `api/deps.py`) and returns `render(request, "its_template.html", ...)`;
its template extends `base.html`. A link in the navigation is one `NavLink` in `NAV`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from peerdigest import i18n
from peerdigest.i18n import N_
from peerdigest.api.deps import Identity
from peerdigest.config import AuthMode, Settings
from peerdigest.db.models import Role, User
from peerdigest.domain import auth

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
FLASH_COOKIE = "peerdigest_flash"
# The language chosen on the sign-in page, before anyone is signed in (a signed-in user's is their own setting).
LANGUAGE_COOKIE = "peerdigest_language"


@dataclass(frozen=True)
class NavLink:
    label: str
    path: str
    roles: tuple[str, ...]  # who sees the link
    installation: bool = False  # only the installation's administrators (INSTALLATION_ADMINS) see it

    def shown_to(self, user: User, settings: Settings) -> bool:
        if self.installation:
            return auth.sees_installation(user, settings)
        return user.role in self.roles


NAV: tuple[NavLink, ...] = (
    NavLink(N_("Evaluations"), "/evaluations", (Role.teacher, Role.admin)),
    NavLink(N_("Import"), "/import", (Role.teacher, Role.admin)),
    NavLink(N_("My evaluations"), "/my-evaluations", (Role.student,)),
    NavLink(N_("My summaries"), "/my-summaries", (Role.student,)),
    NavLink(N_("Teachers"), "/school/teachers", (Role.admin,)),
    NavLink(N_("Operations"), "/operations", (), installation=True),
    NavLink(N_("Schools"), "/installation/schools", (), installation=True),
)
# A role as the pages name it (base.html translates it).
ROLE_NAMES = (N_("teacher"), N_("student"), N_("admin"))


def templates(request: Request) -> Jinja2Templates:
    return request.app.state.templates


async def page_user(request: Request, identity: Identity) -> User:
    """The signed-in user of a page, with the browser session that holds the page's form token (else 401,
    which `web/errors.py` answers with the sign-in page).

    It also sets the language the page and its notices are written in (the user's own first). It is
    async so that this happens in the request's own context, which the route then runs in: a sync
    dependency runs in a copy of it, and what it sets would be lost.

    In proxy mode the proxy's header names the user on every request; the
    browser session must belong to that same user (else the sign-in page makes
    a new one), so a change of user at the proxy never shows another's pages.
    """
    browser = getattr(request.state, "web_session", None)
    if isinstance(identity, auth.NotAuthenticated) or browser is None or browser.user_id != identity.id:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, N_("Please sign in"))
    i18n.set_language(page_language(request, identity))
    return identity


# A page's own credential is the browser's session; who may open the page is the API's dependencies' question.
SignedIn = Depends(page_user)


def page_router(*, signed_in: bool = True) -> APIRouter:
    """A router for pages: HTML answers, kept out of the API's OpenAPI document, and only for a
    signed-in browser (`page_user`), before any access a page declares; `signed_in=False` for the
    pages of signing in and out."""
    return APIRouter(
        include_in_schema=False,
        default_response_class=HTMLResponse,
        dependencies=[SignedIn] if signed_in else [],
    )


def render(request: Request, template: str, status_code: int = 200, **context) -> HTMLResponse:
    """The page `template` with what `base.html` needs: the user, the navigation, the form token, a notice."""
    browser = getattr(request.state, "web_session", None)
    user: User | None = context.get("user")
    flash = request.cookies.get(FLASH_COOKIE)
    i18n.set_language(page_language(request, user))
    response = templates(request).TemplateResponse(
        request,
        template,
        {
            "nav": [link for link in NAV if user is not None and link.shown_to(user, request.app.state.settings)],
            "csrf_token": browser.csrf_token if browser is not None else "",
            "dev_sign_in": request.app.state.settings.auth_mode == AuthMode.dev,
            "notice": _unflash(flash) if flash else None,
            "path": request.url.path,
            "language": i18n.current_language(),
            "time_zone": user.school.time_zone if user is not None else None,
            **context,
        },
        status_code=status_code,
    )
    if flash:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def page_language(request: Request, user: User | None) -> str:
    """The language a page is written in: the user's own choice, else the browser's, else the school's."""
    return i18n.negotiate(
        user.language if user is not None else request.cookies.get(LANGUAGE_COOKIE),
        request.headers.get("accept-language"),
        user.school.language if user is not None else None,
    )


def local_path(target: str | None) -> str | None:
    """Only a path of this site: `next=https://elsewhere` must not turn a form into a redirector."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def redirect(path: str, notice: str | None = None, error: bool = False) -> RedirectResponse:
    """Go to `path` after a form (303: the browser then GETs it), showing `notice` there once."""
    response = RedirectResponse(path, status_code=status.HTTP_303_SEE_OTHER)
    if notice:
        response.set_cookie(FLASH_COOKIE, quote(("!" if error else "") + notice), path="/", httponly=True, samesite="lax")
    return response


@dataclass(frozen=True)
class Notice:
    text: str
    error: bool


def _unflash(value: str) -> Notice:
    text = unquote(value)
    return Notice(text.removeprefix("!"), text.startswith("!"))
